"""The loader against the real NSE files in ../shared/market-data/nse and their known defects.

The expectations come from that folder's README ("Data-quality issues"): end-labelled
1-minute index bars with 09:08 pre-open and 15:31+ closing rows, four feed gaps, the
2021-02-24 outage and extended session, two Muhurat evenings; and yfinance 5-minute stock bars
in UTC with float32 renderings and zero-volume 09:15 bars.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd
import pytest

from core.clock import IST
from core.market.loader import load_many

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
NSE = REPO.parent / "shared" / "market-data" / "nse"
INDEX_FILES = sorted((NSE / "d3v-S_OHLCData" / "data").glob("*.txt"))
STOCK_FILES = sorted((NSE / "swastiverma77_StocksTrading_Dashboard" / "data").glob("*_5min.csv"))

if len(INDEX_FILES) != 50 or len(STOCK_FILES) != 6:
    pytest.skip(
        f"real NSE data not found at {NSE} (expected 50 index files and 6 stock files)",
        allow_module_level=True,
    )

MUHURAT = (dt.date(2021, 11, 4), dt.date(2022, 10, 24))
OUTAGE = dt.date(2021, 2, 24)
GAPS = {
    "NIFTY": [
        "2021-02-24 10:08–15:45 (336 bars, 2 runs)",
        "2021-07-23 11:42–13:29 (41 bars, 6 runs)",
        "2021-11-01 11:58–12:02 (4 bars)",
        "2022-01-21 14:32–14:45 (13 bars)",
        "2022-03-07 09:37–10:25 (40 bars, 5 runs)",
    ],
    "BANKNIFTY": [
        "2021-02-24 10:08–15:45 (335 bars, 3 runs)",  # its stray 15:22 row is a bar inside the day
        "2021-07-23 11:42–13:29 (41 bars, 6 runs)",
        "2021-11-01 11:58–12:02 (4 bars)",
        "2022-01-21 14:32–14:45 (13 bars)",
        "2022-03-07 09:37–10:56 (77 bars, 2 runs)",
    ],
}


@pytest.fixture(scope="module")
def index_load():
    began = time.perf_counter()
    result = load_many(INDEX_FILES)
    return result, time.perf_counter() - began


@pytest.fixture(scope="module")
def stock_load():
    return load_many(STOCK_FILES)


def test_all_fifty_index_files_load_quickly_as_end_labelled_minutes(index_load):
    result, took = index_load
    assert result.symbols == ["BANKNIFTY", "NIFTY"]
    assert took < 10.0, f"loading 50 files took {took:.1f}s"
    report = result.report
    assert report.rows_read == 194_423 + 194_393
    label = next(n for n in report.notes if n.startswith("bar labels"))
    assert label.startswith("bar labels: end-labelled (detected: 0 rows at the session open")
    assert "shifted back by 1 minute" in label and label.endswith("[all 50 files]")
    assert report.errors == []
    assert {i.kind for i in report.warnings} == {"gap"}


@pytest.mark.parametrize("symbol", ["NIFTY", "BANKNIFTY"])
def test_sessions_follow_the_calendar(index_load, symbol):
    series = index_load[0].get(symbol)
    frame = series.frame
    per_day = frame.groupby(frame.index.date).size()
    assert len(per_day) == 517
    regular = [d for d in per_day.index if d not in MUHURAT]
    assert len(regular) == 515
    first = frame.groupby(frame.index.date).apply(lambda f: f.index[0].strftime("%H:%M"))
    assert (first[regular] == "09:15").all()
    for day in MUHURAT:
        bars = frame.loc[frame.index.date == day]
        assert len(bars) == 60
        assert bars.index[0] == pd.Timestamp(f"{day} 18:15", tz=IST)
        assert bars.index[-1] == pd.Timestamp(f"{day} 19:14", tz=IST)
    gap_days = {dt.date.fromisoformat(g[:10]) for g in GAPS[symbol]}
    full = [d for d in regular if d not in gap_days]
    assert (per_day[full] == 375).all()
    last = frame.groupby(frame.index.date).apply(lambda f: f.index[-1].strftime("%H:%M"))
    assert (last[full] == "15:29").all()


@pytest.mark.parametrize("symbol", ["NIFTY", "BANKNIFTY"])
def test_known_gaps_are_reported_with_their_ranges(index_load, symbol):
    (gap,) = index_load[0].report.find("gap", symbol)
    assert gap.examples == GAPS[symbol]
    assert gap.count == sum(int(g.split("(")[1].split()[0]) for g in GAPS[symbol])


@pytest.mark.parametrize(("symbol", "kept"), [("NIFTY", 129), ("BANKNIFTY", 130)])
def test_outage_day_and_muhurat_evenings_are_special_sessions(index_load, symbol, kept):
    (special,) = index_load[0].report.find("special_session", symbol)
    assert special.examples == [
        f"2021-02-24 09:15–17:00 (extended session, 90 min after 15:30; {kept} bars kept)",
        "2021-11-04 18:15–19:15 (Muhurat session; 60 bars kept)",
        "2022-10-24 18:15–19:15 (Muhurat session; 60 bars kept)",
    ]
    outage = index_load[0].get(symbol).frame.loc[lambda f: f.index.date == OUTAGE]
    assert outage.index[52] == pd.Timestamp("2021-02-24 10:07", tz=IST)  # the feed froze here
    assert outage.index[-1] == pd.Timestamp("2021-02-24 16:59", tz=IST)


def test_pre_open_and_post_close_rows_are_excluded(index_load):
    report = index_load[0].report
    (pre,) = report.find("pre_open")
    (post,) = report.find("post_close")
    assert pre.count == 2 * 517  # one 09:08 (or 09:09) row a day; 18:08 on Muhurat evenings
    assert all(e.split()[-3] in ("09:08", "09:09") for e in pre.examples)
    assert report.rows_read - report.bars_kept == pre.count + post.count
    assert report.find("outside_hours") == [] and report.find("non_trading_day") == []
    assert report.find("missing_day") == []  # every weekday absent is a published holiday


def test_no_false_outliers_and_the_largest_move_is_the_known_one(index_load):
    report = index_load[0].report
    assert report.find("outlier") == []
    (moves,) = report.find("largest_moves", "NIFTY")
    assert moves.examples[0].startswith("2023-01-30 09:20 +0.62%")
    (gaps,) = report.find("overnight_gap", "NIFTY")
    assert gaps.severity == "info"
    assert gaps.examples[0] == "2022-02-24 open 16606.5 vs previous close 17054.7 (-2.63%)"
    (zero,) = report.find("zero_volume", "NIFTY")
    assert "volume is 0 on every bar" in zero.message


def test_yfinance_stock_files(stock_load):
    result = stock_load
    assert result.symbols == ["HDFCBANK", "ICICIBANK", "INFY", "RELIANCE", "SBIN", "TCS"]
    report = result.report
    assert report.errors == [] and report.warnings == []
    assert any(
        n.startswith("bar labels: start-labelled (detected: 132 rows at the session open, 0 at")
        for n in report.notes
    )
    assert any("UTC offset (+00:00)" in n for n in report.notes)
    for series in result.series:
        frame = series.frame
        assert series.interval_minutes == 5 and len(frame) == 1650
        days = frame.groupby(frame.index.date)
        assert len(days) == 22
        assert (days.size() == 75).all()
        assert set(days.apply(lambda f: f.index[0].strftime("%H:%M"))) == {"09:15"}
        assert set(days.apply(lambda f: f.index[-1].strftime("%H:%M"))) == {"15:25"}
        assert dt.date(2026, 5, 28) not in set(frame.index.date)  # Bakri Id: a holiday, not missing
        ticks = (frame[["open", "high", "low", "close"]] / 0.05).to_numpy()
        assert abs(ticks - ticks.round()).max() < 1e-6  # float32 renderings read as grid prices
        (f32,) = report.find("float32", series.symbol)
        assert f32.severity == "info" and f32.count > 4000
        (zero,) = report.find("zero_volume", series.symbol)
        assert zero.severity == "info"
        assert (frame.loc[frame["volume"] == 0].index.strftime("%H:%M") == "09:15").sum() >= 21
    assert report.find("zero_volume", "TCS")[0].message.startswith(
        "22 bars have volume 0, 22 of them"
    )
    infy = result.get("INFY").frame
    assert infy.loc[pd.Timestamp("2026-06-19 09:15", tz=IST), "open"] == 1057.8
