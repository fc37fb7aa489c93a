"""The pre-order risk engine: one gate, in front of every order the automation engine sends.

An **entry** is refused (first rule that fails wins, its ``code`` says which):

1. ``invalid``: quantity not positive, price not positive, or a stop on the wrong side;
2. ``daily_loss`` / ``reducing`` / ``halted``: the trading state is not ACTIVE. When the day's
   P&L (realised + unrealised) is at or below ``-daily_loss_limit`` the engine locks itself
   in REDUCING (the decision carries the transition, for the journal); a human lifts the lock;
3. ``closed`` / ``cutoff``: the market is not in its regular session, or the clock is at or past
   the day's cutoff (``clock.now() >= clock.cutoff_at(day)``). This is checked on every entry,
   so it holds even when a cutoff timer fired late or never;
4. ``max_positions``, ``max_loss_trade`` (|entry - stop| x qty over the limit, or no stop while
   the limit is set), ``order_value``;
5. ``rate_second`` / ``rate_minute``: the order-rate throttle (:mod:`core.risk.rate`);
6. ``margin``: the paper RMS cannot block the margin (the broker's wording in ``reason``);
7. ``error``: the check itself failed (the exception's text in ``reason``) - still a refusal.

An accepted entry has its margin blocked and is counted by the throttle in the same call, so
check-then-block cannot race. An **exit** is accepted in every state and at any time - it
reduces risk - but it still counts against the throttle: over the rate it is refused with a
``rate_*`` code for the caller to retry, never dropped. Refusals are returned, never raised.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from core.clock import MarketClock
from core.execution.orders import OrderRequest
from core.risk.limits import RiskLimits, format_inr
from core.risk.rate import OrderRateLimiter
from core.risk.rms import ZERO, PaperRms, rupees, to_paisa
from core.risk.state import StateChange, TradingState

OK = "ok"
INVALID = "invalid"
HALTED = "halted"
REDUCING = "reducing"
CLOSED = "closed"
CUTOFF = "cutoff"
DAILY_LOSS = "daily_loss"
MAX_POSITIONS = "max_positions"
MAX_LOSS_TRADE = "max_loss_trade"
ORDER_VALUE = "order_value"
MARGIN = "margin"
ERROR = "error"


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The answer for one order: ``code`` is machine-readable, ``reason`` one human sentence."""

    accepted: bool
    code: str
    reason: str
    margin: Decimal = ZERO  # blocked for an accepted entry
    transition: StateChange | None = None  # the drawdown lock, when this check set it

    @property
    def refused(self) -> bool:
        return not self.accepted


class RiskEngine:
    """Limits + trading state + order throttle + paper RMS, asked before each order."""

    def __init__(self, limits: RiskLimits, rms: PaperRms, clock: MarketClock) -> None:
        self.rms = rms
        self.clock = clock
        if rms.clock is None:
            rms.clock = clock  # the RMS values options on the same clock
        self.rate = OrderRateLimiter(limits.orders_per_second, limits.orders_per_minute)
        self._limits = limits
        self._state = TradingState.ACTIVE

    @property
    def limits(self) -> RiskLimits:
        return self._limits

    @limits.setter
    def limits(self, limits: RiskLimits) -> None:
        """Replace the limits mid-day; the throttle keeps the orders it has already counted."""
        self._limits = limits
        self.rate.per_second = limits.orders_per_second
        self.rate.per_minute = limits.orders_per_minute

    @property
    def state(self) -> TradingState:
        return self._state

    def set_state(self, new: TradingState, why: str) -> StateChange | None:
        """Move to ``new``; the transition for the journal, or None when already there."""
        if new is self._state:
            return None
        change = StateChange(self._state, new, why, self.clock.now())
        self._state = new
        return change

    def record_sent(self, now: dt.datetime) -> None:
        """Count an order sent at ``now`` against the throttle (check does this on acceptance)."""
        self.rate.record(now)

    def check(
        self,
        request: OrderRequest,
        *,
        price: float,
        stop: float | None,
        open_positions: int | Callable[[], int],
        day_pnl: Decimal | Callable[[], Decimal],
    ) -> RiskDecision:
        """Accept (and for an entry, block its margin) or refuse ``request``. Never raises.

        ``open_positions`` and ``day_pnl`` may be given as zero-argument callables: they are then
        called only when a rule needs them (the count for an entry, the P&L while a daily loss
        limit is set), which spares the caller a pass over every position per order.
        """
        now = self.clock.now()
        lock: StateChange | None = None
        try:
            lock = self._drawdown_lock(day_pnl)
            if request.is_entry:
                count = open_positions() if callable(open_positions) else open_positions
                decision = self._check_entry(request, now, price, stop, count, lock)
            else:
                decision = self._check_exit(request, now)
        except Exception as exc:  # a risk check must never take the engine loop down
            why = f"risk check failed: {type(exc).__name__}: {exc}"
            return RiskDecision(False, ERROR, why, ZERO, lock)
        if lock is not None and decision.transition is None:
            decision = RiskDecision(decision.accepted, decision.code, decision.reason, decision.margin, lock)
        return decision

    # -- the rules ------------------------------------------------------------------------------

    def _check_entry(
        self,
        req: OrderRequest,
        now: dt.datetime,
        price: float,
        stop: float | None,
        open_positions: int,
        lock: StateChange | None,
    ) -> RiskDecision:
        if req.qty <= 0 or not (math.isfinite(price) and price > 0):
            return _no(INVALID, f"entry {req.client_order_id}: quantity {req.qty} at price {price} cannot be sent")
        if stop is not None and (stop - price) * req.side.sign >= 0:
            where = "below" if req.side.sign > 0 else "above"
            return _no(INVALID, f"stop {stop} is not {where} the {req.side} entry at {price}")
        if lock is not None:
            return _no(DAILY_LOSS, f"{lock.why}; entries locked (REDUCING) until lifted by hand", lock)
        if not self._state.allows_entries:
            return _no(self._state.value, f"trading is {self._state.value.upper()}: entries are refused, exits allowed")
        refusal = self._session_refusal(now)
        if refusal is not None:
            return refusal
        limits = self.limits
        if open_positions >= limits.max_open_positions:
            return _no(MAX_POSITIONS, f"{open_positions} positions open (limit {limits.max_open_positions})")
        if limits.max_loss_per_trade > 0:
            if stop is None:
                return _no(MAX_LOSS_TRADE, f"no stop: max loss per trade {format_inr(limits.max_loss_per_trade)} needs one")
            risk = to_paisa(abs(rupees(price) - rupees(stop)) * req.qty)
            if risk > limits.max_loss_per_trade:
                return _no(
                    MAX_LOSS_TRADE,
                    f"risk to stop {format_inr(risk)} exceeds max loss per trade "
                    f"{format_inr(limits.max_loss_per_trade)}",
                )
        value = to_paisa(rupees(price) * req.qty)
        if limits.max_order_value > 0 and value > limits.max_order_value:
            return _no(ORDER_VALUE, f"order value {format_inr(value)} exceeds {format_inr(limits.max_order_value)}")
        rate = self.rate.refusal(now)
        if rate is not None:
            return _no(*rate)
        blocked = self.rms.block(req.client_order_id, req.symbol, req.side, req.qty, price)
        if not blocked.accepted:
            return _no(MARGIN, blocked.reason)
        self.record_sent(now)
        return RiskDecision(True, OK, f"margin {format_inr(blocked.required)} blocked", blocked.required)

    def _check_exit(self, req: OrderRequest, now: dt.datetime) -> RiskDecision:
        if req.qty <= 0:
            return _no(INVALID, f"exit {req.client_order_id}: quantity {req.qty} cannot be sent")
        rate = self.rate.refusal(now)
        if rate is not None:
            code, why = rate
            return _no(code, f"exit held back, retry it: {why}")
        self.record_sent(now)
        return RiskDecision(True, OK, "exit")

    def _session_refusal(self, now: dt.datetime) -> RiskDecision | None:
        session = self.clock.session(now)
        if session is None:
            return _no(CLOSED, f"the NSE does not trade on {now:%a %d %b %Y}")
        if now < session.open:
            return _no(CLOSED, f"the market opens at {session.open:%H:%M}; no entries before it")
        cutoff = self.clock.cutoff_at(session.day)
        if cutoff is None or now >= cutoff:
            at = f"{cutoff:%H:%M}" if cutoff else "the close"
            return _no(CUTOFF, f"past the {at} cutoff: no new entries today, exits only")
        return None

    def _drawdown_lock(self, day_pnl: Decimal | Callable[[], Decimal]) -> StateChange | None:
        limit = self.limits.daily_loss_limit
        if limit <= 0 or self._state is not TradingState.ACTIVE:
            return None
        day_pnl = rupees(day_pnl() if callable(day_pnl) else day_pnl)
        if day_pnl > -limit:
            return None
        why = f"day P&L {format_inr(day_pnl)} reached the daily loss limit {format_inr(-limit)}"
        return self.set_state(TradingState.REDUCING, why)


def _no(code: str, reason: str, transition: StateChange | None = None) -> RiskDecision:
    return RiskDecision(False, code, reason, ZERO, transition)
