"""PaperBroker: fills orders against the feed, with the simulator's fill model.

Orders rest per instrument in the order they were placed. What fills, and at what price:

- **Market orders** fill at the first tick at or after their placement time plus ``latency``,
  at that price plus adverse slippage (the strategy's ``slippage`` setting, in ticks or bps, on
  the tick grid). An exit whose reason is ``session_end`` is marked out at the last price
  without slippage, as the simulator does when a day's data ends before the cutoff.
- **Bars replayed from history** (synthetic ticks) keep the simulator's conservative rule,
  because the order of prices inside such a bar is unknown. At the bar's open: a stop the open
  has gapped through fills at the open (plus slippage), a limit the open has passed fills at the
  open. Over the rest of the bar (decided when the bar closes, stamped with its start): a stop
  inside the bar's range fills at its trigger (plus slippage) — **before any target or
  scale-out of the same position, whichever came first** — otherwise scale-outs in order, then
  the target, each at its limit.
- **Real ticks** (a live or synthetic tick feed) fill by crossing: a stop triggers when a tick
  trades at or through it and fills at that tick's price (plus slippage); a limit fills at its
  limit when a tick trades at or through it (at the tick's price if it opened through).
- **One-cancels-other by position**: exit orders of one position form a group. When one fills,
  every other exit order of the group is cut to what is still open (the largest exit order's
  quantity is taken as the position's), and cancelled at zero — no stop is left working after
  its position is gone.
- **Partial fills**: a tick fills at most ``max_participation`` of its volume (at least one
  unit); the rest stays working. Ticks without volume (index data) do not limit fills.
- **Rejects**: a limit or trigger price outside the day's price band (``price_band_pct``
  around the first price seen that day) is rejected with the broker's wording.
- **Restart**: :meth:`PaperBroker.resume` takes back the working orders a restarted engine
  read from its journal, as a real broker would still hold them.

Margin is not this class's business: the paper RMS is consulted before an order is sent
(:mod:`core.risk`), as a broker's RMS would be.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.execution.broker import BrokerEvent, FillEvent, OrderUpdate
from core.execution.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Purpose, Side
from core.market.bars import Bar
from core.market.events import SessionEnd, Tick
from core.market.instruments import InstrumentMaster, default_master
from core.trading.params import Slippage
from core.trading.pricing import SLIP_BPS, SLIP_TICKS, slipped

SESSION_END_REASON = "session_end"


@dataclass(slots=True)
class _Resting:
    request: OrderRequest
    broker_id: str
    since: dt.datetime
    qty: int  # still open
    trigger: float | None
    limit: float | None
    triggered: bool = False  # an SL order whose trigger was hit now rests as a limit
    fills: int = 0

    @property
    def is_stop(self) -> bool:
        return self.request.order_type in (OrderType.SL, OrderType.SL_M) and not self.triggered

    @property
    def is_limit(self) -> bool:
        t = self.request.order_type
        return t is OrderType.LIMIT or (t is OrderType.SL and self.triggered)

    @property
    def buy(self) -> bool:
        return self.request.side is Side.BUY


class PaperBroker:
    """Fills orders from market events; deterministic for a given event sequence."""

    name = "paper"

    def __init__(
        self,
        master: InstrumentMaster | None = None,
        *,
        latency: dt.timedelta = dt.timedelta(0),
        max_participation: float = 0.25,
        price_band_pct: float = 20.0,
        slippage_for: Callable[[OrderRequest], Slippage] | None = None,
    ) -> None:
        self.master = master or default_master()
        self.latency = latency
        self.max_participation = max_participation
        self.price_band_pct = price_band_pct
        self.slippage_for = slippage_for or (lambda _request: Slippage())
        self._book: dict[str, list[_Resting]] = {}
        self._by_id: dict[str, _Resting] = {}
        self._last: dict[str, float] = {}
        self._band_ref: dict[str, tuple[dt.date, float]] = {}
        self._synthetic: dict[str, bool] = {}
        self._seq = 0

    # ------------------------------------------------------------------ order entry

    def place(self, request: OrderRequest, now: dt.datetime) -> list[BrokerEvent]:
        self._seq += 1
        broker_id = f"P{self._seq:08d}"
        reject = self._band_reject(request, now)
        if reject:
            return [OrderUpdate(request.client_order_id, OrderStatus.REJECTED, now, broker_id, message=reject)]
        resting = _Resting(request, broker_id, now, request.qty, request.trigger_price, request.limit_price)
        self._book.setdefault(request.symbol, []).append(resting)
        self._by_id[request.client_order_id] = resting
        return [OrderUpdate(request.client_order_id, OrderStatus.OPEN, now, broker_id, qty=request.qty)]

    def modify(
        self, client_order_id: str, now: dt.datetime, *, qty: int | None = None,
        trigger_price: float | None = None, limit_price: float | None = None,
    ) -> list[BrokerEvent]:
        resting = self._by_id.get(client_order_id)
        if resting is None:
            return [OrderUpdate(client_order_id, OrderStatus.REJECTED, now,
                                message="Order cannot be modified as it is being processed or is complete.")]
        if qty is not None:
            resting.qty = qty
        if trigger_price is not None:
            resting.trigger = trigger_price
        if limit_price is not None:
            resting.limit = limit_price
        if resting.qty <= 0:
            return self._cancelled(resting, now, "modified to nothing")
        return [OrderUpdate(client_order_id, OrderStatus.OPEN, now, resting.broker_id, qty=resting.qty,
                            trigger_price=resting.trigger, limit_price=resting.limit)]

    def cancel(self, client_order_id: str, now: dt.datetime) -> list[BrokerEvent]:
        resting = self._by_id.get(client_order_id)
        if resting is None:
            return []  # already complete: a fill or cancel event said so
        return self._cancelled(resting, now, "cancelled by the user")

    def resume(self, orders: Iterable[Order], now: dt.datetime) -> list[BrokerEvent]:
        """Take back the working orders a restarted engine read from its journal, as a broker that
        kept them would hold them (their open quantity, their latest levels). An order the journal
        never saw acknowledged is acknowledged now; nothing is placed twice."""
        events: list[BrokerEvent] = []
        for order in orders:
            req = order.request
            if not order.working or order.open_qty <= 0 or req.client_order_id in self._by_id:
                continue
            self._seq += 1
            broker_id = order.broker_order_id or f"P{self._seq:08d}r"
            resting = _Resting(req, broker_id, now, order.open_qty, req.trigger_price, req.limit_price)
            self._book.setdefault(req.symbol, []).append(resting)
            self._by_id[req.client_order_id] = resting
            if order.broker_order_id is None:
                events.append(OrderUpdate(req.client_order_id, OrderStatus.OPEN, now, broker_id, qty=resting.qty))
        return events

    def working(self, symbol: str | None = None) -> list[OrderRequest]:
        """Requests still resting (of one symbol, or all)."""
        books = [self._book.get(symbol, [])] if symbol else list(self._book.values())
        return [r.request for book in books for r in book]

    def last_price(self, symbol: str) -> float | None:
        return self._last.get(symbol)

    # ------------------------------------------------------------------ market events

    def on_tick(self, tick: Tick) -> list[BrokerEvent]:
        symbol = tick.symbol
        self._last[symbol] = tick.price
        day = tick.time.date()
        if self._band_ref.get(symbol, (None, 0.0))[0] != day:
            self._band_ref[symbol] = (day, tick.price)
        self._synthetic[symbol] = tick.synthetic
        book = self._book.get(symbol)
        if not book:
            return []
        events: list[BrokerEvent] = []
        budget = [self._budget(tick.volume)]
        for resting in [r for r in book if r.request.order_type is OrderType.MARKET]:
            if resting.since + self.latency <= tick.time:
                price = tick.price if resting.request.reason == SESSION_END_REASON else self._slip(resting, tick.price)
                events += self._fill(resting, price, tick.time, budget)
        if tick.synthetic and not tick.bar_open:
            return events  # inside a replayed bar: decided at its close, conservatively
        price = tick.price
        if not any(_reached(r, price) for r in book):
            return events  # most ticks: no stop or limit of this symbol is touched
        gap = tick.bar_open
        for group in self._groups(symbol, tick.time):
            events += self._cross(group, tick.price, tick.time, gap, budget)
        return events

    def on_bar_close(self, bar: Bar) -> list[BrokerEvent]:
        """Resolve a replayed bar's range for the orders resting since its start."""
        if not self._synthetic.get(bar.symbol, False):
            return []
        events: list[BrokerEvent] = []
        budget = [self._budget(bar.volume * 0.5)]  # the extremes' share of the bar's volume
        for group in self._groups(bar.symbol, bar.start):
            events += self._range(group, bar, budget)
        return events

    def on_session_end(self, event: SessionEnd) -> list[BrokerEvent]:
        """Data for the day ended: market orders fill at the last price; nothing else rests on."""
        events: list[BrokerEvent] = []
        last = self._last.get(event.symbol, event.last_bar.close)
        for resting in list(self._book.get(event.symbol, [])):
            if resting.request.order_type is OrderType.MARKET:
                price = last if resting.request.reason == SESSION_END_REASON else self._slip(resting, last)
                events += self._fill(resting, price, event.time, [math.inf])
        return events

    # ------------------------------------------------------------------ fill rules

    def _groups(self, symbol: str, at: dt.datetime) -> list[list[_Resting]]:
        """Resting price orders active at ``at``: each position's exit orders together, others alone."""
        groups: dict[str, list[_Resting]] = {}
        singles: list[list[_Resting]] = []
        for r in self._book.get(symbol, []):
            if r.request.order_type is OrderType.MARKET or r.since > at:
                continue
            if r.request.purpose is Purpose.EXIT:
                groups.setdefault(r.request.position_id, []).append(r)
            else:
                singles.append([r])
        return [*groups.values(), *singles]

    def _cross(self, group: list[_Resting], price: float, when: dt.datetime, gap: bool, budget: list[float]) -> list[BrokerEvent]:
        """A traded price against a group: stops first, then limits nearest first."""
        events: list[BrokerEvent] = []
        for r in [r for r in group if r.is_stop]:
            if r.qty > 0 and _through(price, r.trigger, r.buy, stop=True):
                if r.request.order_type is OrderType.SL:
                    r.triggered = True
                    continue
                return self._fill(r, self._slip(r, price), when, budget)
        limits = _nearest_first([r for r in group if r.is_limit])
        if gap and limits and limits[-1].qty == max(r.qty for r in limits):
            limits.insert(0, limits.pop())  # opened through the target: it takes the whole position first
        for r in limits:
            if r.qty > 0 and _through(price, r.limit, r.buy, stop=False):
                fill_at = price if gap else r.limit
                events += self._fill(r, fill_at, when, budget)
        return events

    def _range(self, group: list[_Resting], bar: Bar, budget: list[float]) -> list[BrokerEvent]:
        events: list[BrokerEvent] = []
        for r in [r for r in group if r.is_stop]:
            adverse = bar.high if r.buy else bar.low
            if r.qty > 0 and _through(adverse, r.trigger, r.buy, stop=True):
                if r.request.order_type is OrderType.SL:
                    r.triggered = True
                    continue
                return self._fill(r, self._slip(r, r.trigger), bar.start, budget)
        for r in _nearest_first([r for r in group if r.is_limit]):
            favour = bar.low if r.buy else bar.high
            if r.qty > 0 and _through(favour, r.limit, r.buy, stop=False):
                events += self._fill(r, r.limit, bar.start, budget)
        return events

    def _fill(self, resting: _Resting, price: float, when: dt.datetime, budget: list[float]) -> list[BrokerEvent]:
        qty = int(min(resting.qty, budget[0]))
        if qty <= 0:
            return []
        budget[0] -= qty
        req = resting.request
        resting.fills += 1
        resting.qty -= qty
        fill = Fill(req.client_order_id, f"{req.client_order_id}|{resting.fills}", req.symbol, req.side, qty,
                    price, when)
        status = OrderStatus.FILLED if resting.qty == 0 else OrderStatus.PARTIALLY_FILLED
        events: list[BrokerEvent] = [
            FillEvent(fill),
            OrderUpdate(req.client_order_id, status, when, resting.broker_id),
        ]
        if resting.qty == 0:
            self._remove(resting)
        if req.purpose is Purpose.EXIT:
            events += self._one_cancels_other(resting, qty, when)
        return events

    def _one_cancels_other(self, filled: _Resting, qty: int, when: dt.datetime) -> list[BrokerEvent]:
        siblings = [r for r in self._book.get(filled.request.symbol, [])
                    if r is not filled and r.request.purpose is Purpose.EXIT
                    and r.request.position_id == filled.request.position_id]
        if not siblings:
            return []
        position = max([filled.qty + qty, *(r.qty for r in siblings)]) - qty
        events: list[BrokerEvent] = []
        for r in siblings:
            if r.qty > position:
                r.qty = position
                if position <= 0:
                    events += self._cancelled(r, when, "the position it protected is closed")
                else:
                    events.append(OrderUpdate(r.request.client_order_id, OrderStatus.OPEN, when, r.broker_id,
                                              qty=r.qty, message="reduced: part of the position is closed"))
        return events

    def _cancelled(self, resting: _Resting, when: dt.datetime, why: str) -> list[BrokerEvent]:
        self._remove(resting)
        return [OrderUpdate(resting.request.client_order_id, OrderStatus.CANCELLED, when, resting.broker_id,
                            message=why)]

    def _remove(self, resting: _Resting) -> None:
        book = self._book.get(resting.request.symbol, [])
        if resting in book:
            book.remove(resting)
        self._by_id.pop(resting.request.client_order_id, None)

    def _slip(self, resting: _Resting, price: float) -> float:
        slip = self.slippage_for(resting.request)
        if slip.value == 0:
            return price
        tick = self.master.get(resting.request.symbol, price).tick_size
        unit = SLIP_BPS if slip.unit == "bps" else SLIP_TICKS
        return float(slipped(price, resting.buy, slip.value, unit, tick))

    def _budget(self, volume: float) -> float:
        if self.max_participation <= 0 or not volume > 0:
            return math.inf
        return max(1.0, math.floor(self.max_participation * volume))

    def _band_reject(self, request: OrderRequest, now: dt.datetime) -> str:
        ref = self._band_ref.get(request.symbol)
        if ref is None or ref[0] != now.date() or self.price_band_pct <= 0:
            return ""
        low = ref[1] * (1 - self.price_band_pct / 100)
        high = ref[1] * (1 + self.price_band_pct / 100)
        for price in (request.limit_price, request.trigger_price):
            if price is None:
                continue
            if price > high:
                return (f"Your order price is higher than the current upper circuit limit of {high:.2f}. "
                        "Place an order within the daily range.")
            if price < low:
                return (f"Your order price is lower than the current lower circuit limit of {low:.2f}. "
                        "Place an order within the daily range.")
        return ""


def _reached(resting: _Resting, price: float) -> bool:
    """Could ``price`` fill (or trigger) this resting price order? Market orders are not asked."""
    if resting.is_stop:
        return _through(price, resting.trigger, resting.buy, stop=True)
    if resting.is_limit:
        return _through(price, resting.limit, resting.buy, stop=False)
    return False


def _through(price: float, level: float | None, buy: bool, *, stop: bool) -> bool:
    """Has ``price`` reached ``level``? A buy stop from below, a sell stop from above; limits the other way."""
    if level is None:
        return False
    if stop:
        return price >= level if buy else price <= level
    return price <= level if buy else price >= level


def _nearest_first(limits: list[_Resting]) -> list[_Resting]:
    """Scale-outs before the target: a sell limit lower is nearer, a buy limit higher is nearer."""
    return sorted(limits, key=lambda r: -(r.limit or 0.0) if r.buy else (r.limit or 0.0))
