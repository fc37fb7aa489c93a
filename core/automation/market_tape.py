"""What the desk shows of the market between two snapshots: quotes, closed bars and fills.

The engine writes to a :class:`MarketTape` on its own thread as events arrive (a few dict
operations per tick); the host drains it when a snapshot is published, so the UI receives one
:class:`MarketUpdate` per snapshot, never a tick at a time. Nothing is lost between drains:
every closed bar and every fill is handed over exactly once, in order; quotes are coalesced to
the latest per instrument.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.execution.orders import Fill, OrderRequest
from core.market.bars import Bar
from core.market.events import Tick


@dataclass(frozen=True, slots=True)
class Quote:
    """An instrument's day so far: last price, the day's open/high/low, volume, previous close."""

    symbol: str
    time: dt.datetime
    ltp: float
    open: float
    high: float
    low: float
    volume: float
    prev_close: float | None

    @property
    def change(self) -> float:
        """Against the previous session's close (the day's open when there is none)."""
        base = self.prev_close if self.prev_close is not None else self.open
        return self.ltp - base

    @property
    def change_pct(self) -> float:
        base = self.prev_close if self.prev_close is not None else self.open
        return 100.0 * (self.ltp - base) / base if base else 0.0


@dataclass(frozen=True, slots=True)
class FillView:
    """One fill as the trader reads it."""

    time: dt.datetime
    symbol: str
    strategy: str
    side: str
    qty: int
    price: float
    purpose: str
    client_order_id: str


@dataclass(frozen=True, slots=True)
class MarketUpdate:
    """Everything that changed since the previous update (see the module docstring)."""

    quotes: tuple[Quote, ...]
    bars: tuple[Bar, ...]
    fills: tuple[FillView, ...]


class _Day:
    __slots__ = ("day", "open", "high", "low", "volume", "prev_close", "last", "time")

    def __init__(self, day: dt.date, price: float, prev_close: float | None, time: dt.datetime) -> None:
        self.day = day
        self.open = self.high = self.low = self.last = price
        self.volume = 0.0
        self.prev_close = prev_close
        self.time = time


class MarketTape:
    """Collects quotes, bars and fills on the engine's thread until :meth:`drain`."""

    def __init__(self, max_bars: int = 100_000) -> None:
        self._days: dict[str, _Day] = {}
        self._changed: set[str] = set()
        self._bars: list[Bar] = []
        self._fills: list[FillView] = []
        self._max_bars = max_bars  # a UI that stops draining must not make the engine grow without end
        self.dropped_bars = 0

    def tick(self, tick: Tick) -> None:
        day = tick.time.date()
        state = self._days.get(tick.symbol)
        if state is None or state.day != day:
            prev = state.last if state is not None else None
            state = self._days[tick.symbol] = _Day(day, tick.price, prev, tick.time)
        price = tick.price
        state.last = price
        state.time = tick.time
        if price > state.high:
            state.high = price
        elif price < state.low:
            state.low = price
        state.volume += tick.volume
        self._changed.add(tick.symbol)

    def bar(self, bar: Bar) -> None:
        if len(self._bars) >= self._max_bars:
            del self._bars[0]
            self.dropped_bars += 1
        self._bars.append(bar)

    def fill(self, fill: Fill, request: OrderRequest | None) -> None:
        self._fills.append(FillView(
            fill.time, fill.symbol, request.strategy if request is not None else "",
            fill.side.value, fill.qty, fill.price, request.purpose.value if request is not None else "",
            fill.client_order_id,
        ))

    def drain(self) -> MarketUpdate:
        """What changed since the last drain (and forget it)."""
        days = self._days
        quotes = tuple(
            Quote(s, d.time, d.last, d.open, d.high, d.low, d.volume, d.prev_close)
            for s in sorted(self._changed) if (d := days[s]) is not None
        )
        update = MarketUpdate(quotes, tuple(self._bars), tuple(self._fills))
        self._changed.clear()
        self._bars.clear()
        self._fills.clear()
        return update
