"""Immutable views of the engine for the UI and the CLI, and their bounded publishing rate.

A :class:`Snapshot` is built on the engine's thread and handed over whole; nothing in it refers
back to live state, so the UI can keep it as long as it likes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from core.risk.limits import RiskLimits
from core.risk.rms import RmsSnapshot

if TYPE_CHECKING:
    from core.automation.engine import Engine
    from core.automation.slot import Slot


@dataclass(frozen=True, slots=True)
class Alert:
    time: dt.datetime
    level: str  # info, warning, error, critical
    text: str


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    strategy: str
    side: str
    qty: int
    entry_price: float
    entry_time: dt.datetime
    stop: float | None
    stop_kind: str
    target: float | None
    last: float | None
    unrealised: Decimal


@dataclass(frozen=True, slots=True)
class OrderView:
    client_order_id: str
    symbol: str
    side: str
    qty: int
    filled: int
    order_type: str
    purpose: str
    status: str
    trigger: float | None
    limit: float | None


@dataclass(frozen=True, slots=True)
class SlotView:
    symbol: str
    strategy: str
    armed: bool
    failed: str
    last_signal: str
    last_signal_time: dt.datetime | None
    trades_today: int


@dataclass(frozen=True, slots=True)
class Gauge:
    """One limit: what is used of it now, the limit (0: off), and what would trip it, in words."""

    name: str
    used: Decimal
    limit: Decimal
    trips: str = ""

    @property
    def fraction(self) -> Decimal:
        return self.used / self.limit if self.limit > 0 else Decimal(0)


@dataclass(frozen=True, slots=True)
class PortfolioView:
    """The portfolio risk engine's picture: sizing, caps in use, drawdown, tail risk, cooldowns."""

    sizing: str
    gauges: tuple[Gauge, ...]  # heat, gross, net, the most used group of each group cap, drawdown, daily loss, tail
    drawdown_level: str  # ok, soft, daily_loss, hard
    var95: Decimal | None  # historical, rupees over 15 minutes (None: too little history yet)
    var99: Decimal | None
    cvar99: Decimal | None
    worst_stress: tuple[str, Decimal] | None
    cooldowns: tuple[str, ...]  # "ema_cross until 11:05"


@dataclass(frozen=True, slots=True)
class Snapshot:
    time: dt.datetime
    state: str
    halt_reason: str
    slots: tuple[SlotView, ...]
    positions: tuple[PositionView, ...]
    orders: tuple[OrderView, ...]
    realised: Decimal
    unrealised: Decimal
    rms: RmsSnapshot
    cutoff_in: dt.timedelta | None
    alerts: tuple[Alert, ...]
    mode: str = "replay"
    broker: str = "paper"
    limits: RiskLimits = RiskLimits()
    last_tick_at: dt.datetime | None = None  # the newest tick of any instrument (market clock)
    entry_hold: str = ""  # why new entries are held (the broker session ended, ...), or ""
    portfolio: PortfolioView | None = None
    day_charges: Decimal = Decimal(0)  # the charges of the day's closed trades (the lock acts on P&L net of them)


def level_or_none(x: float) -> float | None:
    """A price level for display or the journal: None when it is not set (NaN)."""
    return None if x != x else x


def build_snapshot(engine: Engine, alerts: int = 20) -> Snapshot:
    """Copy what the trader sees out of the engine (on the engine's thread)."""
    positions = []
    for slot in engine.slots.values():
        pos = slot.manager.position
        if pos is None:
            continue
        tick = engine.last_tick.get(slot.symbol)
        last = tick.price if tick else None
        # prices to the paisa first: a float difference would carry binary noise into rupees
        unreal = ((_paise(last) - _paise(pos.entry_price)) * pos.side * pos.qty if last is not None
                  else Decimal(0))
        positions.append(PositionView(slot.symbol, slot.strategy.name, "LONG" if pos.side > 0 else "SHORT", pos.qty,
                                      pos.entry_price, pos.entry_time, level_or_none(pos.stop), pos.stop_kind.label,
                                      level_or_none(pos.target), last, unreal))
    orders = tuple(
        OrderView(o.client_order_id, o.request.symbol, o.request.side.value, o.request.qty, o.filled_qty,
                  o.request.order_type.value, o.request.purpose.value, o.status.value, o.request.trigger_price,
                  o.request.limit_price)
        for o in engine.orders.working()
    )
    slots = tuple(slot_view(s) for s in engine.slots.values())
    now = engine.clock.now()
    return Snapshot(
        time=now, state=engine.risk.state.value, halt_reason=engine.halt_reason, slots=slots,
        positions=tuple(positions), orders=orders, realised=engine.day_realised,
        unrealised=sum((p.unrealised for p in positions), Decimal(0)), rms=engine.risk.rms.snapshot(),
        cutoff_in=engine.clock.time_to_cutoff(now), alerts=tuple(engine.alerts[-alerts:]),
        mode=engine.mode, broker=engine.broker.name, limits=engine.risk.limits,
        last_tick_at=engine.last_tick_time, entry_hold=engine.entry_hold, portfolio=engine.guard.view(),
        day_charges=engine.guard.day_charges,
    )


def slot_view(slot: Slot) -> SlotView:
    """The slot as published; the very same object as last time when nothing it shows changed
    (a 200 x 4 grid then costs the UI an identity check per pair, not a comparison)."""
    shown = (slot.armed, slot.failed, slot.last_signal, slot.last_signal_time, slot.manager.trades_today)
    if slot.view is not None and slot.view[0] == shown:
        return slot.view[1]  # type: ignore[return-value]
    view = SlotView(slot.symbol, slot.strategy.name, slot.armed, slot.failed, _describe(slot.last_signal),
                    slot.last_signal_time, slot.manager.trades_today)
    slot.view = (shown, view)
    return view


def _paise(price: float) -> Decimal:
    return Decimal(repr(price)).quantize(_PAISA)


_PAISA = Decimal("0.01")


def _describe(signal: object) -> str:
    if signal is None:
        return ""
    parts = [name for name in ("long_entry", "short_entry", "exit_long", "exit_short") if getattr(signal, name)]
    return ",".join(parts) or "none"


class Throttle:
    """Lets a publish through at most ``hz`` times a second of wall time (monotonic)."""

    def __init__(self, hz: float, publish: Callable[[Snapshot], None], now: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / hz if hz > 0 else 0.0
        self.publish = publish
        self.now = now
        self._last = -float("inf")

    def offer(self, build: Callable[[], Snapshot], *, force: bool = False) -> bool:
        t = self.now()
        if not force and t - self._last < self.interval:
            return False
        self._last = t
        self.publish(build())
        return True
