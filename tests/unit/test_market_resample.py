"""Resampling: session-anchored bins, partial last bins, no session crossing, no invented bars."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.clock import IST, nse_calendar
from core.errors import ConfigError
from core.market.bars import BarSeries
from core.market.loader import load_bars
from core.market.resample import resample
from core.market.synthetic import generate_series

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bars"


def groupby_reference(series: BarSeries, minutes: int) -> pd.DataFrame:
    """The same aggregation done the obvious way: bins counted from each day's session open."""
    f = series.frame
    cal = nse_calendar()
    opens = {d: cal.session(d).open for d in sorted(set(f.index.date))}
    anchor = pd.DatetimeIndex([opens[d] for d in f.index.date]).tz_convert(IST)
    width = pd.Timedelta(minutes=minutes)
    key = anchor + ((f.index - anchor) // width) * width
    out = f.groupby(key).agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
    )
    out.index = out.index.as_unit("ns").rename(f.index.name)
    return out


def ist(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=IST)


@pytest.mark.parametrize("minutes", [3, 5, 15, 30, 60])
def test_resample_equals_a_plain_groupby(minutes):
    # 2021-11-04 is a Muhurat evening (18:15-19:15) and 2021-02-24 an extended day (to 17:00)
    one = generate_series("X", dt.date(2021, 2, 23), 3, seed=5).frame
    two = generate_series("X", dt.date(2021, 11, 3), 3, seed=6).frame
    series = BarSeries("X", pd.concat([one, two]), 1)
    got = resample(series, minutes)
    assert got.interval_minutes == minutes
    pd.testing.assert_frame_equal(got.frame, groupby_reference(series, minutes), check_freq=False)


def test_five_minute_bins_from_the_vendor_minutes():
    series = load_bars(FIXTURES / "vendor_ACME.txt").get("ACME")
    five = resample(series, 5)
    assert len(five) == 150
    first = five.frame.iloc[0]
    minutes = series.frame.iloc[:5]
    assert five.frame.index[0] == ist("2024-03-07 09:15")
    assert first["open"] == minutes["open"].iloc[0] and first["close"] == minutes["close"].iloc[-1]
    assert first["high"] == minutes["high"].max() and first["low"] == minutes["low"].min()
    assert first["volume"] == minutes["volume"].sum()
    assert five.frame.index[75] == ist("2024-03-11 09:15")


def test_hourly_bins_start_at_the_open_and_keep_the_partial_last_bin():
    series = load_bars(FIXTURES / "vendor_ACME.txt").get("ACME")
    hourly = resample(series, 60).between(dt.date(2024, 3, 7), dt.date(2024, 3, 7))
    assert [t.strftime("%H:%M") for t in hourly.frame.index] == [
        "09:15",
        "10:15",
        "11:15",
        "12:15",
        "13:15",
        "14:15",
        "15:15",
    ]
    last = hourly.frame.iloc[-1]
    tail = series.frame.loc[ist("2024-03-07 15:15") : ist("2024-03-07 15:29")]
    assert len(tail) == 15
    assert last["open"] == tail["open"].iloc[0] and last["close"] == tail["close"].iloc[-1]


def test_bins_never_cross_sessions_and_muhurat_gets_its_own_anchor():
    series = load_bars(FIXTURES / "muhurat_1min.csv").get("ACME")
    hourly = resample(series, 60)
    assert list(hourly.frame.index) == [ist("2024-11-01 18:00")]
    assert hourly.frame["volume"].iloc[0] == series.frame["volume"].sum()


def test_gaps_produce_no_bars():
    series = load_bars(FIXTURES / "gap_5min.csv").get("ACME")
    quarter = resample(series, 15)
    times = [t.strftime("%H:%M") for t in quarter.frame.index]
    assert "11:00" not in times and "11:45" not in times
    assert "10:45" in times and "12:00" in times
    assert len(quarter) == 25 - 4


def test_bin_is_labelled_by_its_start_even_when_its_first_minute_is_missing():
    series = load_bars(FIXTURES / "vendor_ACME.txt").get("ACME")
    frame = series.frame.drop(index=[ist("2024-03-07 09:15"), ist("2024-03-07 09:16")])
    five = resample(BarSeries("ACME", frame, 1), 5)
    assert five.frame.index[0] == ist("2024-03-07 09:15")
    assert five.frame["open"].iloc[0] == frame["open"].iloc[0]


def test_resample_refuses_targets_that_are_not_multiples():
    series = load_bars(FIXTURES / "canonical_start_5min.csv").get("ACME")
    with pytest.raises(ConfigError, match="multiple of 5") as err:
        resample(series, 7)
    assert err.value.where == "resample ACME"
    with pytest.raises(ConfigError):
        resample(series, 0)
    same = resample(series, 5)
    pd.testing.assert_frame_equal(same.frame, series.frame)
    fifteen = resample(series, 15)
    assert len(fifteen) == 50
    assert np.all(fifteen.frame.index.minute % 15 == 0)
