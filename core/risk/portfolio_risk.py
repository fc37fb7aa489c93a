"""The portfolio risk engine: sizing, exposure and heat caps, correlation, tail risk, drawdown
guardrails — what the automation engine asks before an entry and tells after every fill and bar.

It owns the book (:mod:`core.risk.portfolio`), the rolling returns (:mod:`core.risk.returns`),
the tail-risk cache (:mod:`core.risk.tail`), each strategy's realised edge (for Kelly sizing)
and the guardrails (:mod:`core.risk.drawdown`). The limits are the risk engine's (they may
change mid-day). An entry goes through :meth:`size` (how many units) and then
:meth:`pre_trade` (how many of those the book has room for, and the first rule that says no):
lockout window, cooldown, exposure and heat caps, correlation with the open positions, then VaR,
CVaR and the worst stress scenario with the entry added. Tail figures are recomputed (all of
them, over every instrument traded) after a fill or a new bar, when they are next asked for —
at most once per bar, and only while a tail limit is set or someone looks at them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.market.bars import Bar
from core.market.instruments import InstrumentMaster
from core.risk.drawdown import CooldownBook, DrawdownGuard, lockout_refusal
from core.risk.limits import RiskLimits, format_inr
from core.risk.portfolio import Exposure, PortfolioBook, fit
from core.risk.returns import ReturnsWindow
from core.risk.rms import rupees
from core.risk.sizing import Edge, Size, size_entry, whole_lots
from core.risk.tail import TailBook, TailFigures

VAR_CONFIDENCE = 0.99
VAR_HORIZON_BARS = 15  # the tail figures are of the book's P&L over 15 minutes
MIN_HISTORY = 30  # rows of returns before correlation and tail limits are trusted

LOCKOUT, COOLDOWN, EXPOSURE, CORRELATION, TAIL = "lockout", "cooldown", "exposure", "correlation", "tail"


@dataclass(frozen=True, slots=True)
class Verdict:
    """How many units of the entry may go (0: none) and why not more (``code`` and a sentence)."""

    qty: int
    code: str = ""
    why: str = ""


class PortfolioRisk:
    """See the module docstring. ``limits`` returns the limits in force."""

    def __init__(self, limits: Callable[[], RiskLimits], master: InstrumentMaster) -> None:
        self._limits = limits
        self.master = master
        self.book = PortfolioBook()
        self.returns = ReturnsWindow()
        self.tail = TailBook(confidence=VAR_CONFIDENCE)
        self.edges: dict[str, Edge] = defaultdict(Edge)
        self.cooldowns = CooldownBook(limits)
        self.drawdown = DrawdownGuard(limits)
        self._columns: dict[str, int] = {}
        self._held_cols = np.zeros(0, dtype=np.intp)  # the open items' columns and sides, for correlation
        self._held_sides = np.zeros(0)
        self._loaded = -1  # the returns' version the tail cache was loaded from
        self._book_changed = True

    @property
    def limits(self) -> RiskLimits:
        return self._limits()

    # ------------------------------------------------------------------ what happens

    def exposure(self, key: str, symbol: str, strategy: str, side: int, qty: int, price: float,
                 stop: float = math.nan) -> Exposure:
        inst = self.master.get(symbol)
        return Exposure(key, symbol, strategy, inst.sector, inst.underlying or symbol,
                        inst.expiry.isoformat() if inst.expiry else "", side, qty, price, stop)

    def put(self, item: Exposure) -> None:
        self.book.put(item)
        self._book_changed = True

    def remove(self, key: str) -> None:
        if key in self.book.items:
            self.book.remove(key)
            self._book_changed = True

    def on_bar(self, bar: Bar) -> None:
        self.returns.on_bar(bar.symbol, bar.start, bar.close)

    def closed(self, strategy: str, pnl: float, when: dt.datetime) -> str:
        """A trade closed: its strategy's edge and streak; why a cooldown began, or ""."""
        self.edges[strategy].add(pnl)
        return self.cooldowns.closed(strategy, pnl, when)

    # ------------------------------------------------------------------ before an entry

    def size(self, symbol: str, strategy: str, *, fixed_qty: int, price: float, stop: float | None, atr: float,
             scale: float = 1.0, margin_per_unit: float | None = None,
             margin_available: float | None = None) -> Size:
        """The entry's quantity by the sizing method (:mod:`core.risk.sizing`)."""
        return size_entry(self.limits, fixed_qty=fixed_qty, price=price, stop=stop, atr=atr,
                          lot_size=self.master.get(symbol).lot_size, edge=self.edges[strategy], scale=scale,
                          margin_per_unit=margin_per_unit, margin_available=margin_available)

    def pre_trade(self, new: Exposure, now: dt.datetime) -> Verdict:
        """How much of ``new`` may go (module docstring); ``Verdict(new.qty)`` when all of it."""
        limits = self.limits
        why = lockout_refusal(limits, now) if limits.lockout else ""
        if why:
            return Verdict(0, LOCKOUT, why)
        why = self.cooldowns.refusal(new.strategy, now)
        if why:
            return Verdict(0, COOLDOWN, why)
        lot = self.master.get(new.symbol).lot_size
        room = fit(limits, self.book, new, lot)
        verdict = Verdict(new.qty)
        if room.qty < new.qty:
            verdict = Verdict(room.qty, EXPOSURE, room.why)
            if limits.cap_action == "refuse" or room.qty <= 0:
                return Verdict(0, EXPOSURE, room.why)
        for check in (self._correlation, self._tail):
            qty = verdict.qty
            later = check(_with_qty(new, qty), limits, lot)
            if later.qty < qty:
                if later.qty <= 0 or limits.cap_action == "refuse":
                    return Verdict(0, later.code, later.why)
                verdict = later
        return verdict

    def _correlation(self, new: Exposure, limits: RiskLimits, lot: int) -> Verdict:
        if limits.max_corr <= 0 or not self.book.items:
            return Verdict(new.qty)
        self._load()
        col = self._columns.get(new.symbol)
        if col is None or self.tail.rows < MIN_HISTORY or not len(self._held_cols):
            return Verdict(new.qty)  # too little history to judge
        # same direction and correlated: the risks add up (a short against a correlated long hedges)
        signed = self.tail.correlations(col)[self._held_cols] * self._held_sides * new.side
        signed[self._held_cols == col] = -np.inf  # more of the same instrument is the caps' business
        signed[~np.isfinite(signed)] = -np.inf
        k = int(np.argmax(signed))
        worst = float(signed[k])
        if worst <= float(limits.max_corr):
            return Verdict(new.qty)
        against = self.returns.symbols[int(self._held_cols[k])]
        why = f"correlation {worst:.2f} with the open {against} position is above max_corr {limits.max_corr}"
        return Verdict(whole_lots(new.qty * float(limits.max_corr) / worst, lot), CORRELATION, why)

    def _tail(self, new: Exposure, limits: RiskLimits, lot: int) -> Verdict:
        caps = [(name, limits.pct_of_capital(pct)) for name, pct in
                (("VaR", limits.var_limit_pct), ("CVaR", limits.cvar_limit_pct), ("stress", limits.stress_limit_pct))
                if pct > 0]
        if not caps:
            return Verdict(new.qty)
        self._load()
        col = self._columns.get(new.symbol)
        if col is None or self.tail.rows < MIN_HISTORY:
            return Verdict(new.qty)
        why = _breach(self.tail.figures(col, new.side * new.qty * new.price), caps)
        if not why:
            return Verdict(new.qty)
        qty = whole_lots(new.qty / 2, lot) if limits.cap_action == "reduce" else 0
        while qty > 0:  # halve until it fits, or nothing does; the reason stays the whole entry's
            if not _breach(self.tail.figures(col, new.side * qty * new.price), caps):
                return Verdict(qty, TAIL, why)
            qty = whole_lots(qty / 2, lot) if qty > lot else 0
        return Verdict(0, TAIL, why)

    # ------------------------------------------------------------------ the figures

    def figures(self, confidence: float = VAR_CONFIDENCE) -> TailFigures | None:
        """The book's tail figures now; None with too little history."""
        self._load()
        if self.tail.rows < MIN_HISTORY:
            return None
        return self.tail.figures(confidence=confidence)

    def _load(self) -> None:
        """Recompute the tail cache when the returns or the book changed since the last time."""
        if self._loaded == self.returns.version and not self._book_changed:
            return
        symbols = self.returns.symbols
        self._columns = {s: i for i, s in enumerate(symbols)}
        w = np.zeros(len(symbols))
        held_cols, held_sides = [], []
        for item in self.book.items.values():
            col = self._columns.get(item.symbol)
            if col is not None:
                w[col] += item.side * item.notional
                held_cols.append(col)
                held_sides.append(float(item.side))
        self._held_cols = np.array(held_cols, dtype=np.intp)
        self._held_sides = np.array(held_sides)
        self.tail.load(self.returns.returns(symbols, VAR_HORIZON_BARS), w)
        self._loaded, self._book_changed = self.returns.version, False


def _with_qty(item: Exposure, qty: int) -> Exposure:
    return Exposure(item.key, item.symbol, item.strategy, item.sector, item.underlying, item.expiry, item.side, qty,
                    item.price, item.stop)


def _breach(figures: TailFigures, caps: list[tuple[str, object]]) -> str:
    values = {"VaR": figures.var_hist, "CVaR": figures.cvar_hist, "stress": -figures.worst_stress[1]}
    for name, cap in caps:
        value = values[name]
        if value > float(cap):  # type: ignore[arg-type]
            what = f"the worst stress ({figures.worst_stress[0]})" if name == "stress" else f"99% {name}"
            return f"{what} would be {format_inr(rupees(value))}, above its limit {format_inr(cap)}"  # type: ignore[arg-type]
    return ""
