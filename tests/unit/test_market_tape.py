"""MarketTape: what the desk receives between snapshots — quotes coalesced, bars and fills exactly once."""

from __future__ import annotations

import datetime as dt

import pytest

from core.automation.market_tape import MarketTape
from core.clock import IST
from core.execution.orders import Fill, OrderRequest, OrderType, Purpose, Side
from core.market.bars import Bar
from core.market.events import Tick

T0 = dt.datetime(2025, 1, 21, 9, 15, tzinfo=IST)


def tick(symbol: str, minutes: float, price: float, volume: float = 10.0, day: int = 0) -> Tick:
    return Tick(symbol, T0 + dt.timedelta(days=day, minutes=minutes), price, volume)


def test_quotes_carry_the_days_range_volume_and_change_against_the_previous_close() -> None:
    tape = MarketTape()
    for m, p in ((0, 100.0), (1, 103.5), (2, 98.25), (3, 101.0)):
        tape.tick(tick("AAA", m, p))
    (q,) = tape.drain().quotes
    assert (q.ltp, q.open, q.high, q.low, q.volume, q.prev_close) == (101.0, 100.0, 103.5, 98.25, 40.0, None)
    assert q.change == pytest.approx(1.0)  # no previous session: against the day's open
    tape.tick(tick("AAA", 0, 105.0, day=1))  # next session: yesterday's last price is the previous close
    (q2,) = tape.drain().quotes
    assert (q2.prev_close, q2.open, q2.high, q2.low, q2.volume) == (101.0, 105.0, 105.0, 105.0, 10.0)
    assert q2.change == pytest.approx(4.0) and q2.change_pct == pytest.approx(400 / 101.0)


def test_only_changed_instruments_are_quoted_and_many_ticks_coalesce_to_the_last() -> None:
    tape = MarketTape()
    tape.tick(tick("AAA", 0, 100.0))
    tape.tick(tick("BBB", 0, 50.0))
    assert [q.symbol for q in tape.drain().quotes] == ["AAA", "BBB"]
    for k in range(50):
        tape.tick(tick("BBB", 1 + k / 100, 50.0 + k * 0.05))
    quotes = tape.drain().quotes
    assert [q.symbol for q in quotes] == ["BBB"] and quotes[0].ltp == pytest.approx(52.45)
    assert tape.drain().quotes == ()


def test_bars_and_fills_are_handed_over_once_in_order() -> None:
    tape = MarketTape()
    bars = [Bar("AAA", T0 + dt.timedelta(minutes=k), 1, 2, 0.5, 1.5, 100) for k in range(5)]
    for bar in bars[:3]:
        tape.bar(bar)
    request = OrderRequest("c1", "AAA", "ema_cross", Side.BUY, 50, OrderType.MARKET, Purpose.ENTRY, "p1")
    tape.fill(Fill("c1", "f1", "AAA", Side.BUY, 50, 100.25, T0), request)
    first = tape.drain()
    assert list(first.bars) == bars[:3]
    (fill,) = first.fills
    assert (fill.strategy, fill.side, fill.qty, fill.price, fill.purpose) == ("ema_cross", "BUY", 50, 100.25, "entry")
    for bar in bars[3:]:
        tape.bar(bar)
    second = tape.drain()
    assert list(second.bars) == bars[3:] and second.fills == ()


def test_a_tape_nobody_drains_stays_bounded_and_counts_what_it_dropped() -> None:
    tape = MarketTape(max_bars=10)
    bars = [Bar("AAA", T0 + dt.timedelta(minutes=k), 1, 2, 0.5, 1.5) for k in range(25)]
    for bar in bars:
        tape.bar(bar)
    assert list(tape.drain().bars) == bars[-10:] and tape.dropped_bars == 15
