"""Over months of data, for every strategy: no entry at or after the cutoff, nothing held overnight."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.market.loader import load_many
from core.simulator.run import simulate
from core.strategies import REGISTRY, create
from tests.conftest import NIFTY_DIR, nifty_files, synthetic

SETTINGS = [
    {},
    {"stop": "1atr", "trail": "0.7atr", "target": "3r", "qty": "5", "partial": "1r:40%"},
    {"stop": "none", "target": "none", "trail": "none", "cutoff": "14:15", "window": "none"},
]


def assert_session_safe(trades: pd.DataFrame, cutoff: dt.time) -> None:
    assert len(trades) > 0
    entry, exit_ = trades["entry_time"], trades["exit_time"]
    assert (entry.dt.date == exit_.dt.date).all(), "a position was carried overnight"
    assert (entry.dt.time < cutoff).all(), "an entry at or after the cutoff"
    assert (entry.dt.time >= dt.time(9, 15)).all()
    # an exit after the cutoff can only be the cutoff exit itself, at the first bar at/after it
    after = trades[exit_.dt.time > cutoff]
    assert set(after["exit_reason"]) <= {"cutoff"}


def first_bar_at_or_after(frame: pd.DataFrame, day: dt.date, cutoff: dt.time) -> pd.Timestamp:
    idx = frame.index[(frame.index.date == day) & (frame.index.time >= cutoff)]
    return idx[0]


@pytest.mark.parametrize("config", SETTINGS, ids=["defaults", "managed", "early-cutoff"])
def test_six_months_of_synthetic_data(config: dict[str, str]) -> None:
    series = [synthetic("SYN", sessions=125, seed=77), synthetic("SYN", sessions=125, seed=78, regime="trend")]
    series[1] = type(series[1])("SYN2", series[1].frame, 1, series[1].source)
    strategies = [create(n, **config) for n in sorted(REGISTRY)]
    result = simulate(series, strategies, priority="all")
    trades = result.trades
    assert set(trades["strategy"]) == set(REGISTRY), "every strategy must trade for this to prove anything"
    assert_session_safe(trades, dt.time.fromisoformat(config.get("cutoff", "15:00")))


@pytest.mark.realdata
@pytest.mark.slow
def test_twenty_five_months_of_real_nifty_and_banknifty() -> None:
    files = nifty_files() + sorted(NIFTY_DIR.glob("* BNF.txt"))
    data = load_many(files)
    assert {s.symbol for s in data.series} == {"NIFTY", "BANKNIFTY"}
    strategies = [create(n, stop="1atr", trail="1atr") for n in sorted(REGISTRY)]
    trades = simulate(data.series, strategies, priority="all").trades
    assert set(trades["strategy"]) == set(REGISTRY)
    assert_session_safe(trades, dt.time(15, 0))
    # every cutoff exit is at the open of the day's first bar at or after 15:00
    frames = {s.symbol: s.frame for s in data.series}
    for row in trades[trades["exit_reason"] == "cutoff"].itertuples():
        first = first_bar_at_or_after(frames[row.symbol], row.exit_time.date(), dt.time(15, 0))
        assert row.exit_time == first
        assert row.exit_price == frames[row.symbol].loc[first, "open"]
    # 2021-02-24, the NSE outage: the calendar knows the session ran to 17:00; the feed froze at
    # 10:07 and came back at 15:45 (start 15:37 after the label shift), so the first bar at or
    # after the cutoff is 15:37 and positions held through the halt exit at its open
    outage = trades[trades["exit_time"].dt.date == dt.date(2021, 2, 24)]
    late = outage[outage["exit_time"].dt.time >= dt.time(15, 0)]
    assert set(late["exit_time"].dt.strftime("%H:%M")) <= {"15:37"}
