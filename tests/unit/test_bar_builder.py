"""BarBuilder: bars closed by the clock at the boundary, exact OHLCV, late and outside ticks, gaps,
bad ticks, and round trips from the replay and synthetic feeds back to the original bars."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from core.clock import IST, SimClock
from core.errors import ConfigError, DataError
from core.market.bar_builder import BarBuilder
from core.market.bars import Bar
from core.market.events import BarClosed, Tick
from core.market.feed import ReplayFeed, SyntheticFeed
from core.market.synthetic import generate_series

DAY = dt.date(2024, 1, 1)


def at(hh: int, mm: int, ss: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=IST)


@pytest.fixture
def builder() -> BarBuilder:
    return BarBuilder(SimClock(at(9, 0)))


def tick(symbol: str, when: dt.datetime, price: float, volume: float = 1.0) -> Tick:
    return Tick(symbol, when, price, volume)


def feed(builder: BarBuilder, *ticks: Tick) -> list[BarClosed]:
    out: list[BarClosed] = []
    for t in ticks:
        out += builder.on_tick(t)
    return out


def test_the_clock_closes_the_bar_at_the_minute_boundary_without_another_tick(builder):
    assert feed(builder, tick("X", at(9, 15, 5), 100.0), tick("X", at(9, 15, 30), 101.0)) == []
    assert builder.on_time(at(9, 15, 59)) == []
    closed = builder.on_time(at(9, 16))
    assert [c.bar for c in closed] == [Bar("X", at(9, 15), 100.0, 101.0, 100.0, 101.0, 2.0)]
    assert closed[0].time == at(9, 16)
    assert builder.on_time(at(9, 17)) == []  # closed once
    assert builder.forming("X") is None


def test_ticks_make_exact_ohlcv(builder):
    feed(
        builder,
        tick("X", at(9, 20, 0), 100.0, 5),
        tick("X", at(9, 20, 10), 101.5, 2),
        tick("X", at(9, 20, 20), 99.5, 3),
        tick("X", at(9, 20, 59), 100.25, 4),
    )
    assert builder.forming("X") == Bar("X", at(9, 20), 100.0, 101.5, 99.5, 100.25, 14.0)
    (closed,) = builder.on_time(at(9, 21))
    assert closed.bar == Bar("X", at(9, 20), 100.0, 101.5, 99.5, 100.25, 14.0)
    assert closed.bar.start.tzinfo is IST


def test_a_tick_of_a_later_minute_closes_the_earlier_bar_when_the_clock_did_not(builder):
    feed(builder, tick("X", at(9, 15, 10), 100.0))
    closed = builder.on_tick(tick("X", at(9, 16, 1), 102.0))
    assert [c.bar.start for c in closed] == [at(9, 15)]
    assert builder.forming("X") == Bar("X", at(9, 16), 102.0, 102.0, 102.0, 102.0, 1.0)


def test_on_time_closes_every_symbol_in_first_seen_order(builder):
    feed(builder, tick("B", at(9, 15, 1), 10.0), tick("A", at(9, 15, 2), 20.0))
    assert [c.symbol for c in builder.on_time(at(9, 16))] == ["B", "A"]


def test_a_late_tick_is_dropped_counted_and_never_reopens_a_bar(builder):
    feed(builder, tick("X", at(9, 15, 10), 100.0))
    (closed,) = builder.on_time(at(9, 16))
    assert builder.on_tick(tick("X", at(9, 15, 50), 90.0)) == []  # its minute is closed
    assert builder.late_ticks["X"] == 1
    assert builder.forming("X") is None
    # a minute the clock has passed is closed for a symbol that had no bar in it, too
    assert builder.on_tick(tick("Y", at(9, 15, 55), 50.0)) == []
    assert builder.late_ticks["Y"] == 1
    # earlier than the forming bar (no on_time in between)
    feed(builder, tick("X", at(9, 18, 5), 101.0))
    assert builder.on_tick(tick("X", at(9, 17, 30), 95.0)) == []
    assert builder.late_ticks["X"] == 2
    (after,) = builder.on_time(at(9, 19))
    assert after.bar == Bar("X", at(9, 18), 101.0, 101.0, 101.0, 101.0, 1.0)
    assert closed.bar.low == 100.0


def test_minutes_without_ticks_make_no_bar(builder):
    feed(builder, tick("X", at(9, 15, 10), 100.0))
    closed = builder.on_time(at(9, 16))
    closed += builder.on_time(at(9, 18))
    feed(builder, tick("X", at(9, 18, 10), 101.0))
    closed += builder.on_time(at(9, 19))
    assert [c.bar.start for c in closed] == [at(9, 15), at(9, 18)]


def test_ticks_outside_the_session_are_ignored_and_counted(builder):
    sat = dt.date(2024, 1, 6)
    feed(
        builder,
        tick("X", at(9, 10), 100.0),  # pre-open
        tick("X", at(15, 30), 100.0),  # the close itself is outside
        tick("X", at(10, 0, day=sat), 100.0),  # a Saturday
    )
    assert builder.outside_ticks["X"] == 3
    assert builder.forming("X") is None
    feed(builder, tick("X", at(15, 29, 59), 100.0))
    assert [c.bar.start for c in builder.on_time(at(15, 30))] == [at(15, 29)]


@pytest.mark.parametrize(
    "bad",
    [
        Tick("X", at(9, 15, 30), math.nan),
        Tick("X", at(9, 15, 30), math.inf),
        Tick("X", at(9, 15, 30), 0.0),
        Tick("X", at(9, 15, 30), -1.0),
        Tick("X", at(9, 15, 30), 100.0, volume=math.nan),
        Tick("X", dt.datetime(2024, 1, 1, 9, 15, 30), 100.0),
    ],
)
def test_a_malformed_tick_raises_and_loses_nothing(builder, bad):
    feed(builder, tick("X", at(9, 15, 10), 100.0, 2), tick("X", at(9, 15, 20), 101.0, 3))
    before = builder.forming("X")
    with pytest.raises(DataError) as err:
        builder.on_tick(bad)
    assert "X" in str(err.value) and "09:15:30" in str(err.value)
    assert builder.forming("X") == before
    assert builder.late_ticks["X"] == 0 and builder.outside_ticks["X"] == 0
    (closed,) = builder.on_time(at(9, 16))
    assert closed.bar == Bar("X", at(9, 15), 100.0, 101.0, 100.0, 101.0, 5.0)


def test_five_minute_bars_are_anchored_at_the_open_and_closed_by_the_clock():
    builder = BarBuilder(SimClock(at(9, 0)), minutes=5)
    feed(builder, tick("X", at(9, 15, 1), 100.0), tick("X", at(9, 19, 59), 103.0))
    assert builder.on_time(at(9, 19, 59)) == []
    (closed,) = builder.on_time(at(9, 20))
    assert closed.bar == Bar("X", at(9, 15), 100.0, 103.0, 100.0, 103.0, 2.0, minutes=5)


def test_minutes_must_be_positive():
    with pytest.raises(ConfigError):
        BarBuilder(SimClock(at(9, 0)), minutes=0)


def test_replay_ticks_rebuild_the_original_bars():
    data = [
        generate_series("AAA", DAY, 2, seed=11, regime="mixed"),
        generate_series("BBB", DAY, 2, seed=12, regime="high_vol"),
    ]
    clock = SimClock(at(9, 0))
    builder = BarBuilder(clock)
    rebuilt: list[Bar] = []
    for event in ReplayFeed(data, clock=clock).events():
        if isinstance(event, Tick):
            rebuilt += [c.bar for c in builder.on_tick(event)]
        else:  # the replay's closes are the clock reaching the bar's end
            rebuilt += [c.bar for c in builder.on_time(clock.now())]
    assert sum(builder.late_ticks.values()) == 0
    for s in data:
        mine = [(b.start, b.open, b.high, b.low, b.close) for b in rebuilt if b.symbol == s.symbol]
        assert mine == [(b.start, b.open, b.high, b.low, b.close) for b in s.bars()]
        assert [b.volume for b in rebuilt if b.symbol == s.symbol] == list(s.frame["volume"])


@pytest.mark.parametrize("per_bar", [4, 7])
def test_synthetic_feed_ticks_rebuild_the_generated_bars(per_bar):
    feed_ = SyntheticFeed(["AAA", "BBB"], DAY, 2, seed=5, ticks_per_bar=per_bar)
    builder = BarBuilder(SimClock(at(9, 0)))
    rebuilt: list[Bar] = []
    last: dt.datetime | None = None
    for t in feed_.events():
        rebuilt += [c.bar for c in builder.on_time(t.time)]
        rebuilt += [c.bar for c in builder.on_tick(t)]
        last = t.time
    assert last is not None
    rebuilt += [c.bar for c in builder.on_time(last + dt.timedelta(minutes=1))]
    for s in feed_.series:
        assert [b for b in rebuilt if b.symbol == s.symbol] == s.bars()
