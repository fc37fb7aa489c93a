"""Feeds: replay order and times, the extremes rule, SessionEnd, pacing, the clock, synthetic ticks."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import tracemalloc

import pandas as pd
import pytest

from core.clock import IST, SimClock
from core.errors import ConfigError, DataError
from core.market.bars import Bar, BarSeries
from core.market.events import BarClosed, SessionEnd, Tick
from core.market.feed import (
    Feed,
    ReplayFeed,
    SyntheticFeed,
    feed_from_files,
    replay_ticks,
    split_volume,
    symbol_seed,
)
from core.market.synthetic import generate_series, write_csv

DAY1, DAY2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)


def at(day: dt.date, hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=IST)


def series(
    symbol: str, rows: list[tuple[dt.datetime, float, float, float, float, float]]
) -> BarSeries:
    index = pd.DatetimeIndex([r[0] for r in rows], name="timestamp")
    frame = pd.DataFrame(
        [r[1:] for r in rows], index=index, columns=["open", "high", "low", "close", "volume"]
    )
    return BarSeries(symbol, frame)


def tiny() -> list[BarSeries]:
    a = series(
        "A",
        [
            (at(DAY1, 9, 15), 100.0, 102.0, 99.0, 101.0, 40.0),  # up bar: low first
            (at(DAY1, 9, 16), 101.0, 101.5, 100.0, 100.5, 30.0),  # down bar: high first
            (at(DAY2, 9, 15), 105.0, 105.0, 105.0, 105.0, 7.0),  # flat: only the open
        ],
    )
    b = series(
        "B",
        [
            (at(DAY1, 9, 16), 50.0, 50.0, 49.0, 49.5, 3.0),  # high == open: skipped
            (at(DAY2, 9, 15), 51.0, 52.0, 51.0, 52.0, 5.0),  # low == open, close == high
        ],
    )
    return [a, b]


def describe(event) -> tuple:
    when = event.time.strftime("%m-%d %H:%M:%S")
    if isinstance(event, Tick):
        return ("T", event.symbol, when, event.price)
    if isinstance(event, BarClosed):
        return ("BC", event.symbol, when, event.bar.start.strftime("%H:%M"))
    return ("SE", event.symbol, when, str(event.day))


def test_replay_yields_the_exact_sequence_for_two_instruments_over_two_days():
    got = [describe(e) for e in ReplayFeed(tiny()).events()]
    assert got == [
        ("T", "A", "01-01 09:15:00", 100.0),
        ("T", "A", "01-01 09:15:20", 99.0),
        ("T", "A", "01-01 09:15:40", 102.0),
        ("T", "A", "01-01 09:15:59", 101.0),
        ("BC", "A", "01-01 09:16:00", "09:15"),  # the close at 09:16 precedes the opens at 09:16
        ("T", "A", "01-01 09:16:00", 101.0),
        ("T", "B", "01-01 09:16:00", 50.0),
        ("T", "A", "01-01 09:16:20", 101.5),
        ("T", "A", "01-01 09:16:40", 100.0),
        ("T", "B", "01-01 09:16:40", 49.0),
        ("T", "A", "01-01 09:16:59", 100.5),
        ("T", "B", "01-01 09:16:59", 49.5),
        ("BC", "A", "01-01 09:17:00", "09:16"),
        ("SE", "A", "01-01 09:17:00", "2024-01-01"),
        ("BC", "B", "01-01 09:17:00", "09:16"),
        ("SE", "B", "01-01 09:17:00", "2024-01-01"),
        ("T", "A", "01-02 09:15:00", 105.0),
        ("T", "B", "01-02 09:15:00", 51.0),
        ("T", "B", "01-02 09:15:40", 52.0),
        ("BC", "A", "01-02 09:16:00", "09:15"),
        ("SE", "A", "01-02 09:16:00", "2024-01-02"),
        ("BC", "B", "01-02 09:16:00", "09:15"),
        ("SE", "B", "01-02 09:16:00", "2024-01-02"),
    ]


def test_replay_ticks_flags_and_volume_split():
    events = list(ReplayFeed(tiny()[:1]).events())
    first_bar = [e for e in events[:4]]
    assert [t.bar_open for t in first_bar] == [True, False, False, False]
    assert all(t.synthetic for t in first_bar)
    assert [t.volume for t in first_bar] == [10.0, 10.0, 10.0, 10.0]
    closed = events[4]
    assert isinstance(closed, BarClosed) and closed.bar.volume == 40.0
    # the flat bar of day 2 is one tick carrying all the volume
    flat = [e for e in events if isinstance(e, Tick) and e.time.date() == DAY2]
    assert [(t.price, t.volume, t.bar_open) for t in flat] == [(105.0, 7.0, True)]


def test_extremes_order_low_first_on_up_bars_high_first_on_down_bars():
    start = at(DAY1, 10, 0)
    up = Bar("X", start, 100.0, 104.0, 98.0, 103.0, 8.0)
    down = Bar("X", start, 100.0, 104.0, 98.0, 99.0, 8.0)
    doji = Bar("X", start, 100.0, 104.0, 98.0, 100.0, 8.0)
    assert [t.price for t in replay_ticks(up)] == [100.0, 98.0, 104.0, 103.0]
    assert [t.price for t in replay_ticks(down)] == [100.0, 104.0, 98.0, 99.0]
    assert [t.price for t in replay_ticks(doji)] == [100.0, 98.0, 104.0, 100.0]
    times = [t.time for t in replay_ticks(up)]
    assert times == [
        start,
        start + dt.timedelta(seconds=20),
        start + dt.timedelta(seconds=40),
        start + dt.timedelta(seconds=59),
    ]
    assert all(start <= t < up.end for t in times)


def test_ticks_false_yields_open_tick_then_bar_closed():
    events = list(ReplayFeed(tiny()[:1], ticks=False).events())
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "Tick",
        "BarClosed",
        "Tick",
        "BarClosed",
        "SessionEnd",
        "Tick",
        "BarClosed",
        "SessionEnd",
    ]
    assert events[0].volume == 40.0 and events[0].bar_open


def synthetic_set(sessions: int = 3) -> list[BarSeries]:
    return [
        generate_series(s, DAY1, sessions, seed=k, regime=r)
        for k, (s, r) in enumerate([("AAA", "trend"), ("BBB", "chop"), ("CCC", "high_vol")])
    ]


def test_replay_of_three_symbols_over_three_sessions_is_in_time_order():
    data = synthetic_set()
    events = list(ReplayFeed(data).events())
    times = [e.time for e in events]
    assert all(a <= b for a, b in itertools.pairwise(times))
    # at equal times no tick precedes a close
    for prev, nxt in itertools.pairwise(events):
        if prev.time == nxt.time and isinstance(prev, Tick):
            assert isinstance(nxt, Tick)
    for s in data:
        closed = [e.bar for e in events if isinstance(e, BarClosed) and e.symbol == s.symbol]
        assert closed == s.bars()
        ends = [e for e in events if isinstance(e, SessionEnd) and e.symbol == s.symbol]
        assert [e.day for e in ends] == s.days
        for e in ends:
            assert e.last_bar == [b for b in s.bars() if b.start.date() == e.day][-1]


def test_session_end_comes_right_after_its_symbols_last_bar_closed():
    events = list(ReplayFeed(synthetic_set(2)).events())
    for k, e in enumerate(events):
        if isinstance(e, SessionEnd):
            before = events[k - 1]
            assert isinstance(before, BarClosed) and before.bar == e.last_bar
            assert e.time == e.last_bar.end and e.last_bar.end.time() == dt.time(15, 30)


def test_speed_sleeps_the_scaled_gaps_but_not_the_night():
    sleeps: list[float] = []
    list(ReplayFeed(tiny()[:1], speed=120, sleep=sleeps.append).events())
    bar = [20 / 120, 20 / 120, 19 / 120, 1 / 120]  # open -> low -> high -> close -> BarClosed
    # day 1: two bars (the second opens at the first's close: no sleep); then the night is
    # skipped and day 2's one-tick bar waits its minute before its BarClosed
    assert sleeps == pytest.approx([*bar, *bar, 60 / 120])
    assert sum(sleeps) == pytest.approx((120 + 60) / 120)


def test_a_long_gap_inside_a_day_sleeps_at_most_max_sleep():
    gap = series("G", [(at(DAY1, 9, 15), 10, 10, 10, 10, 1), (at(DAY1, 11, 0), 10, 10, 10, 10, 1)])
    sleeps: list[float] = []
    list(ReplayFeed([gap], speed=1, ticks=False, sleep=sleeps.append).events())
    assert sleeps == [1.0, 1.0, 1.0]  # open->close 60 s, close->next open 104 min, open->close


def test_speed_none_never_sleeps():
    sleeps: list[float] = []
    list(ReplayFeed(tiny(), sleep=sleeps.append).events())
    assert sleeps == []


@pytest.mark.parametrize("speed", [0, -2.0])
def test_speed_must_be_positive(speed):
    with pytest.raises(ConfigError):
        ReplayFeed(tiny(), speed=speed)


def test_clock_is_at_each_events_time_when_it_is_yielded():
    clock = SimClock(at(DAY1, 9, 0))
    feed = ReplayFeed(tiny(), clock=clock)
    assert feed.last_event_time is None
    for e in feed.events():
        assert clock.now() == e.time
        assert feed.last_event_time == e.time
    assert clock.now() == at(DAY2, 9, 16)


def test_a_clock_ahead_of_the_feed_is_never_moved_back():
    clock = SimClock(at(DAY1, 9, 16, 30))
    seen = [clock.now() for _ in ReplayFeed(tiny()[:1], clock=clock).events()]
    assert all(a <= b for a, b in itertools.pairwise(seen))
    assert seen[0] == at(DAY1, 9, 16, 30)


def test_close_stops_the_iteration_and_a_feed_is_consumed_once():
    feed = ReplayFeed(tiny())
    assert isinstance(feed, Feed)
    it = feed.events()
    first = next(it)
    feed.close()
    assert list(it) == []
    assert feed.last_event_time == first.time
    with pytest.raises(RuntimeError):
        feed.events()


def test_duplicate_symbols_are_refused():
    with pytest.raises(DataError, match="A"):
        ReplayFeed([tiny()[0], tiny()[0]])


def test_replay_streams_instead_of_building_every_event_up_front():
    many = [generate_series(f"S{k:03d}", DAY1, 1, seed=k) for k in range(200)]
    for s in many:
        _ = s.arrays  # the numpy views are the feed's input, not its output
    tracemalloc.start()
    try:
        taken = list(itertools.islice(ReplayFeed(many).events(), 2000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(taken) == 2000
    # all events of the day (~200 x 375 x 5 objects) would take tens of MB
    assert peak < 8_000_000


def test_feed_from_files_replays_what_the_loader_read(tmp_path):
    data = synthetic_set(2)
    paths = []
    for s in data:
        path = tmp_path / f"{s.symbol}.csv"
        write_csv(s, path)
        paths.append(path)
    feed = feed_from_files(paths)
    assert feed.symbols == ("AAA", "BBB", "CCC")
    assert feed.report is not None
    assert list(feed.events()) == list(ReplayFeed(data).events())


def test_feed_from_files_raises_the_loaders_typed_error(tmp_path):
    path = tmp_path / "BAD.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-01T09:15:00+05:30,100,99,101,100,1\n"  # high below low
    )
    with pytest.raises(DataError, match="BAD.csv"):
        feed_from_files([path])


def test_split_volume_adds_up():
    assert split_volume(10, 4) == [3.0, 3.0, 2.0, 2.0]
    assert math.fsum(split_volume(1.5, 3)) == pytest.approx(1.5)


# --- SyntheticFeed ---------------------------------------------------------------------------


def test_synthetic_feed_is_deterministic_and_ticks_only():
    def ticks(seed: int) -> list[Tick]:
        return list(SyntheticFeed(["AAA", "BBB"], DAY1, 1, seed=seed).events())

    a, b, c = ticks(7), ticks(7), ticks(8)
    assert a == b
    assert a != c
    assert all(isinstance(e, Tick) and not e.synthetic and not e.bar_open for e in a)
    assert len(a) == 2 * 375 * 4
    assert all(x.time <= y.time for x, y in itertools.pairwise(a))


def test_synthetic_feed_symbol_ticks_do_not_depend_on_the_other_symbols():
    alone = list(SyntheticFeed(["BBB"], DAY1, 1, seed=3).events())
    mixed = [
        e for e in SyntheticFeed(["AAA", "BBB"], DAY1, 1, seed=3).events() if e.symbol == "BBB"
    ]
    assert alone == mixed
    assert (
        SyntheticFeed(["BBB"], DAY1, 1, seed=3)
        .series[0]
        .frame.equals(generate_series("BBB", DAY1, 1, seed=symbol_seed("BBB", 3)).frame)
    )


@pytest.mark.parametrize("per_bar", [4, 5, 9])
def test_synthetic_ticks_stay_inside_their_bar_on_the_grid(per_bar):
    feed = SyntheticFeed(["AAA"], DAY1, 1, seed=1, ticks_per_bar=per_bar, regime="high_vol")
    bars = {b.start: b for b in feed.series[0].bars()}
    ticks = list(feed.events())
    assert len(ticks) == per_bar * len(bars)
    for t in ticks:
        bar = bars[t.time.replace(second=0, microsecond=0)]
        assert bar.low <= t.price <= bar.high
        assert abs(t.price / 0.05 - round(t.price / 0.05)) < 1e-6


def test_synthetic_feed_refuses_too_few_ticks_per_bar():
    with pytest.raises(ConfigError):
        SyntheticFeed(["AAA"], DAY1, 1, ticks_per_bar=3)
