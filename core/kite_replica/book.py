"""The replica's exchange side: instruments, last prices, orders, trades and positions.

Orders are shaped like Kite's order objects (the field names of ``GET /orders``), with the
status history ``GET /orders/{id}`` returns, and they match against the last price the test
(or the demo) sets with :meth:`ReplicaBook.set_price`:

- ``MARKET`` fills at the last price as soon as there is one; ``LIMIT`` when the price trades at
  or through the limit (at the limit, or at the last price when placed through it); ``SL``
  triggers when the price reaches the trigger and then rests as a limit; ``SL-M`` triggers
  and fills at the last price.
- Statuses follow Kite's: ``PUT ORDER REQ RECEIVED -> VALIDATION PENDING -> OPEN PENDING ->
  OPEN`` (or ``TRIGGER PENDING``) ``-> COMPLETE``, ``CANCELLED`` or ``REJECTED``; a modify
  walks ``MODIFY VALIDATION PENDING -> MODIFY PENDING -> MODIFIED -> OPEN``.
- Every state change is offered to the listeners (the ticker's order postbacks).

Faults the tests drive: fills in chunks (``fill_chunk``: partial fills), the next order rejected
by the RMS (``reject_next``), and a position changed behind the trader's back
(:meth:`ReplicaBook.adjust_position`). The exact wording of Kite's rejections is not
documented; the messages here follow the ones seen in Kite's own sample responses.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.clock import IST, LiveClock
from core.execution.kite_wire import KITE_TIME

VARIETIES = frozenset({"regular", "amo", "co", "iceberg", "auction"})
PRODUCTS = frozenset({"MIS", "CNC", "NRML", "MTF"})
ORDER_TYPES = frozenset({"MARKET", "LIMIT", "SL", "SL-M"})
SIDES = frozenset({"BUY", "SELL"})
TERMINAL = frozenset({"COMPLETE", "CANCELLED", "REJECTED"})

Listener = Callable[[dict[str, Any]], None]


class ReplicaRefusal(Exception):
    """A request the replica refuses the way Kite would: an ``error_type`` and an HTTP status."""

    def __init__(self, message: str, error_type: str = "InputException", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.status = status


@dataclass(frozen=True, slots=True)
class ReplicaInstrument:
    """One tradable row of the replica's instrument dump."""

    token: int
    exchange: str
    tradingsymbol: str
    name: str = ""
    tick_size: float = 0.05
    lot_size: int = 1
    segment: str = ""
    instrument_type: str = "EQ"
    freeze_qty: int | None = None  # the exchange's largest single order (F&O); Kite's dump does not say
    expiry: str = ""
    strike: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.exchange}:{self.tradingsymbol}"


@dataclass
class _Order:
    fields: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    triggered: bool = False


@dataclass
class _Position:
    buy_qty: int = 0
    buy_value: float = 0.0
    sell_qty: int = 0
    sell_value: float = 0.0
    product: str = "MIS"


def _on_tick(price: float, tick: float) -> bool:
    steps = price / tick
    return abs(steps - round(steps)) < 1e-6


class ReplicaBook:
    """Thread-safe; every method may be called from the HTTP server's threads and the test's."""

    def __init__(self, instruments: list[ReplicaInstrument], *, user_id: str = "AB1234",
                 now: Callable[[], dt.datetime] | None = None,
                 cash: float = 1_000_000.0) -> None:
        self.user_id = user_id
        self.cash = cash
        self._now = now or LiveClock().now
        self._lock = threading.RLock()
        self.instruments = {i.key: i for i in instruments}
        self._by_token = {i.token: i for i in instruments}
        self._ltp: dict[str, float] = {}
        self._orders: dict[str, _Order] = {}
        self._trades: list[dict[str, Any]] = []
        self._positions: dict[tuple[str, str], _Position] = {}
        self._holdings: dict[str, tuple[int, float]] = {}  # key -> quantity, average price (delivery)
        self._ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self.listeners: list[Listener] = []  # order updates (the ticker's postbacks)
        self.price_listeners: list[Callable[[ReplicaInstrument, float, int], None]] = []
        self.fill_chunk: int | None = None  # fill at most this many per price event (partial fills)
        self.candles: dict[int, list[tuple[dt.datetime, float, float, float, float, float]]] = {}  # token -> minute bars
        self._rejects: list[str] = []

    def now(self) -> dt.datetime:
        """The replica's exchange time (Asia/Kolkata)."""
        return self._now()

    # ------------------------------------------------------------------ market

    def set_price(self, key: str, price: float, qty: int = 0) -> None:
        """A trade of ``qty`` at ``price`` in ``EXCHANGE:SYMBOL``: the new last price (the ticker
        streams it); working orders of the instrument match against it."""
        with self._lock:
            inst = self._instrument(key)
            self._ltp[key] = float(price)
            for listener in list(self.price_listeners):
                listener(inst, float(price), qty)
            for order in list(self._orders.values()):
                f = order.fields
                if f["status"] in ("OPEN", "TRIGGER PENDING") and f"{f['exchange']}:{f['tradingsymbol']}" == key:
                    self._match(order, float(price), placing=False)

    def ltp(self, key: str) -> float | None:
        with self._lock:
            return self._ltp.get(key)

    def add_candles(self, key: str, bars: Any) -> None:
        """One-minute bars (objects with ``start, open, high, low, close, volume``) Kite's
        historical API serves for the instrument, oldest first."""
        with self._lock:
            inst = self._instrument(key)
            rows = self.candles.setdefault(inst.token, [])
            rows.extend((b.start, b.open, b.high, b.low, b.close, b.volume) for b in bars)
            rows.sort(key=lambda r: r[0])

    def history(self, token: int, start: dt.datetime, end: dt.datetime, minutes: int) -> list[list[Any]]:
        """Candles of ``minutes`` from the minute bars in ``[start, end]``, each labelled by its
        start and aligned to the session's 09:15 open, as Kite's are."""
        with self._lock:
            if token not in self._by_token:
                raise ReplicaRefusal("Invalid instrument token")
            rows = [r for r in self.candles.get(token, []) if start <= r[0] <= end]
        out: list[list[Any]] = []
        for r in rows:
            local = r[0].astimezone(IST)
            since_open = (local.hour * 60 + local.minute) - (9 * 60 + 15)
            label = local - dt.timedelta(minutes=since_open % minutes, seconds=local.second)
            if out and out[-1][0] == label:
                c = out[-1]
                c[2], c[3], c[4], c[5] = max(c[2], r[2]), min(c[3], r[3]), r[4], c[5] + r[5]
            else:
                out.append([label, r[1], r[2], r[3], r[4], r[5]])
        return [[c[0].strftime("%Y-%m-%dT%H:%M:%S%z"), *c[1:5], int(c[5])] for c in out]

    # ------------------------------------------------------------------ faults

    def reject_next(self, message: str = "Insufficient funds. Required margin is 95417.84 but available "
                    "margin is 74251.80.") -> None:
        """The RMS rejects the next order placed (after it has been accepted: status REJECTED)."""
        with self._lock:
            self._rejects.append(message)

    def adjust_position(self, key: str, qty: int, price: float, product: str = "MIS") -> None:
        """Someone traded ``qty`` (signed) at ``price`` outside this session (another terminal)."""
        with self._lock:
            self._instrument(key)
            self._book_trade(key, product, qty, price)

    # ------------------------------------------------------------------ orders

    def place(self, variety: str, params: dict[str, str]) -> str:
        """Validate and accept an order; returns its order id (a 19-digit string, as Kite's are now).
        An iceberg is accepted as its first leg; each leg that completes places the next."""
        with self._lock:
            fields = self._validated(variety, params)
            if variety == "iceberg":
                fields["meta"] = {"iceberg": self._iceberg(params, fields)}
                fields["quantity"] = fields["pending_quantity"] = fields["meta"]["iceberg"]["leg_quantity"]
            return self._open(fields)

    def _iceberg(self, params: dict[str, str], fields: dict[str, Any]) -> dict[str, int]:
        legs, leg_qty, total = self._int(params, "iceberg_legs"), self._int(params, "iceberg_quantity"), fields["quantity"]
        if not 2 <= legs <= 10:
            raise ReplicaRefusal("Iceberg legs should be between 2 and 10.")
        inst = self._instrument(self._key(fields))
        if leg_qty <= 0 or leg_qty % inst.lot_size or leg_qty * legs < total or leg_qty * (legs - 1) >= total:
            raise ReplicaRefusal("Invalid iceberg quantity: quantity / legs, a multiple of the lot size.")
        if inst.freeze_qty is not None and leg_qty > inst.freeze_qty:
            raise ReplicaRefusal(f"Iceberg leg quantity exceeds the freeze quantity ({inst.freeze_qty}).")
        return {"leg": 1, "legs": legs, "leg_quantity": leg_qty, "total_quantity": total,
                "remaining_quantity": total - leg_qty}

    def _open(self, fields: dict[str, Any]) -> str:
        order_id = f"{2500000000000000000 + next(self._ids)}"
        fields["order_id"] = order_id
        order = _Order(fields)
        self._orders[order_id] = order
        for status in ("PUT ORDER REQ RECEIVED", "VALIDATION PENDING", "OPEN PENDING"):
            self._move(order, status, notify=False)
        if self._rejects:
            fields["status_message"] = fields["status_message_raw"] = self._rejects.pop(0)
            self._move(order, "REJECTED")
            return order_id
        self._move(order, "TRIGGER PENDING" if fields["order_type"] in ("SL", "SL-M") else "OPEN")
        ltp = self._ltp.get(self._key(fields))
        if ltp is not None:
            self._match(order, ltp, placing=True)
        return order_id

    def _next_leg(self, done: _Order) -> None:
        """An iceberg leg completed: the next leg goes to the exchange (a new order, same tag)."""
        berg = dict(done.fields["meta"]["iceberg"])
        if berg["leg"] >= berg["legs"] or berg["remaining_quantity"] <= 0:
            return
        qty = min(berg["leg_quantity"], berg["remaining_quantity"])
        berg.update(leg=berg["leg"] + 1, remaining_quantity=berg["remaining_quantity"] - qty)
        f = done.fields
        fields = {**f, "order_id": "", "exchange_order_id": None, "status": "", "status_message": None,
                  "status_message_raw": None, "order_timestamp": self._now().strftime(KITE_TIME),
                  "exchange_update_timestamp": None, "exchange_timestamp": None, "modified": False,
                  "quantity": qty, "average_price": 0.0, "filled_quantity": 0, "pending_quantity": qty,
                  "cancelled_quantity": 0, "meta": {"iceberg": berg}, "tags": list(f["tags"])}
        self._open(fields)

    def modify(self, variety: str, order_id: str, params: dict[str, str]) -> str:
        with self._lock:
            order = self._order(order_id)
            f = order.fields
            if f["status"] in TERMINAL:
                raise ReplicaRefusal(f"Order cannot be modified as it is being processed or is {f['status'].lower()}.")
            inst = self._instrument(self._key(f))
            if "quantity" in params:
                qty = self._int(params, "quantity")
                if qty <= f["filled_quantity"] or qty % inst.lot_size:
                    raise ReplicaRefusal("Invalid quantity.")
                f["quantity"] = qty
                f["pending_quantity"] = qty - f["filled_quantity"]
            for name in ("price", "trigger_price"):
                if name in params:
                    value = self._price(params, name, inst)
                    f[name] = value
            if "order_type" in params:
                f["order_type"] = self._choice(params, "order_type", ORDER_TYPES)
            f["modified"] = True
            for status in ("MODIFY VALIDATION PENDING", "MODIFY PENDING", "MODIFIED"):
                self._move(order, status, notify=False)
            self._move(order, "TRIGGER PENDING" if f["order_type"] in ("SL", "SL-M") and not order.triggered
                       else "OPEN")
            ltp = self._ltp.get(self._key(f))
            if ltp is not None:
                self._match(order, ltp, placing=True)
            return order_id

    def cancel(self, variety: str, order_id: str) -> str:
        with self._lock:
            order = self._order(order_id)
            f = order.fields
            if f["status"] in TERMINAL:
                raise ReplicaRefusal(f"Order cannot be cancelled as it is being processed or is {f['status'].lower()}.")
            self._move(order, "CANCEL PENDING", notify=False)
            f["cancelled_quantity"] = f["pending_quantity"]
            f["pending_quantity"] = 0
            self._move(order, "CANCELLED")
            return order_id

    # ------------------------------------------------------------------ reads

    def orders(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(o.fields) for o in self._orders.values()]

    def order_history(self, order_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(h) for h in self._order(order_id).history]

    def trades(self, order_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if order_id is not None:
                self._order(order_id)
            return [dict(t) for t in self._trades if order_id is None or t["order_id"] == order_id]

    def positions(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            rows = [self._position_row(key, product, p) for (key, product), p in self._positions.items()]
            return {"net": rows, "day": [dict(r) for r in rows]}

    def margins(self) -> dict[str, Any]:
        with self._lock:
            used = sum(abs(p.buy_qty - p.sell_qty) * (self._ltp.get(k) or 0.0) / 5.0  # MIS at 5x leverage
                       for (k, _), p in self._positions.items())
        segment = {"enabled": True, "net": round(self.cash - used, 2),
                   "available": {"adhoc_margin": 0, "cash": self.cash, "opening_balance": self.cash,
                                 "live_balance": round(self.cash - used, 2), "collateral": 0, "intraday_payin": 0},
                   "utilised": {"debits": round(used, 2), "exposure": 0, "m2m_realised": 0, "m2m_unrealised": 0,
                                "option_premium": 0, "payout": 0, "span": round(used, 2), "holding_sales": 0,
                                "turnover": 0, "liquid_collateral": 0, "stock_collateral": 0, "delivery": 0}}
        return {"equity": segment, "commodity": {**segment, "enabled": False}}

    def set_holding(self, key: str, qty: int, average_price: float) -> None:
        """The account holds ``qty`` of ``key`` in delivery (bought on an earlier day)."""
        with self._lock:
            self._instrument(key)
            self._holdings[key] = (qty, average_price)

    def holdings(self) -> list[dict[str, Any]]:
        """Kite's holdings rows (``holdings.json``'s fields)."""
        with self._lock:
            rows = []
            for key, (qty, avg) in self._holdings.items():
                inst = self._instrument(key)
                last = self._ltp.get(key, avg)
                rows.append({
                    "tradingsymbol": inst.tradingsymbol, "exchange": inst.exchange, "instrument_token": inst.token,
                    "isin": f"INE{inst.token:09d}", "product": "CNC", "price": 0, "quantity": qty,
                    "used_quantity": 0, "t1_quantity": 0, "realised_quantity": qty, "authorised_quantity": 0,
                    "authorised_date": None, "authorisation": {}, "opening_quantity": qty, "short_quantity": 0,
                    "collateral_quantity": 0, "collateral_type": "", "discrepancy": False, "average_price": avg,
                    "last_price": last, "close_price": avg, "pnl": round((last - avg) * qty, 2),
                    "day_change": 0.0, "day_change_percentage": 0.0,
                    "mtf": {"quantity": 0, "used_quantity": 0, "average_price": 0, "value": 0, "initial_margin": 0},
                })
            return rows

    def instrument(self, key: str) -> ReplicaInstrument:
        with self._lock:
            return self._instrument(key)

    # ------------------------------------------------------------------ matching

    def _match(self, order: _Order, ltp: float, *, placing: bool) -> None:
        """Fill what the last price reaches. A limit placed through the market fills at the market
        (``placing``); a resting one, reached by a later price, at its limit."""
        f = order.fields
        buy = f["transaction_type"] == "BUY"
        kind = f["order_type"]
        if kind in ("SL", "SL-M") and not order.triggered:
            if (ltp >= f["trigger_price"]) if buy else (ltp <= f["trigger_price"]):
                order.triggered = True
                placing = True  # a triggered stop goes to the exchange now, as a new order would
                self._move(order, "OPEN", notify=False)
            else:
                return
        if kind in ("MARKET", "SL-M"):
            price = ltp
        else:
            limit = f["price"]
            if (ltp > limit) if buy else (ltp < limit):
                return
            price = ltp if placing else limit
        qty = f["pending_quantity"] if self.fill_chunk is None else min(self.fill_chunk, f["pending_quantity"])
        self._fill(order, qty, price)

    def _fill(self, order: _Order, qty: int, price: float) -> None:
        f = order.fields
        now = self._now()
        filled = f["filled_quantity"] + qty
        f["average_price"] = round((f["average_price"] * f["filled_quantity"] + price * qty) / filled, 4)
        f["filled_quantity"] = filled
        f["pending_quantity"] -= qty
        f["exchange_order_id"] = f["exchange_order_id"] or f"{1300000000000000 + int(f['order_id']) % 10**15}"
        f["exchange_timestamp"] = f["exchange_update_timestamp"] = now.strftime(KITE_TIME)
        self._trades.append({
            "trade_id": f"{next(self._trade_ids):08d}", "order_id": f["order_id"], "exchange": f["exchange"],
            "tradingsymbol": f["tradingsymbol"], "instrument_token": f["instrument_token"], "product": f["product"],
            "average_price": price, "quantity": qty, "exchange_order_id": f["exchange_order_id"],
            "transaction_type": f["transaction_type"], "fill_timestamp": now.strftime(KITE_TIME),
            "order_timestamp": now.strftime("%H:%M:%S"), "exchange_timestamp": now.strftime(KITE_TIME),
        })
        sign = 1 if f["transaction_type"] == "BUY" else -1
        self._book_trade(self._key(f), f["product"], sign * qty, price)
        self._move(order, "COMPLETE" if f["pending_quantity"] == 0 else "OPEN")
        if f["pending_quantity"] == 0 and "iceberg" in f["meta"]:
            self._next_leg(order)

    def _book_trade(self, key: str, product: str, qty: int, price: float) -> None:
        p = self._positions.setdefault((key, product), _Position(product=product))
        if qty > 0:
            p.buy_qty += qty
            p.buy_value += qty * price
        else:
            p.sell_qty -= qty
            p.sell_value -= qty * price

    def _position_row(self, key: str, product: str, p: _Position) -> dict[str, Any]:
        inst = self.instruments[key]
        ltp = self._ltp.get(key, 0.0)
        qty = p.buy_qty - p.sell_qty
        buy_price = p.buy_value / p.buy_qty if p.buy_qty else 0.0
        sell_price = p.sell_value / p.sell_qty if p.sell_qty else 0.0
        value = p.sell_value - p.buy_value
        pnl = value + qty * ltp
        avg = buy_price if qty > 0 else sell_price if qty < 0 else 0.0
        return {"tradingsymbol": inst.tradingsymbol, "exchange": inst.exchange, "instrument_token": inst.token,
                "product": product, "quantity": qty, "overnight_quantity": 0, "multiplier": 1,
                "average_price": round(avg, 4), "close_price": 0, "last_price": ltp, "value": round(value, 2),
                "pnl": round(pnl, 2), "m2m": round(pnl, 2), "unrealised": round(pnl, 2), "realised": 0,
                "buy_quantity": p.buy_qty, "buy_price": round(buy_price, 4), "buy_value": round(p.buy_value, 2),
                "buy_m2m": round(p.buy_value, 2), "sell_quantity": p.sell_qty, "sell_price": round(sell_price, 4),
                "sell_value": round(p.sell_value, 2), "sell_m2m": round(p.sell_value, 2),
                "day_buy_quantity": p.buy_qty, "day_buy_price": round(buy_price, 4),
                "day_buy_value": round(p.buy_value, 2), "day_sell_quantity": p.sell_qty,
                "day_sell_price": round(sell_price, 4), "day_sell_value": round(p.sell_value, 2)}

    # ------------------------------------------------------------------ helpers

    def _move(self, order: _Order, status: str, *, notify: bool = True) -> None:
        f = order.fields
        f["status"] = status
        snap = dict(f)
        order.history.append(snap)
        if notify:
            for listener in list(self.listeners):
                listener(dict(snap, user_id=self.user_id, unfilled_quantity=f["pending_quantity"]))

    def _validated(self, variety: str, params: dict[str, str]) -> dict[str, Any]:
        if variety not in VARIETIES:
            raise ReplicaRefusal(f"Invalid variety: {variety}")
        key = f"{params.get('exchange', '')}:{params.get('tradingsymbol', '')}"
        inst = self._instrument(key)
        side = self._choice(params, "transaction_type", SIDES)
        kind = self._choice(params, "order_type", ORDER_TYPES)
        product = self._choice(params, "product", PRODUCTS)
        if inst.segment == "INDICES":
            raise ReplicaRefusal(f"{inst.tradingsymbol} is an index: it cannot be traded.")
        qty = self._int(params, "quantity")
        if qty <= 0 or qty % inst.lot_size:
            raise ReplicaRefusal(f"Quantity should be a multiple of the lot size ({inst.lot_size}).")
        if variety != "iceberg" and inst.freeze_qty is not None and qty > inst.freeze_qty:
            raise ReplicaRefusal(f"Quantity exceeds the freeze quantity ({inst.freeze_qty}) of "
                                 f"{inst.tradingsymbol}: split the order (iceberg).")
        price = self._price(params, "price", inst) if kind in ("LIMIT", "SL") else 0.0
        trigger = self._price(params, "trigger_price", inst) if kind in ("SL", "SL-M") else 0.0
        protection = params.get("market_protection")
        if kind in ("MARKET", "SL-M") and (protection is None or float(protection) == 0):
            raise ReplicaRefusal("Market orders without market protection are not allowed via API. "
                                 "Set market_protection.")
        tag = params.get("tag") or None
        if tag is not None and (len(tag) > 20 or not tag.isalnum()):
            raise ReplicaRefusal("Tag should be alphanumeric and at most 20 characters.")
        now = self._now().strftime(KITE_TIME)
        return {
            "account_id": self.user_id, "placed_by": self.user_id, "order_id": "", "exchange_order_id": None,
            "parent_order_id": None, "status": "", "status_message": None, "status_message_raw": None,
            "order_timestamp": now, "exchange_update_timestamp": None, "exchange_timestamp": None,
            "variety": variety, "modified": False, "exchange": inst.exchange, "tradingsymbol": inst.tradingsymbol,
            "instrument_token": inst.token, "order_type": kind, "transaction_type": side,
            "validity": params.get("validity", "DAY"), "validity_ttl": 0, "product": product, "quantity": qty,
            "disclosed_quantity": 0, "price": price, "trigger_price": trigger, "auction_number": None,
            "average_price": 0.0, "filled_quantity": 0, "pending_quantity": qty, "cancelled_quantity": 0,
            "market_protection": float(protection or 0), "meta": {}, "tag": tag, "tags": [tag] if tag else [],
            "guid": None, "algo_id": params.get("algo_id"),
        }

    def _instrument(self, key: str) -> ReplicaInstrument:
        inst = self.instruments.get(key)
        if inst is None:
            raise ReplicaRefusal(f"Invalid `tradingsymbol` or `exchange`: {key}")
        return inst

    def _order(self, order_id: str) -> _Order:
        order = self._orders.get(order_id)
        if order is None:
            raise ReplicaRefusal(f"Couldn't find that `order_id`: {order_id}")
        return order

    @staticmethod
    def _key(fields: dict[str, Any]) -> str:
        return f"{fields['exchange']}:{fields['tradingsymbol']}"

    @staticmethod
    def _choice(params: dict[str, str], name: str, allowed: frozenset[str]) -> str:
        value = params.get(name, "")
        if value not in allowed:
            raise ReplicaRefusal(f"Invalid `{name}`: {value!r}")
        return value

    @staticmethod
    def _int(params: dict[str, str], name: str) -> int:
        try:
            return int(params.get(name, ""))
        except ValueError:
            raise ReplicaRefusal(f"Invalid `{name}`: {params.get(name)!r}") from None

    @staticmethod
    def _price(params: dict[str, str], name: str, inst: ReplicaInstrument) -> float:
        try:
            value = float(params.get(name, ""))
        except ValueError:
            raise ReplicaRefusal(f"Invalid `{name}`: {params.get(name)!r}") from None
        if value <= 0 or not _on_tick(value, inst.tick_size):
            raise ReplicaRefusal(f"Tick size for this script is {inst.tick_size:.2f}. Kindly enter {name.replace('_', ' ')} "
                                 "in the multiple of tick size for this script")
        return value


_SEGMENT_CODE = {"NSE": 1, "NFO": 2, "CDS": 3, "BSE": 4, "BFO": 5, "BCD": 6, "MCX": 7, "INDICES": 9}


def instruments_from_master(master: Any) -> list[ReplicaInstrument]:
    """The replica's instrument rows for every symbol of an :class:`InstrumentMaster`. Tokens carry
    the exchange segment in their low byte, as Kite's do (the ticker derives price divisors from it)."""
    rows = []
    for n, symbol in enumerate(master.symbols(), start=1):
        inst = master.get(symbol)
        kind = inst.option_type or ("FUT" if inst.kind == "FUT" else "EQ")
        segment = f"{inst.exchange}-{'OPT' if inst.option_type else 'FUT'}" if inst.exchange in ("NFO", "BFO") \
            else "INDICES" if inst.kind == "INDEX" else inst.exchange
        rows.append(ReplicaInstrument(token=(100 + n) << 8 | _SEGMENT_CODE.get(segment, _SEGMENT_CODE.get(inst.exchange, 1)),
                                      exchange=inst.exchange, tradingsymbol=symbol,
                                      name=(inst.underlying or inst.name.upper())[:40],
                                      tick_size=inst.tick_size, lot_size=inst.lot_size, segment=segment,
                                      instrument_type=kind, freeze_qty=inst.freeze_qty,
                                      expiry=inst.expiry.isoformat() if inst.expiry else "",
                                      strike=inst.strike or 0.0))
    return rows
