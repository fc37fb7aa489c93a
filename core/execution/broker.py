"""The broker interface the order manager talks to, and what a broker says back.

A broker answers :meth:`Broker.place` / ``modify`` / ``cancel`` with the events that call caused
(an acknowledgement, a reject) and reports later fills and status changes as events too. The
paper broker produces those from the market data the engine hands it (``on_tick``,
``on_bar_close``, ``on_session_end``); a real broker (Kite) gets them from its postback stream
and ignores the market hooks. Either way the engine consumes them in order, on its own thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from core.execution.orders import Fill, Order, OrderRequest, OrderStatus
from core.market.bars import Bar
from core.market.events import SessionEnd, Tick


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A broker's word on an order: its new status (and quantity, after a modify or an OCO cut)."""

    client_order_id: str
    status: OrderStatus
    time: dt.datetime
    broker_order_id: str | None = None
    qty: int | None = None
    trigger_price: float | None = None
    limit_price: float | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class FillEvent:
    """A fill, as the broker reports it."""

    fill: Fill


BrokerEvent = OrderUpdate | FillEvent


class Broker(Protocol):
    """What the order manager needs from a broker (paper or live)."""

    name: str

    def place(self, request: OrderRequest, now: dt.datetime) -> list[BrokerEvent]: ...

    def modify(
        self, client_order_id: str, now: dt.datetime, *, qty: int | None = None,
        trigger_price: float | None = None, limit_price: float | None = None,
    ) -> list[BrokerEvent]: ...

    def cancel(self, client_order_id: str, now: dt.datetime) -> list[BrokerEvent]: ...

    def on_tick(self, tick: Tick) -> list[BrokerEvent]: ...

    def on_bar_close(self, bar: Bar) -> list[BrokerEvent]: ...

    def on_session_end(self, event: SessionEnd) -> list[BrokerEvent]: ...

    def resume(self, orders: Iterable[Order], now: dt.datetime) -> list[BrokerEvent]:
        """After a restart: the orders the journal shows working. A real broker still holds them
        (reconciliation compares); the paper broker takes them back into its book. Nothing is sent."""
        ...
