"""Trade management on hand-made bars: every rule a trader relies on, in both implementations.

Each scenario runs through the event-path :class:`TradeManager` and the fast kernel; they must
produce the same legs, and those legs must be the ones the rule says.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from core.clock import IST
from core.errors import ConfigError
from core.market.bars import Bar, BarSeries
from core.simulator.kernel import run_fast
from core.strategies.base import Signal, Signals
from core.trading.manager import ExitReason, TradeManager
from core.trading.params import build_trade_params
from core.trading.pricing import ceil_to_tick, floor_to_tick, round_to_tick, slipped

TICK = 0.05


@dataclass(frozen=True)
class Leg:
    side: int
    qty: int
    entry: str
    entry_price: float
    exit: str
    exit_price: float
    reason: str


def bars(rows: list[tuple[str, float, float, float, float]], day: str = "2024-01-02") -> BarSeries:
    index = pd.DatetimeIndex([pd.Timestamp(f"{day} {t}", tz=IST) for t, *_ in rows])
    frame = pd.DataFrame([r[1:] for r in rows], columns=["open", "high", "low", "close"], index=index)
    frame["volume"] = 100.0
    return BarSeries("TEST", frame)


def run(series: BarSeries, sigs: dict[int, str], atr: float = 2.0, **params: str) -> list[Leg]:
    """Run both paths; ``sigs`` maps bar index -> 'L', 'S', 'XL' or 'XS'."""
    trade = build_trade_params(params)
    n = len(series)
    arr = {k: np.zeros(n, dtype=bool) for k in ("L", "S", "XL", "XS")}
    for i, kind in sigs.items():
        arr[kind][i] = True
    signals = Signals(arr["L"], arr["S"], arr["XL"], arr["XS"], np.full(n, atr), np.full(n, 0.5))
    fast = run_fast(series.arrays, signals, trade, TICK)
    ts = series.frame.index
    fast_legs = [
        Leg(int(fast.side[k]), int(fast.qty[k]), ts[fast.entry_index[k]].strftime("%H:%M"),
            float(fast.entry_price[k]),
            (ts[fast.exit_index[k]] + pd.Timedelta(minutes=1 if fast.exit_at_close[k] else 0)).strftime("%H:%M"),
            float(fast.exit_price[k]), ExitReason(int(fast.reason[k])).label)
        for k in range(len(fast))
    ]
    tm = TradeManager("TEST", "t", trade, TICK)
    event_legs = []
    all_bars = series.bars()
    for i, bar in enumerate(all_bars):
        out = tm.on_bar(bar)
        sig = Signal(long_entry=arr["L"][i], short_entry=arr["S"][i], exit_long=arr["XL"][i],
                     exit_short=arr["XS"][i], atr=atr, confidence=0.5)
        last = i + 1 == n or all_bars[i + 1].start.date() != bar.start.date()
        out += tm.close_session(bar) if last else []
        if not last:
            tm.on_signal(sig, bar)
        event_legs += [
            Leg(x.side, x.qty, x.entry_time.strftime("%H:%M"), x.entry_price, x.exit_time.strftime("%H:%M"),
                x.exit_price, x.exit_reason.label)
            for x in out
        ]
    assert fast_legs == event_legs
    return fast_legs


FLAT = [(f"10:{m:02d}", 100.0, 100.5, 99.5, 100.0) for m in range(10)]


def test_entry_fills_at_next_open_and_session_end_exits_at_last_close() -> None:
    rows = [("10:00", 100, 101, 99, 100.5), ("10:01", 100.6, 101.2, 100.1, 101.0), ("10:02", 101.1, 102, 101, 101.8)]
    legs = run(bars(rows), {0: "L"})
    assert legs == [Leg(1, 1, "10:01", 100.6, "10:03", 101.8, "session_end")]


def test_stop_is_hit_inside_the_bar_at_the_stop_price() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.5, 99.5, 100), ("10:02", 100, 100.2, 97.5, 98)]
    legs = run(bars(rows), {0: "L"}, stop="2pts")
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:02", 98.0, "stop")]


def test_a_gap_through_the_stop_fills_at_the_open_not_the_stop() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.5, 99.5, 100), ("10:02", 96, 96.5, 95, 95.5)]
    legs = run(bars(rows), {0: "L"}, stop="2pts")
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:02", 96.0, "stop")]


def test_when_stop_and_target_are_both_touched_the_stop_is_assumed_first() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.4, 99.6, 100), ("10:02", 100, 105, 97, 101)]
    legs = run(bars(rows), {0: "L"}, stop="2pts", target="4pts")
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:02", 98.0, "stop")]


def test_target_fills_at_the_target_price_for_a_short() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.5, 99.5, 100), ("10:02", 99.8, 99.9, 95.5, 96)]
    legs = run(bars(rows), {0: "S"}, stop="2pts", target="2r")
    assert legs == [Leg(-1, 1, "10:01", 100.0, "10:02", 96.0, "target")]


def test_scale_outs_then_target_split_the_position_into_legs() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.5, 99.5, 100), ("10:02", 100, 102.5, 99.8, 102),
            ("10:03", 102, 106.5, 101.5, 106)]
    legs = run(bars(rows), {0: "L"}, qty="10", stop="2pts", target="3r", partial="1r:50%,2r:30%")
    assert legs == [
        Leg(1, 5, "10:01", 100.0, "10:02", 102.0, "partial"),
        Leg(1, 3, "10:01", 100.0, "10:03", 104.0, "partial"),
        Leg(1, 2, "10:01", 100.0, "10:03", 106.0, "target"),
    ]


def test_a_bar_opening_through_a_scale_out_fills_it_at_the_open_before_the_stop() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.5, 99.5, 100), ("10:02", 106, 106.5, 94, 95)]
    legs = run(bars(rows), {0: "L"}, qty="2", stop="5pts", target="3r", partial="1r:50%")
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:02", 106.0, "partial"),
                    Leg(1, 1, "10:01", 100.0, "10:02", 95.0, "stop")]


def test_breakeven_moves_the_stop_to_entry_from_the_next_bar() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 102.2, 99.5, 102), ("10:02", 101, 101.5, 99.9, 100)]
    legs = run(bars(rows), {0: "L"}, stop="3pts", breakeven="2pts")
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:02", 100.0, "breakeven")]


def test_trailing_stop_ratchets_with_the_best_price_and_never_loosens() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 103, 99.5, 102.5), ("10:02", 102.5, 105, 102, 104),
            ("10:03", 104, 104.5, 103.1, 103.2), ("10:04", 103.2, 103.4, 103.05, 103.1),
            ("10:05", 103.1, 103.2, 102, 102.5)]
    legs = run(bars(rows), {0: "L"}, stop="5pts", trail="2pts")
    # best high 105 after 10:02 -> stop 103; 10:03's high 104.5 does not lower it; 10:05 trades through 103
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:05", 103.0, "trail")]


def test_trailing_waits_for_its_activation_distance() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 101, 99.5, 100.8), ("10:02", 100.8, 101, 98.9, 99)]
    legs = run(bars(rows), {0: "L"}, stop="5pts", trail="1pts", trail_after="2pts")
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:03", 99.0, "session_end")]


def test_cutoff_exits_at_the_open_of_the_first_bar_at_or_after_1500_and_blocks_entries() -> None:
    rows = [("14:58", 100, 100, 100, 100), ("14:59", 100.5, 101, 100, 100.8), ("15:00", 101, 101.5, 100.7, 101.2),
            ("15:01", 101.2, 101.4, 101, 101.1)]
    legs = run(bars(rows), {0: "L", 2: "S", 1: "XL"})
    assert legs == [Leg(1, 1, "14:59", 100.5, "15:00", 101.0, "cutoff")]
    assert run(bars(rows), {1: "L"}) == []  # the entry would fill at 15:00: refused


def test_opposite_signal_reverses_and_exit_signal_exits() -> None:
    legs = run(bars(FLAT), {0: "L", 2: "S", 4: "XS"})
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:03", 100.0, "reverse"),
                    Leg(-1, 1, "10:03", 100.0, "10:05", 100.0, "signal")]


def test_same_side_signal_while_in_position_is_ignored_and_ambiguous_bar_enters_nothing() -> None:
    legs = run(bars(FLAT), {0: "L", 2: "L"})
    assert len(legs) == 1 and legs[0].entry == "10:01"
    assert run(bars(FLAT), {}) == []


def test_max_trades_per_day_turns_a_reversal_into_a_plain_exit() -> None:
    legs = run(bars(FLAT), {0: "L", 2: "S", 4: "L"}, max_trades="1")
    assert legs == [Leg(1, 1, "10:01", 100.0, "10:03", 100.0, "signal")]


def test_pending_entry_does_not_cross_into_the_next_session() -> None:
    day1 = bars([("15:28", 100, 100, 100, 100), ("15:29", 100, 100, 100, 100)])
    day2 = bars([("09:15", 101, 101, 101, 101), ("09:16", 101, 101, 101, 101)], day="2024-01-03")
    both = BarSeries("TEST", pd.concat([day1.frame, day2.frame]))
    assert run(both, {1: "L"}, cutoff="15:30") == []


def test_slippage_in_ticks_and_bps_is_adverse_and_on_the_grid() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.5, 99.5, 100), ("10:02", 100, 100.2, 99.9, 100.1)]
    legs = run(bars(rows), {0: "L"}, slippage="2tick")
    assert legs == [Leg(1, 1, "10:01", 100.1, "10:03", 100.1, "session_end")]
    legs = run(bars(rows), {0: "S"}, slippage="3bps", stop="1pts")
    # sell 100 less 3 bps = 99.97 -> floored to 99.95; stop 100.95 rounded on the grid
    assert legs[0].entry_price == 99.95
    assert slipped(100.0, True, 3.0, 1, TICK) == 100.05


def test_levels_sit_on_the_tick_grid_without_float_noise() -> None:
    assert round_to_tick(1399.9000244140625, 0.05) == 1399.9
    assert repr(round_to_tick(0.1 + 0.2, 0.05)) == "0.3"
    assert ceil_to_tick(100.01, 0.05) == 100.05
    assert floor_to_tick(100.04, 0.05) == 100.0
    assert round_to_tick(17523.3, 5.0) == 17525.0


def test_atr_stop_waits_for_atr_and_r_distances_need_a_stop() -> None:
    rows = [("10:00", 100, 100, 100, 100), ("10:01", 100, 100.5, 99.5, 100), ("10:02", 100, 100.2, 99.9, 100.1)]
    assert run(bars(rows), {0: "L"}, atr=math.nan, stop="1atr") == []
    with pytest.raises(ConfigError, match="stop"):
        build_trade_params({"stop": "2r"})


@pytest.mark.parametrize("key,value", [("target", "2r"), ("breakeven", "1r"), ("trail", "1r"),
                                       ("trail_after", "0.5r"), ("partial", "1r:50%")])
def test_r_distances_without_a_stop_are_refused_not_silently_ignored(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match="no stop to define R") as err:
        build_trade_params({key: value})
    assert err.value.where == key
    build_trade_params({key: value, "stop": "1atr"})


def test_manager_never_carries_a_position_into_the_next_day() -> None:
    trade = build_trade_params({"cutoff": "15:30"})
    tm = TradeManager("TEST", "t", trade, TICK)
    day1 = bars([("15:28", 100, 100, 100, 100), ("15:29", 101, 101, 101, 101)]).bars()
    day2 = bars([("09:15", 105, 105, 105, 105)], day="2024-01-03").bars()
    tm.on_bar(day1[0])
    tm.on_signal(Signal(long_entry=True, atr=1.0), day1[0])
    assert tm.on_bar(day1[1]) == [] and tm.position is not None
    legs = tm.on_bar(day2[0])  # the caller forgot close_session()
    assert [(x.exit_reason.label, x.exit_price, x.exit_time.strftime("%m-%d %H:%M")) for x in legs] == [
        ("session_end", 101.0, "01-02 15:30")]
    assert tm.position is None


def test_utc_bars_are_read_on_the_indian_clock() -> None:
    utc = dt.datetime(2024, 1, 2, 9, 30, tzinfo=dt.timezone.utc)  # 15:00 IST: the cutoff bar
    bar = Bar("TEST", utc, 100, 101, 99, 100)
    assert bar.start.utcoffset() == dt.timedelta(hours=5, minutes=30) and bar.start.hour == 15
    tm = TradeManager("TEST", "t", build_trade_params({}), TICK)
    tm.on_bar(Bar("TEST", utc - dt.timedelta(minutes=1), 100, 100, 100, 100))
    tm.on_signal(Signal(long_entry=True, atr=1.0), Bar("TEST", utc - dt.timedelta(minutes=1), 100, 100, 100, 100))
    assert tm.on_bar(bar) == [] and tm.position is None  # the entry would fill at 15:00: refused
    with pytest.raises(ValueError, match="no timezone"):
        Bar("TEST", dt.datetime(2024, 1, 2, 10, 0), 1, 1, 1, 1)


def test_trade_params_read_the_way_a_trader_writes_them() -> None:
    p = build_trade_params({"stop": "1.5atr", "target": "2r", "partial": "1r:50%", "slippage": "1tick",
                            "cutoff": "14:45", "max_trades": "3"})
    assert str(p.stop) == "1.5atr" and str(p.target) == "2r" and p.partials[0].fraction == 0.5
    assert p.cutoff == dt.time(14, 45) and p.cutoff_minute == 885 and p.max_trades == 3
    with pytest.raises(ConfigError, match="1.5atr"):
        build_trade_params({"target": "two"})
    with pytest.raises(ConfigError, match="partial"):
        build_trade_params({"partial": "1r:60%,2r:50%"})
