"""KiteBroker: the Broker protocol over Kite Connect (orders at Zerodha; fills from its order book).

- **Ids.** Each order goes out tagged with :func:`kite_tag` of its client order id (Kite's tag:
  alphanumeric, at most 20 characters). The tag is deterministic, so after a restart, or after a
  placement whose answer was lost, the order is found in Kite's book by its tag and never placed
  twice (:meth:`KiteGateway.place_order`).
- **What comes back.** ``place`` answers nothing at once: Kite's acceptance of a request is not
  the order's status (its RMS may still reject it). Statuses and fills arrive as *observations*
  of Kite's order objects, from the ticker's order postbacks (:meth:`on_postback`, any thread)
  and from polling the order book (:meth:`poll`; postbacks are lost while the socket is down).
  Both go through one path that turns a change into broker events once: ``OPEN``/``TRIGGER
  PENDING`` -> open (with the levels Kite holds), a rise in ``filled_quantity`` -> the order's
  new trades as fills (their own ids, prices and times, from ``order_trades``), ``CANCELLED`` and
  ``REJECTED`` -> those, after any fills. A fill never waits on the order's status: if Kite's
  trade book lags its order book the fills come at the next observation.
- **Threads.** Everything except :meth:`on_postback` runs on the engine's thread; postbacks are
  queued and applied on the next market event (``on_tick``/``on_bar_close``) or poll.
- **Prices** are put on the instrument's tick grid before they leave; market and SL-M orders
  carry ``market_protection=-1`` (automatic), which Kite requires of API orders since April 2026.
- **Freeze quantities.** An order above its instrument's freeze quantity (F&O; the exchange
  refuses a larger single order) goes as Kite's ``iceberg`` variety: the fewest legs (2 to 10)
  whose equal, whole-lot leg fits under the freeze. Kite places each leg as an order of its own
  (same tag) once the previous one completes; the broker follows every leg as one client order
  (fills summed, modify and cancel on the working leg). Above ten legs the order is refused
  before it leaves.
"""

from __future__ import annotations

import datetime as dt
import queue
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.clock import IST, LiveClock, MarketClock
from core.execution.broker import BrokerEvent, FillEvent, OrderUpdate
from core.execution.kite_gateway import (
    BrokerRejected,
    BrokerSessionExpired,
    BrokerUnavailable,
    KiteGateway,
)
from core.execution.kite_wire import KITE_TIME, kite_tag
from core.execution.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Purpose, Side
from core.market.bars import Bar
from core.market.events import SessionEnd, Tick
from core.market.instruments import InstrumentMaster

_RESTING = frozenset({"OPEN", "TRIGGER PENDING"})
MARKET_PROTECTION_AUTO = -1
ICEBERG_MAX_LEGS = 10


def iceberg_legs(qty: int, freeze_qty: int, lot_size: int) -> tuple[int, int] | None:
    """The fewest legs (and the leg quantity: equal, whole lots, under the freeze) that carry
    ``qty``; None when ten legs cannot."""
    for legs in range(2, ICEBERG_MAX_LEGS + 1):
        lots = -(-qty // (legs * lot_size))  # ceil
        leg_qty = lots * lot_size
        if leg_qty <= freeze_qty and leg_qty * (legs - 1) < qty:
            return legs, leg_qty
    return None


def kite_time(value: Any, default: dt.datetime) -> dt.datetime:
    """A Kite timestamp (naive IST ``datetime`` from the client, or its ``YYYY-MM-DD HH:MM:SS``
    text in a postback) as an aware Asia/Kolkata datetime."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=IST) if value.tzinfo is None else value.astimezone(IST)
    if isinstance(value, str) and len(value) == 19:
        return dt.datetime.strptime(value, KITE_TIME).replace(tzinfo=IST)
    return default


@dataclass
class _Tracked:
    request: OrderRequest
    order_id: str  # the working leg's (a regular order has one)
    variety: str = "regular"
    seen: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # per leg: the last observation acted on
    leg_filled: dict[str, int] = field(default_factory=dict)  # per leg: quantity reported as fills
    trades: set[str] = field(default_factory=set)  # Kite trade ids already reported
    filled: int = 0  # quantity already reported as fills, every leg
    acked: bool = False  # Kite's order id reported to the order manager
    ended: bool = False
    leg: int = 0  # the working leg's number (an iceberg's meta.iceberg.leg; 0 until seen)
    cancelled_legs: set[str] = field(default_factory=set)  # legs we asked Kite to cancel
    cancelling: bool = False  # a cancel was asked for: a leg Kite places after it is cancelled too


class KiteBroker:
    """Orders through a :class:`KiteGateway` (see the module docstring)."""

    name = "kite"

    def __init__(self, gateway: KiteGateway, master: InstrumentMaster, *, product: str = "MIS",
                 algo_id: str | None = None, poll_s: float = 5.0, clock: MarketClock | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gateway = gateway
        self.clock = clock or LiveClock()  # the time of an update that carries none
        self.master = master
        self.product = product
        self.algo_id = algo_id
        self.poll_s = poll_s
        self._monotonic = monotonic
        self._next_poll = 0.0
        self._by_coid: dict[str, _Tracked] = {}
        self._by_order_id: dict[str, _Tracked] = {}
        self._following: set[str] = set()  # client order ids still working at Kite
        self._by_tag: dict[str, OrderRequest] = {}  # every order sent, by its tag
        self._postbacks: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.session_expired = False  # set when Kite said the token is no longer valid
        self.last_error = ""

    # ------------------------------------------------------------------ Broker protocol

    def place(self, request: OrderRequest, now: dt.datetime) -> list[BrokerEvent]:
        before: list[BrokerEvent] = []
        qty = request.qty
        if request.purpose is Purpose.EXIT and request.order_type is OrderType.MARKET:
            before, left = self._clear_exits_of(request)
            if left is None:
                return before + [OrderUpdate(request.client_order_id, OrderStatus.REJECTED, now,
                                             message="not sent: Kite's order book could not be read to see what "
                                                     "the position's other exits did")]
            if left <= 0:
                return before + [OrderUpdate(request.client_order_id, OrderStatus.REJECTED, now,
                                             message="not sent: the position was already closed at Kite")]
            qty = left
        params, refused = self._params(request, qty)
        if refused:
            return before + [OrderUpdate(request.client_order_id, OrderStatus.REJECTED, now, message=refused)]
        tag = kite_tag(request.client_order_id)
        self._by_tag[tag] = request
        try:
            order_id = self.gateway.place_order(params, tag)
        except (BrokerRejected, BrokerSessionExpired) as exc:
            self._note(exc)
            return before + [OrderUpdate(request.client_order_id, OrderStatus.REJECTED, now, message=str(exc))]
        except BrokerUnavailable as exc:  # it may yet have landed: the poll finds it by its tag, or
            self._note(exc)               # the order manager expires it unacknowledged
            return before + self.drain()
        self._track(request, order_id).variety = params["variety"]
        return before + self.drain()

    def modify(self, client_order_id: str, now: dt.datetime, *, qty: int | None = None,
               trigger_price: float | None = None, limit_price: float | None = None) -> list[BrokerEvent]:
        tracked = self._by_coid.get(client_order_id)
        if tracked is None or tracked.ended:
            return [OrderUpdate(client_order_id, OrderStatus.REJECTED, now,
                                message="Order cannot be modified as it is being processed or is complete.")]
        if qty is not None and qty <= 0:
            return self.cancel(client_order_id, now)
        inst = self.master.get(tracked.request.symbol)
        changes: dict[str, Any] = {}
        if qty is not None:
            changes["quantity"] = tracked.filled + qty
        if trigger_price is not None:
            changes["trigger_price"] = inst.round_price(trigger_price)
        if limit_price is not None:
            changes["price"] = inst.round_price(limit_price)
        freeze = inst.freeze_qty
        if qty is not None and (tracked.variety == "iceberg" or (freeze is not None and changes["quantity"] > freeze)):
            # Kite modifies neither an iceberg's quantity nor a single order past the freeze: the
            # order is cancelled instead, and the engine puts its stop back at the right size
            self.last_error = f"{client_order_id}: its quantity cannot change at Kite; cancelled to be re-placed"
            return self.cancel(client_order_id, now)
        try:
            self.gateway.modify_order(tracked.variety, tracked.order_id, **changes)
        except (BrokerRejected, BrokerUnavailable, BrokerSessionExpired) as exc:
            self._note(exc)
            return self.drain()  # Kite keeps the order as it was; its next observation says how
        return [OrderUpdate(client_order_id, OrderStatus.OPEN, now, tracked.order_id, qty=qty,
                            trigger_price=changes.get("trigger_price"), limit_price=changes.get("price"))]

    def cancel(self, client_order_id: str, now: dt.datetime) -> list[BrokerEvent]:
        tracked = self._by_coid.get(client_order_id)
        if tracked is None:
            return [OrderUpdate(client_order_id, OrderStatus.CANCELLED, now, message="never reached Kite")]
        if not tracked.ended:
            tracked.cancelling = True
            self._cancel_leg(tracked, tracked.order_id)  # already filled or cancelled? the poll tells
        return self.drain()

    def on_tick(self, tick: Tick) -> list[BrokerEvent]:
        return self.due()

    def on_bar_close(self, bar: Bar) -> list[BrokerEvent]:
        return self.due()

    def on_session_end(self, event: SessionEnd) -> list[BrokerEvent]:
        return self.due()

    def resume(self, orders: Iterable[Order], now: dt.datetime) -> list[BrokerEvent]:
        """After a restart: find each working order in Kite's book by its tag and follow it again."""
        legs: dict[str, list[dict[str, Any]]] = {}
        for found in self.gateway.orders():  # in the order Kite placed them: an iceberg's legs in turn
            if found.get("tag"):
                legs.setdefault(str(found["tag"]), []).append(found)
        events: list[BrokerEvent] = []
        for order in orders:
            tag = kite_tag(order.client_order_id)
            self._by_tag[tag] = order.request
            for k, found in enumerate(legs.get(tag, [])):
                tracked = self._track(order.request, str(found["order_id"]))
                if k == 0:  # what the journal says was reported, once: later legs' reports add to it
                    tracked.variety = str(found.get("variety") or "regular")
                    tracked.filled = order.filled_qty
                    tracked.trades = {f.fill_id.removeprefix("kite:") for f in order.fills}
                events.extend(self._observe(found, now))
        return events

    # ------------------------------------------------------------------ observations

    def on_postback(self, payload: dict[str, Any]) -> None:
        """An order update from the ticker (any thread): applied on the engine's next event."""
        self._postbacks.put(payload)

    def drain(self) -> list[BrokerEvent]:
        """Apply the postbacks received so far."""
        events: list[BrokerEvent] = []
        while True:
            try:
                payload = self._postbacks.get_nowait()
            except queue.Empty:
                return events
            events.extend(self._observe(payload, None))

    def poll(self) -> list[BrokerEvent]:
        """Read Kite's order book and apply what changed (recovers postbacks lost in a disconnect)."""
        self._next_poll = self._monotonic() + self.poll_s
        events = self.drain()
        try:
            book = self.gateway.orders()
        except (BrokerRejected, BrokerUnavailable, BrokerSessionExpired) as exc:
            self._note(exc)
            return events
        for order in book:
            events.extend(self._observe(order, None))
        return events

    def arm_check(self, symbol: str, qty: int, price: float,
                  armed: Sequence[tuple[str, int]] = ()) -> str | None:
        """Kite's own word before a pair is armed: the margin that one entry of ``qty`` needs
        together with one entry of each pair already armed and waiting (``armed``: symbol and
        quantity), all at once (``basket_order_margins`` with the open positions), against the
        equity margin available now; why not, or None."""
        legs = [(symbol, qty), *armed]
        basket = [{"exchange": self.master.get(s).exchange, "tradingsymbol": s, "transaction_type": "BUY",
                   "variety": "regular", "product": self.product, "order_type": "MARKET", "quantity": q,
                   "price": 0, "trigger_price": 0} for s, q in legs]
        try:
            needed = float(self.gateway.basket_order_margins(basket)["final"]["total"])
            available = float(self.gateway.margins()["equity"]["net"])
        except (BrokerRejected, BrokerUnavailable, BrokerSessionExpired, KeyError, TypeError) as exc:
            return f"Kite's margins could not be read: {exc}"
        if needed > available:
            others = f" with the {len(armed)} armed pair(s) entering too" if armed else ""
            return (f"Kite asks Rs {needed:,.2f} margin for {qty} {symbol}{others}; "
                    f"Rs {available:,.2f} is available")
        return None

    def tracked_order_id(self, client_order_id: str) -> str | None:
        tracked = self._by_coid.get(client_order_id)
        return tracked.order_id if tracked is not None else None

    # ------------------------------------------------------------------ helpers

    def due(self) -> list[BrokerEvent]:
        """What the postbacks said since the last call, and a poll of the order book when one is
        due (every ``poll_s`` while any order is working): for the host's idle turns too."""
        if self._following and self._monotonic() >= self._next_poll:
            return self.poll()
        return self.drain()

    def _observe(self, order: dict[str, Any], now: dt.datetime | None) -> list[BrokerEvent]:
        leg = str(order.get("order_id"))
        tracked = self._by_order_id.get(leg)
        if tracked is None:
            request = self._by_tag.get(order.get("tag") or "")
            if request is None:
                return []  # not one of ours (another terminal's order)
            tracked = self._track(request, leg)  # a placement whose answer was lost, or an iceberg's next leg
        status = str(order.get("status", ""))
        seen = (status, order.get("filled_quantity"), order.get("pending_quantity"), order.get("price"),
                order.get("trigger_price"))
        if tracked.ended or seen == tracked.seen.get(leg):
            return []
        when = kite_time(order.get("exchange_update_timestamp") or order.get("order_timestamp"),
                         now or self.clock.now())
        coid = tracked.request.client_order_id
        berg = (order.get("meta") or {}).get("iceberg") or {}
        if int(berg.get("leg") or 0) > tracked.leg:  # a later leg is the working one (never an earlier)
            tracked.order_id, tracked.leg = leg, int(berg["leg"])
        if tracked.cancelling and status in _RESTING and leg not in tracked.cancelled_legs:
            self._cancel_leg(tracked, leg)  # Kite placed the next leg of an order we cancelled
        later_legs = int(berg.get("remaining_quantity") or 0) if int(berg.get("leg") or 0) < int(berg.get("legs") or 0) \
            else 0  # quantity Kite will place as further legs of an iceberg
        events: list[BrokerEvent] = []
        if not tracked.acked and status in ("COMPLETE", "CANCELLED"):
            # first seen already done (a market order filled at once, postbacks lost): its Kite id
            # is acknowledged before its fills, so the journal and the ledger carry it
            events.append(OrderUpdate(coid, OrderStatus.OPEN, when, tracked.order_id,
                                      qty=tracked.request.qty - tracked.filled))
        if status != "REJECTED":
            tracked.acked = True
        leg_filled = int(order.get("filled_quantity") or 0)
        events.extend(self._fills(tracked, leg, leg_filled))
        caught_up = tracked.leg_filled.get(leg, 0) >= leg_filled
        if caught_up:
            tracked.seen[leg] = seen  # else look again next time: the trade book is behind
        pending = int(order.get("pending_quantity") or 0)
        if status in _RESTING and pending > 0 or status == "COMPLETE" and caught_up and later_legs > 0:
            events.append(OrderUpdate(coid, OrderStatus.OPEN, when, tracked.order_id,
                                      qty=(pending if status in _RESTING else 0) + later_legs,
                                      trigger_price=_level(order.get("trigger_price")),
                                      limit_price=_level(order.get("price"))))
        elif status == "CANCELLED" and caught_up:
            self._end(tracked)
            events.append(OrderUpdate(coid, OrderStatus.CANCELLED, when, tracked.order_id,
                                      message=str(order.get("status_message") or "")))
        elif status == "REJECTED":
            self._end(tracked)
            message = str(order.get("status_message") or "rejected by Kite")
            # a later leg refused after earlier legs filled: the order ends with what it filled
            ended = OrderStatus.CANCELLED if tracked.filled > 0 else OrderStatus.REJECTED
            events.append(OrderUpdate(coid, ended, when, tracked.order_id, message=message))
        elif status == "COMPLETE" and caught_up:
            self._end(tracked)
        return events

    def _fills(self, tracked: _Tracked, leg: str, filled: int) -> list[FillEvent]:
        """The leg's trades not reported yet, once Kite says it filled more than was reported."""
        if filled <= tracked.leg_filled.get(leg, 0):
            return []
        try:
            trades = self.gateway.order_trades(leg)
        except (BrokerRejected, BrokerUnavailable, BrokerSessionExpired) as exc:
            self._note(exc)
            return []
        req = tracked.request
        out = []
        reported = 0
        for trade in sorted(trades, key=lambda t: (str(t.get("fill_timestamp")), str(t["trade_id"]))):
            trade_id = str(trade["trade_id"])
            qty = int(trade["quantity"])
            reported += qty
            if trade_id in tracked.trades:
                continue
            tracked.trades.add(trade_id)
            tracked.filled += qty
            when = kite_time(trade.get("fill_timestamp") or trade.get("exchange_timestamp"), self.clock.now())
            out.append(FillEvent(Fill(req.client_order_id, f"kite:{trade_id}", req.symbol, req.side, qty,
                                      float(trade["average_price"]), when)))
        tracked.leg_filled[leg] = reported
        return out

    def _clear_exits_of(self, request: OrderRequest) -> tuple[list[BrokerEvent], int | None]:
        """Before a market exit: cancel the position's other exits working at Kite (Kite has no
        one-cancels-other for them; every leg of an iceberg) and read back what they did meanwhile.
        The events seen, and the quantity still to exit: the request's (the engine's open quantity
        when it decided) less what those exits filled at Kite beyond what the engine was told —
        read from Kite's order book, so a trade book that lags, or a restart, changes nothing. A
        stop that filled first leaves nothing to exit. None when the book cannot be read (then
        nothing is sent: two exits must never both fill)."""
        pid = request.position_id
        others = [t for t in self._by_coid.values() if not t.ended and t.request.position_id == pid
                  and t.request.purpose is Purpose.EXIT]
        if not others:
            return [], request.qty
        told = {t.request.client_order_id: t.filled for t in others}
        for tracked in others:
            tracked.cancelling = True
            self._cancel_leg(tracked, tracked.order_id)  # most often refused because it filled first
        events = self.drain()
        try:
            book = self.gateway.orders()
        except (BrokerRejected, BrokerUnavailable, BrokerSessionExpired) as exc:
            self._note(exc)
            return events, None
        unreported = 0
        for tracked in others:
            coid = tracked.request.client_order_id
            legs = [o for o in book if o.get("tag") == kite_tag(coid)]
            for order in legs:
                events.extend(self._observe(order, None))  # a leg placed meanwhile is cancelled here too
            unreported += sum(int(o.get("filled_quantity") or 0) for o in legs) - told[coid]
        return events, request.qty - max(unreported, 0)

    def _params(self, request: OrderRequest, qty: int) -> tuple[dict[str, Any], str]:
        """Kite's order parameters for ``qty`` of the request, or why it cannot go."""
        inst = self.master.get(request.symbol)
        kind = request.order_type
        params: dict[str, Any] = {
            "variety": "regular", "exchange": inst.exchange, "tradingsymbol": request.symbol,
            "transaction_type": "BUY" if request.side is Side.BUY else "SELL", "quantity": qty,
            "product": self.product, "order_type": kind.value, "validity": "DAY",
        }
        if inst.freeze_qty is not None and qty > inst.freeze_qty:
            legs = iceberg_legs(qty, inst.freeze_qty, inst.lot_size)
            if legs is None:
                return params, (f"not sent: {qty} {request.symbol} is more than {ICEBERG_MAX_LEGS} iceberg legs of "
                                f"the freeze quantity {inst.freeze_qty}")
            params.update(variety="iceberg", iceberg_legs=legs[0], iceberg_quantity=legs[1])
        if kind in (OrderType.LIMIT, OrderType.SL) and request.limit_price is not None:
            params["price"] = inst.round_price(request.limit_price)
        if kind in (OrderType.SL, OrderType.SL_M) and request.trigger_price is not None:
            params["trigger_price"] = inst.round_price(request.trigger_price)
        if kind in (OrderType.MARKET, OrderType.SL_M):
            params["market_protection"] = MARKET_PROTECTION_AUTO
        if self.algo_id:
            params["algo_id"] = self.algo_id
        return params, ""

    def _track(self, request: OrderRequest, order_id: str) -> _Tracked:
        """Follow a Kite order of the request: its first, or a later leg (which becomes the working
        one when its observation shows a higher leg number)."""
        tracked = self._by_coid.get(request.client_order_id)
        if tracked is None:
            tracked = _Tracked(request, order_id)
            self._by_coid[request.client_order_id] = tracked
            self._following.add(request.client_order_id)
        self._by_order_id[order_id] = tracked
        return tracked

    def _cancel_leg(self, tracked: _Tracked, leg: str) -> None:
        tracked.cancelled_legs.add(leg)
        try:
            self.gateway.cancel_order(tracked.variety, leg)
        except (BrokerRejected, BrokerUnavailable, BrokerSessionExpired) as exc:
            self._note(exc)  # the next observation says what became of it

    def _end(self, tracked: _Tracked) -> None:
        tracked.ended = True
        self._following.discard(tracked.request.client_order_id)

    def _note(self, exc: Exception) -> None:
        self.last_error = str(exc)
        if isinstance(exc, BrokerSessionExpired):
            self.session_expired = True


def _level(value: Any) -> float | None:
    price = float(value or 0)
    return price if price > 0 else None
