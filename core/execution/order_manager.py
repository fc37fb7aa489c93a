"""OrderManager: every order of a session, its state machine, and the journal before the broker.

- **Write-ahead.** :meth:`OrderManager.submit` journals the order intent (flushed and fsynced:
  ``order_intent`` is a durable record type) before the broker sees the order; fills are journaled
  the same way before anything acts on them.
- **Deterministic ids.** Client order ids are built from the position id and the order's role
  (:func:`client_order_id`), and the position id from the symbol, strategy and the signal bar. A
  restart that rebuilds the book from the journal finds its ids already used and sends nothing
  twice (:meth:`OrderManager.submit` refuses a known id).
- **State machine.** new -> submitted -> open -> partially filled -> filled, or cancelled /
  rejected / expired; a broker update that would move a terminal order is ignored and reported,
  never applied (brokers do send late duplicates).
- **Timeouts.** An order the broker has not acknowledged within ``ack_timeout`` of market time is
  expired by :meth:`OrderManager.expire_unacknowledged`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from core.clock import MarketClock
from core.errors import AtwError
from core.execution.broker import Broker, BrokerEvent, FillEvent, OrderUpdate
from core.execution.orders import Fill, Order, OrderRequest, OrderStatus
from core.instants import utc_text
from core.journal.records import RecordType


class RecordSink(Protocol):
    """Where records go: the journal (and, through it, the ledger). Durable types are on disk on return."""

    def __call__(self, rtype: RecordType, payload: Mapping[str, Any], trace_id: str) -> None: ...

S = OrderStatus
_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.SUBMITTED, S.REJECTED}),
    S.SUBMITTED: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED}),
    S.OPEN: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED}),
}

_FILL_STATES = frozenset({S.PARTIALLY_FILLED, S.FILLED})
IGNORED_KEPT = 1000  # late updates for finished orders kept for a look (they are journaled anyway)


class OrderError(AtwError):
    """An order operation that cannot be done (unknown id, an id used twice)."""


def client_order_id(position_id: str, role: str) -> str:
    """``<position id>|<role>``: E entry, S stop, T target, P1.. scale-outs, X1.. market exits."""
    return f"{position_id}|{role}"


def price_text(price: float | None) -> str | None:
    """A price as the journal's decimal string (the shortest repr of the float)."""
    return None if price is None else repr(float(price))


class OrderManager:
    """Owns the orders; the engine calls it, the broker answers through events."""

    def __init__(
        self, broker: Broker, clock: MarketClock, record: RecordSink | None = None, *,
        ack_timeout: dt.timedelta = dt.timedelta(seconds=10),
    ) -> None:
        self.broker = broker
        self.clock = clock
        self.record = record
        self.ack_timeout = ack_timeout
        self.orders: dict[str, Order] = {}
        self.traces: dict[str, str] = {}
        self._by_position: dict[str, list[Order]] = {}
        self.ignored: list[OrderUpdate] = []  # updates that arrived for finished orders

    # ------------------------------------------------------------------ requests

    def submit(self, request: OrderRequest, trace_id: str, extra: Mapping[str, Any] | None = None) -> list[BrokerEvent]:
        """Journal the intent (durable), then send it; returns what the broker answered."""
        coid = request.client_order_id
        if coid in self.orders:
            raise OrderError(f"order {coid} was already sent; a restart never sends an order twice", where=coid)
        now = self.clock.now()
        order = Order(request, created_at=now, updated_at=now)
        self._add(order)
        self.traces[coid] = trace_id
        self._journal(RecordType.ORDER_INTENT, {**intent_payload(request), **(extra or {})}, trace_id)
        order.status = OrderStatus.SUBMITTED
        return list(self.broker.place(request, now))

    def modify(self, coid: str, *, qty: int | None = None, trigger_price: float | None = None,
               limit_price: float | None = None, reason: str = "") -> list[BrokerEvent]:
        """Ask the broker to change a working order; ``reason`` (a stop's kind: trail, breakeven) is journaled."""
        order = self._working(coid)
        changes = {k: v for k, v in (("qty", qty), ("trigger_price", price_text(trigger_price)),
                                     ("limit_price", price_text(limit_price)), ("reason", reason or None))
                   if v is not None}
        self._journal(RecordType.ORDER_UPDATE, {"client_order_id": coid, "status": order.status.value,
                                                "action": "modify", **changes}, self.traces[coid])
        return list(self.broker.modify(coid, self.clock.now(), qty=qty, trigger_price=trigger_price,
                                       limit_price=limit_price))

    def cancel(self, coid: str, why: str = "") -> list[BrokerEvent]:
        order = self._working(coid)
        self._journal(RecordType.ORDER_UPDATE, {"client_order_id": coid, "status": order.status.value,
                                                "action": "cancel", "message": why}, self.traces[coid])
        return list(self.broker.cancel(coid, self.clock.now()))

    # ------------------------------------------------------------------ broker events

    def apply(self, event: BrokerEvent, extra: Mapping[str, Any] | None = None) -> Order | None:
        """Apply one broker event (journaled first); None when it was ignored."""
        if isinstance(event, FillEvent):
            return self._apply_fill(event.fill, extra)
        return self._apply_update(event)

    def _apply_update(self, update: OrderUpdate) -> Order | None:
        order = self.orders.get(update.client_order_id)
        if order is not None and update.status is order.status and update.status in _FILL_STATES:
            return order  # the broker confirming what its fill already said
        if order is None or update.status not in _NEXT.get(order.status, frozenset()):
            self.ignored.append(update)
            return None
        first_ack = order.broker_order_id is None and update.broker_order_id is not None
        payload: dict[str, Any] = {"client_order_id": order.client_order_id, "status": update.status.value}
        if update.broker_order_id:
            payload["broker_order_id"] = update.broker_order_id
        if update.qty is not None:
            payload["qty"] = update.qty
        if update.message:
            payload["message"] = update.message
        rtype = RecordType.ORDER_ACK if first_ack or update.status is OrderStatus.REJECTED else RecordType.ORDER_UPDATE
        self._journal(rtype, payload, self.traces[order.client_order_id])
        if update.broker_order_id:
            order.broker_order_id = update.broker_order_id
        if not (update.status is OrderStatus.OPEN and order.status is OrderStatus.PARTIALLY_FILLED):
            order.status = update.status  # (a modify of a part-filled order keeps it part-filled)
        if update.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            order.request = _as_working(order, update)
        order.updated_at = update.time
        order.message = update.message or order.message
        return order

    def _apply_fill(self, fill: Fill, extra: Mapping[str, Any] | None) -> Order | None:
        order = self.orders.get(fill.client_order_id)
        if order is None:
            raise OrderError(f"fill {fill.fill_id} for an order this session never sent", where=fill.client_order_id)
        req = order.request
        payload = {
            "client_order_id": req.client_order_id, "fill_id": fill.fill_id, "symbol": req.symbol,
            "strategy": req.strategy, "side": req.side.value, "qty": fill.qty, "price": price_text(fill.price),
            "time": utc_text(fill.time), "purpose": req.purpose.value, "position_id": req.position_id,
        }
        if req.reason:
            payload["reason"] = req.reason
        self._journal(RecordType.FILL, {**payload, **(extra or {})}, self.traces[req.client_order_id])
        total = order.avg_price * order.filled_qty + fill.price * fill.qty
        order.filled_qty += fill.qty
        order.avg_price = total / order.filled_qty
        order.fills.append(fill)
        order.status = OrderStatus.FILLED if order.filled_qty >= req.qty else OrderStatus.PARTIALLY_FILLED
        order.updated_at = fill.time
        return order

    def expire_unacknowledged(self, now: dt.datetime) -> list[OrderUpdate]:
        """Orders still waiting for the broker's word after ``ack_timeout``, marked expired."""
        expired = [
            OrderUpdate(o.client_order_id, OrderStatus.EXPIRED, now, message="no acknowledgement from the broker")
            for o in self.orders.values()
            if o.status is OrderStatus.SUBMITTED and o.created_at is not None and now - o.created_at > self.ack_timeout
        ]
        for update in expired:
            self._apply_update(update)
        return expired

    # ------------------------------------------------------------------ queries

    def working(self, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.working and (symbol is None or o.request.symbol == symbol)]

    def of_position(self, position_id: str) -> list[Order]:
        return list(self._by_position.get(position_id, ()))

    def forget_finished(self, before: dt.datetime) -> int:
        """Drop finished orders last updated before ``before`` (a past session's): memory stays flat
        over a long run. Their ids cannot come back: a position id carries its signal bar's date."""
        gone = [coid for coid, o in self.orders.items()
                if not o.working and o.updated_at is not None and o.updated_at < before]
        for coid in gone:
            order = self.orders.pop(coid)
            self.traces.pop(coid, None)
            siblings = self._by_position.get(order.request.position_id, [])
            siblings.remove(order)
            if not siblings:
                self._by_position.pop(order.request.position_id, None)
        del self.ignored[:-IGNORED_KEPT]
        return len(gone)

    def restore(self, orders: Iterable[Order], traces: Mapping[str, str]) -> None:
        """Take back the book a journal replay rebuilt (restart): those ids are spent."""
        for order in orders:
            self._add(order)
        self.traces.update(traces)

    # ------------------------------------------------------------------ helpers

    def _add(self, order: Order) -> None:
        old = self.orders.get(order.client_order_id)
        if old is not None:
            self._by_position[old.request.position_id].remove(old)
        self.orders[order.client_order_id] = order
        self._by_position.setdefault(order.request.position_id, []).append(order)

    def _working(self, coid: str) -> Order:
        order = self.orders.get(coid)
        if order is None:
            raise OrderError(f"no order {coid}", where=coid)
        return order

    def _journal(self, rtype: RecordType, payload: Mapping[str, Any], trace_id: str) -> None:
        if self.record is not None:
            self.record(rtype, payload, trace_id)


def _as_working(order: Order, update: OrderUpdate) -> OrderRequest:
    """The request as the broker now holds it: a modify's new levels, a cut quantity (filled + open)."""
    changes: dict[str, Any] = {}
    if update.qty is not None:
        changes["qty"] = order.filled_qty + update.qty
    if update.trigger_price is not None:
        changes["trigger_price"] = update.trigger_price
    if update.limit_price is not None:
        changes["limit_price"] = update.limit_price
    return replace(order.request, **changes) if changes else order.request


def intent_payload(request: OrderRequest) -> dict[str, Any]:
    """The journal's order intent for a request."""
    payload: dict[str, Any] = {
        "client_order_id": request.client_order_id, "symbol": request.symbol, "strategy": request.strategy,
        "side": request.side.value, "qty": request.qty, "order_type": request.order_type.value,
        "purpose": request.purpose.value, "position_id": request.position_id,
    }
    if request.limit_price is not None:
        payload["limit_price"] = price_text(request.limit_price)
    if request.trigger_price is not None:
        payload["trigger_price"] = price_text(request.trigger_price)
    if request.reason:
        payload["reason"] = request.reason
    return payload
