"""Feeds: where the engine's market events come from (DESIGN.md §2) — replay files or synthetic.

Rules every feed here keeps:

- ``events()`` yields events in non-decreasing ``time``. At equal times closes (``BarClosed``,
  ``SessionEnd``) come before ticks: the bars ending at T precede the bars opening at T. Other
  ties go by the order of the instruments given to the feed.
- Events are made lazily, bar by bar: a feed never holds more than a few bars per instrument.
- ``speed=None`` runs as fast as possible; ``speed=N`` sleeps (through the injected ``sleep``)
  the gap between consecutive events divided by N, at most ``max_sleep`` seconds at a time and
  never across a change of day (the night between sessions is skipped, not slept).
- With a ``clock`` (a :class:`~core.clock.SimClock`) the feed moves it to each event's time
  before yielding it; it never moves it backwards (a clock already ahead is left alone).
- A feed is consumed once; ``close()`` ends the iteration at the next event.

:class:`ReplayFeed` replays bars. Per bar it yields the open tick at the bar's start
(``bar_open=True``); with ``ticks=True`` then the two extremes at 1/3 and 2/3 of the bar (the
low first when close >= open, else the high first) and the close one second before the bar's
end, skipping a tick at the previous tick's price; then ``BarClosed`` at the end, and
``SessionEnd`` right after a symbol's last bar of a day. The bar's volume is split evenly over
the ticks yielded for it. Every replayed tick is ``synthetic``.

:class:`SyntheticFeed` is live-like: ``ticks_per_bar`` ticks per generated bar, evenly spaced
inside the minute along the path open -> extremes -> close (extra ticks on the grid in between),
and nothing else: bars come from a :class:`~core.market.bar_builder.BarBuilder`, and a live
feed does not know when a session's data ends. Its ticks are the market's own path (not
``synthetic``): the paper broker fills them by crossing, as it would live ticks.
"""

from __future__ import annotations

import datetime as dt
import heapq
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.clock import IST, UTC, NseCalendar, SimClock
from core.errors import ConfigError, DataError
from core.market.bars import Bar, BarSeries
from core.market.events import BarClosed, MarketEvent, SessionEnd, Tick
from core.market.loader import load_many
from core.market.quality import QualityReport
from core.market.synthetic import Regime, generate_series

_CLOSE, _TICK = 0, 1  # merge order at equal times: closes before ticks
_CHUNK = 128  # bars converted to Python floats at a time per instrument
_EPOCH_IST = dt.datetime(1970, 1, 1, tzinfo=UTC).astimezone(IST)
_ONE_SECOND = dt.timedelta(seconds=1)

# What the per-instrument streams yield and the merge orders: (time, kind, instrument, event).
_Keyed = tuple[dt.datetime, int, int, MarketEvent]


@runtime_checkable
class Feed(Protocol):
    """A source of market events (replay, synthetic, the Kite ticker)."""

    @property
    def symbols(self) -> tuple[str, ...]:
        """The instruments this feed delivers."""
        ...

    @property
    def last_event_time(self) -> dt.datetime | None:
        """The time of the last event yielded (None before the first): for freshness checks."""
        ...

    def events(self) -> Iterator[MarketEvent]:
        """The events, in time order."""
        ...

    def close(self) -> None:
        """Stop: the iteration ends at the next event."""
        ...


class _PacedFeed:
    """Pacing, clock moving, freshness and closing shared by the feeds of this module."""

    def __init__(
        self,
        symbols: tuple[str, ...],
        speed: float | None,
        clock: SimClock | None,
        sleep: Callable[[float], object],
        max_sleep: float,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ConfigError(
                f"speed must be positive (or None for max), not {speed}", where="speed"
            )
        if not max_sleep > 0:
            raise ConfigError(f"max_sleep must be positive, not {max_sleep}", where="max_sleep")
        duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
        if duplicates:
            raise DataError(f"{', '.join(duplicates)} given more than once", where="feed")
        self.symbols = symbols
        self._speed = speed
        self._clock = clock
        self._sleep = sleep
        self._max_sleep = max_sleep
        self._last: dt.datetime | None = None
        self._started = False
        self._closed = False

    @property
    def speed(self) -> float | None:
        """Times real time (None: as fast as possible)."""
        return self._speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        """Change the pace mid-run (from the thread consuming the events)."""
        if value is not None and not value > 0:
            raise ConfigError(f"speed must be positive (or None for max), not {value}", where="speed")
        self._speed = value

    @property
    def last_event_time(self) -> dt.datetime | None:
        return self._last

    def events(self) -> Iterator[MarketEvent]:
        """The events, in time order (once per feed)."""
        if self._started:
            raise RuntimeError("a feed is consumed once; make a new one to replay again")
        self._started = True
        return self._run()

    def close(self) -> None:
        self._closed = True

    def _source(self) -> Iterator[_Keyed]:
        raise NotImplementedError

    def _run(self) -> Iterator[MarketEvent]:
        source = self._source()
        try:
            for when, _, _, event in source:
                if self._closed:
                    return
                self._pace(when)
                if self._clock is not None and when > self._clock.now():
                    self._clock.set(when)
                self._last = when
                yield event
        finally:
            source.close()

    def _pace(self, when: dt.datetime) -> None:
        last = self._last
        if self._speed is None or last is None or when <= last or when.date() != last.date():
            return
        self._sleep(min((when - last).total_seconds() / self._speed, self._max_sleep))


class ReplayFeed(_PacedFeed):
    """Bars of several instruments replayed as ticks, ``BarClosed`` and ``SessionEnd`` (module doc)."""

    report: QualityReport | None = None
    """The loader's quality report when the feed was made by :func:`feed_from_files`."""

    def __init__(
        self,
        series: Sequence[BarSeries],
        *,
        speed: float | None = None,
        ticks: bool = True,
        clock: SimClock | None = None,
        sleep: Callable[[float], object] = time.sleep,
        max_sleep: float = 1.0,
    ) -> None:
        super().__init__(tuple(s.symbol for s in series), speed, clock, sleep, max_sleep)
        self._series = tuple(series)
        self._ticks = ticks

    def _source(self) -> Iterator[_Keyed]:
        return heapq.merge(*(_replay_stream(s, i, self._ticks) for i, s in enumerate(self._series)))


class SyntheticFeed(_PacedFeed):
    """A live-like tick feed over :func:`~core.market.synthetic.generate_series` bars (module doc).

    Each symbol's bars use the seed :func:`symbol_seed` (``symbol``, ``seed``), so a symbol's
    ticks do not depend on which other symbols are in the feed. ``series`` holds the bars behind
    the ticks (what a BarBuilder fed with them rebuilds).
    """

    def __init__(
        self,
        symbols: Sequence[str],
        start: dt.date,
        sessions: int,
        *,
        seed: int = 0,
        regime: Regime = "mixed",
        ticks_per_bar: int = 4,
        speed: float | None = None,
        clock: SimClock | None = None,
        sleep: Callable[[float], object] = time.sleep,
        max_sleep: float = 1.0,
        start_price: float = 1000.0,
        tick_size: float = 0.05,
        calendar: NseCalendar | None = None,
    ) -> None:
        if ticks_per_bar < 4:
            raise ConfigError(
                f"ticks_per_bar must be at least 4 (open, two extremes, close), not {ticks_per_bar}",
                where="ticks_per_bar",
            )
        self.series = tuple(
            generate_series(
                s,
                start,
                sessions,
                seed=symbol_seed(s, seed),
                regime=regime,
                start_price=start_price,
                tick=tick_size,
                calendar=calendar,
            )
            for s in symbols
        )
        super().__init__(tuple(s.symbol for s in self.series), speed, clock, sleep, max_sleep)
        self._per_bar = ticks_per_bar
        self._tick_size = tick_size

    def _source(self) -> Iterator[_Keyed]:
        return heapq.merge(
            *(
                _synthetic_stream(s, i, self._per_bar, self._tick_size)
                for i, s in enumerate(self.series)
            )
        )


def feed_from_files(
    paths: Iterable[str | Path],
    *,
    speed: float | None = None,
    ticks: bool = True,
    clock: SimClock | None = None,
    sleep: Callable[[float], object] = time.sleep,
    calendar: NseCalendar | None = None,
) -> ReplayFeed:
    """A :class:`ReplayFeed` of bar files loaded with the strict policy (its errors propagate).

    The load's quality report is kept on the feed as ``report``.
    """
    loaded = load_many(paths, policy="strict", calendar=calendar)
    feed = ReplayFeed(loaded.series, speed=speed, ticks=ticks, clock=clock, sleep=sleep)
    feed.report = loaded.report
    return feed


def symbol_seed(symbol: str, seed: int) -> int:
    """The generator seed :class:`SyntheticFeed` uses for ``symbol``."""
    return (seed * 1_000_003 + zlib.crc32(symbol.upper().encode())) % 2**32


def replay_ticks(bar: Bar, extremes: bool = True) -> list[Tick]:
    """The ticks :class:`ReplayFeed` makes of ``bar`` (open, then extremes and close if asked)."""
    points = [(bar.start, bar.open)]
    if extremes:
        span = bar.end - bar.start
        first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
        for offset, price in (
            (span / 3, first),
            (span * 2 / 3, second),
            (span - _ONE_SECOND, bar.close),
        ):
            if price != points[-1][1]:
                points.append((bar.start + offset, price))
    volumes = split_volume(bar.volume, len(points))
    return [
        Tick(bar.symbol, when, price, volume, bar_open=k == 0, synthetic=True)
        for k, ((when, price), volume) in enumerate(zip(points, volumes))
    ]


def path_ticks(bar: Bar, count: int, tick_size: float) -> list[Tick]:
    """``count`` (>= 4) live-like ticks through ``bar``: open, extremes, close, evenly timed."""
    first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
    vertices = (bar.open, first, second, bar.close)
    extra = count - 4
    prices = [bar.open]
    for leg in range(3):
        inside = extra // 3 + (leg < extra % 3)
        a, b = vertices[leg], vertices[leg + 1]
        for q in range(1, inside + 1):
            mid = round(round((a + (b - a) * q / (inside + 1)) / tick_size) * tick_size, 10)
            prices.append(min(max(mid, bar.low), bar.high))
        prices.append(b)
    step = (bar.end - bar.start) / count
    volumes = split_volume(bar.volume, count)
    return [
        Tick(bar.symbol, bar.start + step * k, price, volume)
        for k, (price, volume) in enumerate(zip(prices, volumes))
    ]


def split_volume(volume: float, parts: int) -> list[float]:
    """``volume`` in ``parts`` even shares that add up to it (whole shares when it is whole)."""
    if float(volume).is_integer():
        q, r = divmod(int(volume), parts)
        return [float(q + (k < r)) for k in range(parts)]
    return [volume / parts] * parts


def _bars(series: BarSeries) -> Iterator[tuple[Bar, bool]]:
    """Each bar of ``series`` with whether it is the last of its day, built a chunk at a time."""
    a = series.arrays
    n = len(a)
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        days = a.day[lo : hi + 1].tolist()  # one more: the next day decides "last of its day"
        rows = zip(
            a.ts[lo:hi].tolist(),
            a.open[lo:hi].tolist(),
            a.high[lo:hi].tolist(),
            a.low[lo:hi].tolist(),
            a.close[lo:hi].tolist(),
            a.volume[lo:hi].tolist(),
        )
        for k, (ns, o, h, low, c, v) in enumerate(rows):
            start = _EPOCH_IST + dt.timedelta(microseconds=ns // 1000)
            bar = Bar(series.symbol, start, o, h, low, c, v, series.interval_minutes)
            yield bar, k + 1 == len(days) or days[k + 1] != days[k]


def _replay_stream(series: BarSeries, index: int, ticks: bool) -> Iterator[_Keyed]:
    for bar, last_of_day in _bars(series):
        for tick in replay_ticks(bar, ticks):
            yield tick.time, _TICK, index, tick
        end = bar.end
        yield end, _CLOSE, index, BarClosed(bar)
        if last_of_day:
            yield end, _CLOSE, index, SessionEnd(bar.symbol, bar.start.date(), bar)


def _synthetic_stream(
    series: BarSeries, index: int, per_bar: int, tick_size: float
) -> Iterator[_Keyed]:
    for bar, _ in _bars(series):
        for tick in path_ticks(bar, per_bar, tick_size):
            yield tick.time, _TICK, index, tick
