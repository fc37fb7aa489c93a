"""The paper RMS: cash, margin blocked for working orders, margin used by positions, P&L.

Margin per order (all money Decimal, each component rounded to the paisa, half up):

- cash equity (MIS): ``notional / mis_leverage`` (the instrument master's column, default 5,
  i.e. 20%, Zerodha's usual intraday figure);
- futures, and index rows traded as their futures proxy: a SPAN-like scan margin plus exposure
  margin (% of notional) - see :mod:`core.risk.span`, which APPROXIMATES NSE SPAN with
  parameters from ``resources/margins.toml``; it is not the exchange's SPAN parameter file;
- short options: the scan margin (Black-76 repricing, needs the underlying's price from
  :meth:`PaperRms.mark` and the clock for time to expiry) plus exposure on the underlying's
  notional; long options: the premium paid, no SPAN.

The life of the money:

- :meth:`PaperRms.block` reserves an entry order's margin or refuses it in Kite's words
  ("Insufficient funds. Required margin is 95417.84 but available margin is 74251.80. ...");
  blocking the same client order id again is a no-op that answers the first decision's amount;
- :meth:`PaperRms.on_fill` moves the blocked amount to the position, pro rata for partial fills
  (cumulative rounding, so the parts always add up to the block exactly);
- :meth:`PaperRms.release` returns what is still blocked (cancel, reject, or the unfilled rest);
- :meth:`PaperRms.on_exit` releases the position's margin pro rata and books the realised P&L
  into cash. An exit needs no margin and is never blocked.

``available = cash - blocked - used + min(unrealised, 0)``: unrealised losses eat into what can
be traded, unrealised profits are not lent out (conservative, like a broker's intraday RMS).
Margin is fixed at entry; it is not re-priced as the market moves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.clock import MarketClock
from core.errors import RiskRejected
from core.execution.orders import Side
from core.market.instruments import Instrument, InstrumentMaster
from core.risk.span import MarginRules, default_rules, futures_scan_loss, option_scan_loss

ZERO = Decimal("0.00")
PAISA = Decimal("0.01")
_RATIO = Decimal("0.0001")


def to_paisa(amount: Decimal) -> Decimal:
    """``amount`` rounded to the paisa, half up."""
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)


def rupees(value: float | int | Decimal) -> Decimal:
    """A price or amount as an exact Decimal (floats via their shortest text: 24117.35, not 24117.3499...)."""
    return value if isinstance(value, Decimal) else Decimal(str(float(value)))


def insufficient_funds(required: Decimal, available: Decimal) -> str:
    """Zerodha's order-reject wording (kite-mocks ``orders.json``)."""
    return (
        f"Insufficient funds. Required margin is {required:.2f} but available margin is "
        f"{available:.2f}. Check the orderbook for open orders."
    )


@dataclass(frozen=True, slots=True)
class MarginRequirement:
    """An order's margin by component, as Kite's order-margin call names them."""

    method: str  # "mis", "span" or "premium"
    var: Decimal = ZERO  # cash-equity intraday margin
    span: Decimal = ZERO
    exposure: Decimal = ZERO
    option_premium: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.var + self.span + self.exposure + self.option_premium


@dataclass(frozen=True, slots=True)
class RmsDecision:
    """Whether margin was blocked; ``reason`` is the broker-style message when it was not.

    ``available`` is what is left after this block when accepted, what was there when refused.
    """

    accepted: bool
    required: Decimal
    available: Decimal
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RmsSnapshot:
    """The account at one moment. ``utilisation`` is (blocked + used) / funds, 0..1."""

    capital: Decimal
    cash: Decimal
    blocked: Decimal
    used: Decimal
    available: Decimal
    utilisation: Decimal
    realised: Decimal
    unrealised: Decimal


@dataclass(slots=True)
class _Block:
    symbol: str
    side: Side
    qty: int
    amount: Decimal
    filled: int = 0
    moved: Decimal = ZERO

    @property
    def left(self) -> Decimal:
        return self.amount - self.moved


@dataclass(slots=True)
class _Position:
    symbol: str
    sign: int
    qty: int
    avg: Decimal
    used: Decimal


class PaperRms:
    """Cash-plus-margin account of the paper broker (one account, one engine thread)."""

    def __init__(
        self,
        capital: Decimal,
        master: InstrumentMaster,
        *,
        rules: MarginRules | None = None,
        clock: MarketClock | None = None,
    ) -> None:
        self.capital = to_paisa(rupees(capital))
        self.master = master
        self.rules = rules or default_rules()
        self.clock = clock  # needed only to value options (time to expiry)
        self._realised = ZERO
        self._blocks: dict[str, _Block] = {}
        self._positions: dict[str, _Position] = {}
        # running sums of what is blocked and used (exact: paisa amounts), so an order's check does
        # not pass over every block and position
        self._blocked_total = ZERO
        self._used_total = ZERO
        self._marks: dict[str, float] = {}  # marked on every tick: made Decimal only when read
        # unrealised P&L kept up to date per symbol (a check must not pass over every position):
        # symbol -> (net quantity, cost = sum of avg x qty x sign) and its mark-to-market
        self._exposure: dict[str, tuple[Decimal, Decimal]] = {}
        self._mtm: dict[str, Decimal] = {}
        self._mtm_total = ZERO

    # -- margin ---------------------------------------------------------------------------------

    def requirement(self, symbol: str, side: Side | str, qty: int, price: float) -> MarginRequirement:
        """The margin an entry of ``qty`` at ``price`` needs; RiskRejected when it cannot be priced."""
        inst = self.master.get(symbol, price)
        side = Side(side)
        p, n = rupees(price), Decimal(qty)
        if not inst.is_derivative:
            return MarginRequirement("mis", var=to_paisa(p * n / rupees(inst.mis_leverage)))
        root = inst.underlying or inst.symbol
        params = self.rules.params(root, is_index=self._is_index(inst))
        if not inst.is_option:
            scan = futures_scan_loss(side.sign, qty, p, params, self.rules)
            return MarginRequirement("span", span=to_paisa(scan), exposure=to_paisa(p * n * params.exposure))
        if side is Side.BUY:
            return MarginRequirement("premium", option_premium=to_paisa(p * n))
        underlying = self._mark(root)
        if underlying is None:
            raise RiskRejected(f"no price for {root}, the underlying of {inst.symbol}", where=inst.symbol)
        scan = option_scan_loss(
            side.sign, qty, float(p), float(underlying), float(inst.strike or 0),
            self._years_to_expiry(inst), inst.option_type == "CE", params, self.rules,
        )
        return MarginRequirement(
            "span", span=to_paisa(rupees(scan)), exposure=to_paisa(underlying * n * params.exposure)
        )

    def block(self, client_order_id: str, symbol: str, side: Side | str, qty: int, price: float) -> RmsDecision:
        """Reserve an entry order's margin, or refuse it with the broker's wording."""
        available = self.available
        existing = self._blocks.get(client_order_id)
        if existing is not None:
            return RmsDecision(True, existing.amount, available)
        if qty <= 0 or not price > 0:
            return RmsDecision(False, ZERO, available, f"Invalid order: quantity {qty} at price {price}.")
        try:
            required = self.requirement(symbol, side, qty, price).total
        except RiskRejected as exc:
            return RmsDecision(False, ZERO, available, exc.message)
        if required > available:
            return RmsDecision(False, required, available, insufficient_funds(required, available))
        self._blocks[client_order_id] = _Block(symbol.upper(), Side(side), qty, required)
        self._blocked_total += required
        return RmsDecision(True, required, available - required)

    def release(self, client_order_id: str) -> Decimal:
        """Give back what an order still has blocked (cancel, reject, expiry); 0 if nothing."""
        blk = self._blocks.pop(client_order_id, None)
        if blk is None:
            return ZERO
        self._blocked_total -= blk.left
        return blk.left

    def on_fill(self, client_order_id: str, qty: int, price: float, position_key: str) -> Decimal:
        """An entry order filled ``qty`` at ``price``: move its margin, pro rata, to the position.

        Returns the amount moved. Exits go to :meth:`on_exit`, not here.
        """
        blk = self._blocks.get(client_order_id)
        if blk is None:
            raise ValueError(f"fill for {client_order_id}, which has no margin blocked")
        if qty <= 0 or blk.filled + qty > blk.qty:
            raise ValueError(f"fill of {qty} for {client_order_id}: {blk.qty - blk.filled} left")
        blk.filled += qty
        target = blk.amount if blk.filled == blk.qty else to_paisa(blk.amount * blk.filled / blk.qty)
        moved = target - blk.moved
        blk.moved = target
        self._blocked_total -= moved
        if blk.filled == blk.qty:
            del self._blocks[client_order_id]
        pos = self._positions.get(position_key)
        if pos is None:
            pos = self._positions[position_key] = _Position(blk.symbol, blk.side.sign, 0, ZERO, ZERO)
        elif pos.symbol != blk.symbol or pos.sign != blk.side.sign:
            raise ValueError(f"fill of {blk.symbol} {blk.side} does not add to position {position_key}")
        p = rupees(price)
        pos.avg = (pos.avg * pos.qty + p * qty) / (pos.qty + qty)
        pos.qty += qty
        pos.used += moved
        self._used_total += moved
        self._revalue(pos.symbol)
        return moved

    def on_exit(self, position_key: str, qty: int, realised_pnl: Decimal) -> Decimal:
        """``qty`` of a position closed: release its margin pro rata, book ``realised_pnl`` into cash.

        Returns the margin released. P&L is booked even for a position this RMS does not hold
        (e.g. after a restart), so no rupee is ever lost from the account.
        """
        self._realised += to_paisa(rupees(realised_pnl))
        pos = self._positions.get(position_key)
        if pos is None or qty <= 0:
            return ZERO
        if qty >= pos.qty:
            del self._positions[position_key]
            self._used_total -= pos.used
            self._revalue(pos.symbol)
            return pos.used
        freed = to_paisa(pos.used * qty / pos.qty)
        pos.used -= freed
        self._used_total -= freed
        pos.qty -= qty
        self._revalue(pos.symbol)
        return freed

    def adopt(self, position_key: str, symbol: str, side: Side | str, qty: int, entry_price: float,
              margin_price: float | None = None) -> Decimal:
        """A position held before a restart: its margin is in use again, priced as its entry order's
        was (``margin_price``, default the entry price); it is already held, so no headroom check."""
        used = self.requirement(symbol, side, qty, margin_price or entry_price).total
        old = self._positions.get(position_key)
        if old is not None:
            self._used_total -= old.used
        self._positions[position_key] = _Position(symbol.upper(), Side(side).sign, qty, rupees(entry_price), used)
        self._used_total += used
        self._revalue(symbol.upper())
        return used

    def mark(self, symbol: str, price: float) -> None:
        """The latest price of ``symbol`` (positions' unrealised P&L, options' underlying)."""
        symbol = symbol.upper()
        self._marks[symbol] = price
        if symbol in self._exposure:
            self._remark(symbol)

    def _revalue(self, symbol: str) -> None:
        """A position of ``symbol`` changed: its net quantity and cost again, then its mark-to-market."""
        held = [p for p in self._positions.values() if p.symbol == symbol]
        if held:
            self._exposure[symbol] = (sum((Decimal(p.qty * p.sign) for p in held), ZERO),
                                      sum((p.avg * p.qty * p.sign for p in held), ZERO))
        else:
            self._exposure.pop(symbol, None)
        self._remark(symbol)

    def _remark(self, symbol: str) -> None:
        exposure = self._exposure.get(symbol)
        last = self._mark(symbol)
        mtm = last * exposure[0] - exposure[1] if exposure is not None and last is not None else ZERO
        self._mtm_total += mtm - self._mtm.pop(symbol, ZERO)
        if exposure is not None:
            self._mtm[symbol] = mtm

    def _mark(self, symbol: str) -> Decimal | None:
        price = self._marks.get(symbol)
        return None if price is None else rupees(price)

    # -- reading --------------------------------------------------------------------------------

    @property
    def blocked(self) -> Decimal:
        return self._blocked_total

    @property
    def used(self) -> Decimal:
        return self._used_total

    @property
    def realised(self) -> Decimal:
        return self._realised

    @property
    def unrealised(self) -> Decimal:
        return to_paisa(self._mtm_total)

    @property
    def cash(self) -> Decimal:
        return self.capital + self._realised

    @property
    def available(self) -> Decimal:
        """What a new entry can use: cash - blocked - used + unrealised losses."""
        return self.cash - self.blocked - self.used + min(self.unrealised, ZERO)

    def snapshot(self) -> RmsSnapshot:
        """An immutable view of the account."""
        blocked, used, unrealised = self.blocked, self.used, self.unrealised
        funds = self.cash + min(unrealised, ZERO)
        if funds <= 0:
            utilisation = Decimal(1)
        else:
            utilisation = min(max((blocked + used) / funds, Decimal(0)), Decimal(1))
        return RmsSnapshot(
            capital=self.capital,
            cash=self.cash,
            blocked=blocked,
            used=used,
            available=funds - blocked - used,
            utilisation=utilisation.quantize(_RATIO, rounding=ROUND_HALF_UP),
            realised=self._realised,
            unrealised=unrealised,
        )

    # -- helpers --------------------------------------------------------------------------------

    def _is_index(self, inst: Instrument) -> bool:
        root = inst.underlying or inst.symbol
        if inst.kind == "INDEX" or root in self.rules.index_underlyings:
            return True
        return root in self.master and self.master.get(root).kind == "INDEX"

    def _years_to_expiry(self, inst: Instrument) -> float:
        if self.clock is None:
            raise RiskRejected(f"cannot value option {inst.symbol}: the RMS has no market clock", where=inst.symbol)
        today: dt.date = self.clock.today()
        days = (inst.expiry - today).days if inst.expiry else 0
        if days < 0:
            raise RiskRejected(f"option {inst.symbol} expired on {inst.expiry}", where=inst.symbol)
        return max(days, self.rules.min_days) / self.rules.days_in_year
