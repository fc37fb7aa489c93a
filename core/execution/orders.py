"""Order types shared by the risk checks, the order manager and the brokers.

An :class:`OrderRequest` is what the engine wants (immutable, journaled as the order intent
before any broker sees it); an :class:`Order` is that request's life at the broker: status,
filled quantity and average price. Client order ids are deterministic (see
:mod:`core.execution.order_manager`), so a restart can tell what it already sent.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @classmethod
    def of(cls, sign: int) -> Side:
        return cls.BUY if sign > 0 else cls.SELL


class OrderType(enum.StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"  # stop-limit: triggers at trigger_price, then rests at limit_price
    SL_M = "SL-M"  # stop-market: triggers at trigger_price, then fills at market


class Purpose(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class OrderStatus(enum.StrEnum):
    NEW = "new"  # journaled, not yet at the broker
    SUBMITTED = "submitted"  # sent, no acknowledgement yet
    OPEN = "open"  # acknowledged and working
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order the engine wants placed. Prices are on the instrument's tick grid."""

    client_order_id: str
    symbol: str
    strategy: str
    side: Side
    qty: int
    order_type: OrderType
    purpose: Purpose
    position_id: str
    limit_price: float | None = None
    trigger_price: float | None = None
    reason: str = ""  # exit reason label (stop, trail, target, partial, signal, cutoff, kill, ...)

    @property
    def is_entry(self) -> bool:
        return self.purpose is Purpose.ENTRY


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution of (part of) an order."""

    client_order_id: str
    fill_id: str
    symbol: str
    side: Side
    qty: int
    price: float
    time: dt.datetime


@dataclass(slots=True)
class Order:
    """An order's life: the request plus what the broker has said about it."""

    request: OrderRequest
    status: OrderStatus = OrderStatus.NEW
    filled_qty: int = 0
    avg_price: float = 0.0
    broker_order_id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    message: str = ""
    fills: list[Fill] = field(default_factory=list)

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def open_qty(self) -> int:
        return self.request.qty - self.filled_qty

    @property
    def working(self) -> bool:
        return not self.status.terminal
