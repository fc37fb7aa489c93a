"""Ticks into bars, closed by the clock (DESIGN.md §2: Feed -> Engine -> BarBuilder -> strategies).

Rules:

- A tick belongs to the ``minutes``-wide bin of its session that contains its time; bins are
  anchored at the session's open (09:15, 09:16, ... for 1 minute), as in
  :mod:`core.market.resample`; a session's last bin may be partial and closes at the close.
- A bar closes **by the clock**: ``on_time(now)`` closes every forming bar whose end is <= now,
  without waiting for another tick. A tick of a later bin of the same symbol closes that
  symbol's forming bar first (when ``on_time`` has not already done it).
- A late tick — before its symbol's forming bar, in a bin its symbol already closed, or in a
  bin the clock has passed — is dropped and counted in ``late_ticks``; a closed bar never
  reopens. Ticks outside the session (pre-open, post-close, closed days) are dropped and counted
  in ``outside_ticks``.
- A bin with no ticks makes no bar (gaps stay gaps). Volume is the sum of the ticks' volumes.
- A malformed tick (naive time, NaN/inf/non-positive price, NaN/inf/negative volume) raises
  :class:`DataError` naming the symbol and time, and leaves the builder as it was.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from core.clock import IST, MarketClock, Session
from core.errors import ConfigError, DataError
from core.market.bars import Bar
from core.market.events import BarClosed, Tick


@dataclass(slots=True)
class _Forming:
    start: dt.datetime
    closes_at: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class BarBuilder:
    """Aggregates ticks per symbol into ``minutes``-minute bars (see the module rules)."""

    def __init__(self, clock: MarketClock, minutes: int = 1) -> None:
        if minutes < 1:
            raise ConfigError(f"bar minutes must be at least 1, not {minutes}", where="minutes")
        self.clock = clock
        self.minutes = minutes
        self.late_ticks: Counter[str] = Counter()
        self.outside_ticks: Counter[str] = Counter()
        self._width = dt.timedelta(minutes=minutes)
        self._forming: dict[str, _Forming] = {}
        self._closed_until: dict[str, dt.datetime] = {}
        self._order: dict[str, int] = {}  # first-seen order: ties in on_time go by it
        self._now: dt.datetime | None = None
        self._next_close: dt.datetime | None = None  # no forming bar closes before this
        self._sessions: dict[dt.date, Session | None] = {}

    def on_tick(self, tick: Tick) -> list[BarClosed]:
        """Add ``tick``; returns the symbol's earlier bar if this tick is the first of a later bin."""
        when = _checked_time(tick)
        symbol = tick.symbol
        forming = self._forming.get(symbol)
        if forming is not None and forming.start <= when < forming.closes_at and (
            self._now is None or forming.closes_at > self._now
        ):  # the common case: one more tick of the bar being built
            price = float(tick.price)
            if price > forming.high:
                forming.high = price
            elif price < forming.low:
                forming.low = price
            forming.close = price
            forming.volume += float(tick.volume)
            return []
        session = self._session(when.date())
        if session is None or not session.open <= when < session.close:
            self.outside_ticks[symbol] += 1
            return []
        start = session.open + ((when - session.open) // self._width) * self._width
        closes_at = min(start + self._width, session.close)
        forming = self._forming.get(symbol)
        closed_until = self._closed_until.get(symbol)
        if (
            (forming is not None and start < forming.start)
            or (closed_until is not None and start < closed_until)
            or (self._now is not None and closes_at <= self._now)
        ):
            self.late_ticks[symbol] += 1
            return []
        closed = []
        if forming is not None and start > forming.start:
            closed.append(self._close(symbol))
            forming = None
        price, volume = float(tick.price), float(tick.volume)
        if forming is None:
            self._order.setdefault(symbol, len(self._order))
            self._forming[symbol] = _Forming(start, closes_at, price, price, price, price, volume)
            if self._next_close is None or closes_at < self._next_close:
                self._next_close = closes_at
        else:
            forming.high = max(forming.high, price)
            forming.low = min(forming.low, price)
            forming.close = price
            forming.volume += volume
        return closed

    def on_time(self, now: dt.datetime) -> list[BarClosed]:
        """Close every forming bar whose end is <= ``now`` (by end, then first-seen symbol)."""
        if now.tzinfo is None:
            raise ValueError(f"naive time {now} given to the bar builder; attach a timezone")
        if self._now is None or now > self._now:
            self._now = now
        if self._next_close is None or now < self._next_close:
            return []
        due = sorted(
            (f.closes_at, self._order[s], s) for s, f in self._forming.items() if f.closes_at <= now
        )
        closed = [self._close(s) for _, _, s in due]
        self._next_close = min((f.closes_at for f in self._forming.values()), default=None)
        return closed

    def forming(self, symbol: str) -> Bar | None:
        """The bar ``symbol`` is building now, as it stands (None when there is none)."""
        f = self._forming.get(symbol)
        if f is None:
            return None
        return Bar(symbol, f.start, f.open, f.high, f.low, f.close, f.volume, self.minutes)

    def _close(self, symbol: str) -> BarClosed:
        f = self._forming.pop(symbol)
        self._closed_until[symbol] = f.closes_at
        return BarClosed(
            Bar(symbol, f.start, f.open, f.high, f.low, f.close, f.volume, self.minutes)
        )

    def _session(self, day: dt.date) -> Session | None:
        if day not in self._sessions:
            self._sessions[day] = self.clock.calendar.session(day)
        return self._sessions[day]


def _checked_time(tick: Tick) -> dt.datetime:
    """The tick's time in IST, after checking the tick can be traded on (else DataError)."""
    t = tick.time
    price, volume = tick.price, tick.volume
    if (type(t) is dt.datetime and t.tzinfo is IST and type(price) is float and 0.0 < price < _INF
            and type(volume) in _NUMBERS and 0 <= volume < _INF):
        return t  # the common case, checked without conversions (NaN fails the comparisons)
    where = f"tick {tick.symbol} at {t}"
    if not isinstance(t, dt.datetime) or t.utcoffset() is None:
        raise DataError("tick time has no timezone", where=where)
    try:
        price, volume = float(tick.price), float(tick.volume)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"price {tick.price!r} or volume {tick.volume!r} is not a number", where=where
        ) from exc
    if not math.isfinite(price) or price <= 0:
        raise DataError(f"price {tick.price!r} is not a positive finite number", where=where)
    if not math.isfinite(volume) or volume < 0:
        raise DataError(f"volume {tick.volume!r} is not a non-negative finite number", where=where)
    return t.astimezone(IST)


_INF = math.inf
_NUMBERS = (float, int)
