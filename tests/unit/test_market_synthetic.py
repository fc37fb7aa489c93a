"""The synthetic market: deterministic, valid, on the grid and the calendar, with regime character."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.clock import IST, nse_calendar
from core.market.loader import load_bars, load_many
from core.market.sessions import SessionTable
from core.market.synthetic import (
    CHOP,
    DEMO_SPECS,
    HIGH_VOL,
    TREND,
    _regimes,
    generate_series,
    write_demo_data,
)

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def daily(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby(frame.index.date).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last")
    )


def test_same_seed_same_bars_other_seed_other_bars():
    a = generate_series("X", dt.date(2024, 1, 1), 10, seed=42)
    b = generate_series("X", dt.date(2024, 1, 1), 10, seed=42)
    c = generate_series("X", dt.date(2024, 1, 1), 10, seed=43)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert not a.frame["close"].equals(c.frame["close"])


@pytest.mark.parametrize("regime", ["trend", "chop", "high_vol", "mixed"])
def test_bars_are_valid_on_the_grid_and_positive(regime):
    s = generate_series(
        "X", dt.date(2023, 6, 1), 30, seed=1, regime=regime, start_price=300.0, tick=0.05
    )
    f = s.frame
    assert (f["low"] <= f[["open", "close"]].min(axis=1)).all()
    assert (f["high"] >= f[["open", "close"]].max(axis=1)).all()
    assert (f[["open", "high", "low", "close"]] > 0).all().all()
    ticks = f[["open", "high", "low", "close"]].to_numpy() / 0.05
    np.testing.assert_allclose(ticks, np.round(ticks), atol=1e-6)
    assert (f["volume"] > 0).all() and (f["volume"] == np.round(f["volume"])).all()
    assert (f["high"] > f["low"]).mean() > 0.95


def test_bars_follow_the_nse_calendar():
    s = generate_series("X", dt.date(2021, 11, 1), 5, seed=2)
    cal = nse_calendar()
    sessions = cal.sessions(dt.date(2021, 11, 1), dt.date(2021, 11, 30))[:5]
    assert s.days == [x.day for x in sessions]  # 2021-11-05 (holiday) skipped
    counts = s.frame.groupby(s.frame.index.date).size()
    assert counts[dt.date(2021, 11, 1)] == 375
    assert counts[dt.date(2021, 11, 4)] == 60  # the Muhurat evening, 18:15-19:15
    day = s.frame.loc[s.frame.index.date == dt.date(2021, 11, 1)]
    assert day.index[0] == pd.Timestamp("2021-11-01 09:15", tz=IST)
    assert day.index[-1] == pd.Timestamp("2021-11-01 15:29", tz=IST)
    muhurat = s.frame.loc[s.frame.index.date == dt.date(2021, 11, 4)]
    assert muhurat.index[0] == pd.Timestamp("2021-11-04 18:15", tz=IST)


def test_a_start_on_a_holiday_begins_at_the_next_session():
    s = generate_series("X", dt.date(2024, 3, 8), 1, seed=2)  # Mahashivratri
    assert s.days == [dt.date(2024, 3, 11)]


def test_trend_moves_further_for_its_range_than_chop():
    trend = daily(generate_series("X", dt.date(2023, 1, 2), 60, seed=9, regime="trend").frame)
    chop = daily(generate_series("X", dt.date(2023, 1, 2), 60, seed=9, regime="chop").frame)

    def efficiency(d):
        return ((d["close"] - d["open"]).abs() / (d["high"] - d["low"])).mean()

    assert efficiency(trend) > 1.8 * efficiency(chop)


def test_high_vol_is_more_volatile():
    def minute_sd(regime):
        f = generate_series("X", dt.date(2023, 1, 2), 20, seed=4, regime=regime).frame
        return np.log(f["close"]).diff().std()

    assert minute_sd("high_vol") > 1.5 * minute_sd("trend")
    assert minute_sd("high_vol") > 1.5 * minute_sd("chop")


def test_mixed_switches_regimes_within_and_between_days():
    rng = np.random.default_rng(0)
    reg = _regimes(rng, "mixed", 375 * 20).reshape(20, 375)
    within = [len(np.unique(day)) for day in reg]
    assert max(within) >= 2  # some days change regime
    assert set(reg[:, 0]) == {TREND, CHOP, HIGH_VOL}  # days start in different regimes
    assert (
        len(
            np.unique(
                generate_series(
                    "X", dt.date(2024, 1, 1), 1, seed=1, regime="trend"
                ).frame.index.date
            )
        )
        == 1
    )


def test_volatility_is_u_shaped_within_the_day():
    f = generate_series("X", dt.date(2023, 1, 2), 60, seed=8, regime="trend").frame
    r = np.log(f["close"]).diff().abs()
    minute = f.index.hour * 60 + f.index.minute
    opening = r[(minute >= 9 * 60 + 16) & (minute < 9 * 60 + 30)].mean()
    midday = r[(minute >= 12 * 60) & (minute < 13 * 60)].mean()
    closing = r[(minute >= 15 * 60 + 15)].mean()
    assert opening > 1.5 * midday and closing > midday


def test_overnight_gaps_are_occasionally_large():
    f = generate_series("X", dt.date(2022, 1, 3), 200, seed=12).frame
    d = daily(f)
    gaps = (d["open"] / d["close"].shift(1) - 1).dropna().abs()
    assert gaps.max() > 0.015
    assert gaps.median() < 0.006


def test_other_intervals_and_ticks():
    s = generate_series(
        "X", dt.date(2024, 1, 1), 3, seed=1, interval_minutes=5, tick=0.01, start_price=120.0
    )
    assert s.interval_minutes == 5
    assert len(s) == 3 * 75
    cents = s.frame[["open", "high", "low", "close"]].to_numpy() * 100
    np.testing.assert_allclose(cents, np.round(cents), atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="regime"):
        generate_series("X", dt.date(2024, 1, 1), 3, seed=1, regime="sideways")
    with pytest.raises(ValueError):
        generate_series("X", dt.date(2024, 1, 1), 0, seed=1)


def test_two_thousand_sessions_are_fast():
    SessionTable.between(dt.date(2015, 1, 1), dt.date(2023, 12, 31))  # warm the calendar
    began = time.perf_counter()
    s = generate_series("X", dt.date(2015, 1, 1), 2000, seed=1)
    took = time.perf_counter() - began
    assert len(s) > 745_000
    assert took < 2.0, f"2,000 sessions took {took:.2f}s"


def test_synthetic_data_loads_cleanly(tmp_path):
    written = write_demo_data(tmp_path)
    assert [p.name for p in written] == [f"{spec[0]}.csv" for spec in DEMO_SPECS]
    result = load_many(written)
    assert result.symbols == sorted(spec[0] for spec in DEMO_SPECS)
    assert result.report.errors == [] and result.report.warnings == []
    assert all(len(s) == 20 * 375 for s in result.series)


def test_bundled_demo_files_are_what_write_demo_data_produces(tmp_path):
    written = write_demo_data(tmp_path)
    for path in written:
        bundled = DEMO / path.name
        assert bundled.exists(), f"{bundled} missing: run write_demo_data('resources/demo')"
        assert bundled.read_bytes() == path.read_bytes(), (
            f"{bundled.name} differs from write_demo_data(): regenerate resources/demo"
        )
    assert sum((DEMO / p.name).stat().st_size for p in written) < 3_000_000


def test_demo_symbols_are_in_the_instrument_master():
    series = load_bars(DEMO / "DEMO_TREND.csv")
    assert any("DEMO_TREND 0.05 (instrument master)" in n for n in series.report.notes)
