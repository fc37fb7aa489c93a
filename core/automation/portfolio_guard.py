"""The automation engine's side of the portfolio risk engine (:mod:`core.risk.portfolio_risk`).

The engine calls it at a few points and it keeps the portfolio's view true:

- **Before an entry** (:meth:`PortfolioGuard.entry_qty`): the sizer's quantity (the strategy's
  own unless ``sizing`` says otherwise; sized down in a soft drawdown; capped by the margin the
  RMS has left when sizing is not fixed), then what the book has room for. The answer is the
  quantity to send, or 0 with the rule that said no; both go in the entry's risk-check record.
- **After anything that changes a slot's exposure** (:meth:`expose`): an entry sent, filled,
  ended; a position scaled out, closed, its stop trailed. The slot's items in the book are
  rebuilt from its position and working entry.
- **A trade closed** (:meth:`closed`): its net P&L feeds the strategy's edge (Kelly) and losing
  streak (cooldown; said in an alert and the journal).
- **Every market event** (:meth:`watch_drawdown`): the day's P&L net of charges against the
  daily loss limit and the drawdown levels. Soft: entries sized down. Hard: the engine stands
  down (disarms, cancels entries, exits every position), REDUCING, then HALTED once flat, locked
  until a human lifts it. Daily loss: entries locked (REDUCING) until lifted. Each level reached
  is journaled (a ``drawdown`` note with the figures) and alerted.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.automation.snapshot import Gauge, PortfolioView
from core.clock import IST
from core.instants import parse_utc, utc_text
from core.risk.drawdown import DAILY_LOSS, HARD, OK, SOFT
from core.risk.limits import RiskLimits, format_inr
from core.risk.portfolio_risk import PortfolioRisk
from core.risk.rms import rupees, to_paisa
from core.risk.state import TradingState
from core.simulator.costs import cost_model, trade_charges

if TYPE_CHECKING:
    import datetime as dt

    from core.automation.engine import Engine
    from core.automation.slot import Slot
    from core.execution.orders import Side
    from core.trading.manager import Pending


class PortfolioGuard:
    """See the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.risk = PortfolioRisk(lambda: engine.risk.limits, engine.master)
        self.level = OK
        self.day_charges = Decimal(0)
        self._costs = cost_model(engine.costs) if engine.costs in ("zerodha", "none") else cost_model("none")
        self._keys: dict[tuple[str, str], set[str]] = {}
        self._watched: object = None  # the limits whose drawdown rules _dd_rules says are set
        self._dd_rules = False
        self._entries: dict[str, tuple[float, float]] = {}  # a working entry's decision price and stop
        self._noted_peak = Decimal(0)  # the peak the last guard note journaled

    def new_day(self) -> None:
        self.risk.drawdown.new_day()
        self.day_charges = Decimal(0)
        self.level = OK
        self._noted_peak = Decimal(0)

    def restore(self, state: dict[str, Any]) -> None:
        """The day's state from its last ``guard`` note (a restart the same day): the peak the
        drawdown is measured from, the charges paid, the strategies' streaks and cooldowns."""
        if not state:
            return
        self.risk.drawdown.peak_pnl = self._noted_peak = Decimal(state.get("peak_pnl", "0"))
        self.day_charges = Decimal(state.get("day_charges", "0"))
        self.risk.cooldowns.streak.update({k: int(v) for k, v in state.get("streaks", {}).items()})
        self.risk.cooldowns.until.update({k: parse_utc(v) for k, v in state.get("cooldowns", {}).items()})

    def _note_state(self) -> None:
        """Journal what a restart needs (see :meth:`restore`)."""
        cool = self.risk.cooldowns
        self._noted_peak = self.risk.drawdown.peak_pnl
        self.engine.note("guard", peak_pnl=f"{self._noted_peak:.2f}", day_charges=f"{self.day_charges:.2f}",
                         streaks=dict(sorted(cool.streak.items())),
                         cooldowns={k: utc_text(v) for k, v in sorted(cool.until.items())})

    # ------------------------------------------------------------------ entries

    def entry_qty(self, slot: Slot, pending: Pending, side: Side, price: float, stop: float | None,
                  coid: str) -> tuple[int, str, str, str]:
        """(quantity, how it was sized, refusal code, why) for an entry decided at ``price``."""
        engine = self.engine
        self.watch_drawdown()  # this event's prices first: a limit crossed on this tick locks before any entry
        limits = engine.risk.limits
        rms = engine.risk.rms
        margin_unit = margin_free = None
        if limits.sizing != "fixed":
            margin_unit = float(rms.requirement(slot.symbol, side, 1, price).total)
            margin_free = float(rms.snapshot().available)
        scale = float(limits.dd_soft_scale) if _RANK[self.level] >= _RANK[SOFT] else 1.0  # a lifted lock too
        size = self.risk.size(slot.symbol, slot.strategy.name, fixed_qty=slot.strategy.trade.qty, price=price,
                              stop=stop, atr=pending.atr, scale=scale, margin_per_unit=margin_unit,
                              margin_available=margin_free)
        if size.qty <= 0:
            return 0, size.how, "size", size.how
        new = self.risk.exposure(coid, slot.symbol, slot.strategy.name, side.sign, size.qty, price,
                                 stop if stop is not None else math.nan)
        verdict = self.risk.pre_trade(new, engine.clock.now())
        if verdict.qty <= 0:
            return 0, size.how, verdict.code, verdict.why
        self._entries[coid] = (price, new.stop)
        how = size.how if verdict.qty == size.qty else f"{size.how}; cut to {verdict.qty}: {verdict.why}"
        return verdict.qty, how, "", ""

    # ------------------------------------------------------------------ the book

    def expose(self, slot: Slot) -> None:
        """Rebuild the slot's items in the book: its position and its working entry."""
        engine = self.engine
        items = []
        pos = slot.manager.position
        if pos is not None and slot.position_id is not None:
            items.append(self.risk.exposure(slot.position_id, slot.symbol, slot.strategy.name, pos.side, pos.qty,
                                            pos.entry_price, pos.stop))
        entry = engine.orders.orders.get(slot.entry_coid) if slot.entry_coid else None
        if entry is not None and entry.working and entry.open_qty > 0:
            decided = self._entries.get(entry.client_order_id)
            if decided is None:  # restored after a restart: at the last price, its whole value at risk
                tick = engine.last_tick.get(slot.symbol)
                decided = (tick.price if tick is not None else 0.0, math.nan)
            price, stop = decided
            items.append(self.risk.exposure(entry.client_order_id, slot.symbol, slot.strategy.name,
                                            entry.request.side.sign, entry.open_qty, price, stop))
        keys = {item.key for item in items}
        for gone in self._keys.get(slot.key, set()) - keys:
            self.risk.remove(gone)
            self._entries.pop(gone, None)
        for item in items:
            if item.price > 0:
                self.risk.put(item)
        self._keys[slot.key] = keys

    def closed(self, slot: Slot, gross: Decimal, entry_price: float, exit_price: float, qty: int, side: int,
               entry_day: dt.date, exit_day: dt.date) -> None:
        """A leg closed: its charges count against the day; a whole trade feeds edge and streak."""
        inst = self.engine.master.get(slot.symbol)
        charges = trade_charges(self._costs, inst.cost_segment, "LONG" if side > 0 else "SHORT", entry_price,
                                exit_price, qty, entry_day, exit_day).total
        self.day_charges += charges
        slot.trade_pnl += gross - charges
        if slot.manager.position is None:
            why = self.risk.closed(slot.strategy.name, float(slot.trade_pnl), self.engine.clock.now())
            slot.trade_pnl = Decimal(0)
            if why:
                self.engine.note("cooldown", strategy=slot.strategy.name, why=why)
                self.engine.alert("warning", why)
        self._note_state()

    # ------------------------------------------------------------------ drawdown

    def watch_drawdown(self) -> None:
        """The day's net P&L against the guardrails (module docstring)."""
        engine = self.engine
        limits = engine.risk.limits
        if limits is not self._watched:  # read once per limits object: this runs on every tick
            self._watched = limits
            self._dd_rules = bool(limits.daily_loss_pct or limits.dd_soft_pct or limits.dd_hard_pct)
        if not self._dd_rules:
            return
        pnl = engine.day_pnl() - self.day_charges
        level, why = self.risk.drawdown.level(pnl)
        if self.risk.drawdown.peak_pnl - self._noted_peak >= limits.capital / 2000:  # 0.05 % higher
            self._note_state()
        if level == self.level or (level == OK and engine.locked):
            return
        escalated = _RANK[level] > _RANK[self.level]
        self.level = level
        engine.note("drawdown", level=level, why=why, day_pnl=f"{pnl:.2f}",
                    peak_pnl=f"{self.risk.drawdown.peak_pnl:.2f}")
        if not escalated:
            return
        if level == SOFT:
            engine.alert("warning", why)
        elif level == DAILY_LOSS and not engine.locked:
            engine.lock("loss", TradingState.REDUCING, why)
        elif level == HARD and engine.halt_reason != "drawdown":
            engine.lock("drawdown", TradingState.REDUCING, why)
            engine.stand_down(f"drawdown: {why}", "risk")


    # ------------------------------------------------------------------ the view

    def view(self) -> PortfolioView:
        """What the risk panel shows (on the engine's thread, at the snapshot rate)."""
        limits = self.engine.risk.limits
        book = self.risk.book
        capital = limits.capital
        gauges = [_gauge("portfolio heat", book.heat, limits.pct_of_capital(limits.heat_cap_pct),
                         "an entry risking more than what is left is refused" if limits.cap_action == "refuse"
                         else "an entry is cut to what is left"),
                  _gauge("gross exposure", book.gross, limits.pct_of_capital(limits.max_gross_pct)),
                  _gauge("net exposure", abs(book.net), limits.pct_of_capital(limits.max_net_pct))]
        for group, key in (("instrument", "max_instrument_pct"), ("sector", "max_sector_pct"),
                           ("strategy", "max_strategy_pct"), ("underlying", "max_underlying_pct"),
                           ("expiry", "max_expiry_pct")):
            pct = getattr(limits, key)
            if pct > 0:
                name, used = book.most_used(group)
                gauges.append(_gauge(f"{group} {name or '-'}", used, limits.pct_of_capital(pct)))
        pnl = self.engine.day_pnl() - self.day_charges
        peak = self.risk.drawdown.peak_pnl
        drawdown = max(peak - pnl, Decimal(0))
        peak_equity = capital + peak
        for name, pct, what in (("drawdown to soft level", limits.dd_soft_pct, "entries sized down"),
                                ("drawdown to hard level", limits.dd_hard_pct, "flatten and lock")):
            if pct > 0:
                gauges.append(_gauge(name, drawdown, (peak_equity * pct / 100).quantize(Decimal("0.01")), what))
        loss_limits = [x for x in (limits.daily_loss_limit, limits.pct_of_capital(limits.daily_loss_pct)) if x > 0]
        if loss_limits:
            gauges.append(_gauge("daily loss (net of charges)", max(-pnl, Decimal(0)), min(loss_limits),
                                 "entries locked"))
        figures = self.risk.figures() if self.risk.book.items else None
        var95 = self.risk.tail.figures(confidence=0.95).var_hist if figures is not None else None
        if figures is not None:
            for name, value, pct in (("99% VaR", figures.var_hist, limits.var_limit_pct),
                                     ("99% CVaR", figures.cvar_hist, limits.cvar_limit_pct),
                                     ("worst stress", -figures.worst_stress[1], limits.stress_limit_pct)):
                if pct > 0:
                    gauges.append(_gauge(name, value, limits.pct_of_capital(pct), "an entry that passes it is refused"))
        now = self.engine.clock.now()
        cooldowns = tuple(f"{strategy} until {until.astimezone(IST):%H:%M}"
                          for strategy, until in sorted(self.risk.cooldowns.until.items()) if until > now)
        return PortfolioView(
            sizing=_sizing_text(limits), gauges=tuple(gauges), drawdown_level=self.level,
            var95=_paise(var95), var99=_paise(figures.var_hist) if figures else None,
            cvar99=_paise(figures.cvar_hist) if figures else None,
            worst_stress=(figures.worst_stress[0], _paise(figures.worst_stress[1]) or Decimal(0)) if figures else None,
            cooldowns=cooldowns)


def _gauge(name: str, used: float | Decimal, limit: Decimal, trips: str = "") -> Gauge:
    used_d = _paise(used) or Decimal(0)
    if limit > 0:
        room = limit - used_d
        said = f"{format_inr(room)} left" if room >= 0 else f"passed by {format_inr(-room)}"
        trips = f"{said}: {trips}" if trips else said
    return Gauge(name, used_d, limit, trips if limit > 0 else "")


def _paise(value: float | Decimal | None) -> Decimal | None:
    return None if value is None else to_paisa(rupees(value))


def _sizing_text(limits: RiskLimits) -> str:
    if limits.sizing == "risk":
        return f"risk {limits.risk_per_trade_pct}% a trade ({format_inr(limits.pct_of_capital(limits.risk_per_trade_pct))})"
    if limits.sizing == "vol":
        return f"volatility target {limits.vol_target_pct}% per ATR"
    if limits.sizing == "kelly":
        return f"Kelly x{limits.kelly_fraction}, at most {limits.kelly_cap_pct}% at risk"
    return "fixed: each strategy's qty"


_RANK = {OK: 0, SOFT: 1, DAILY_LOSS: 2, HARD: 3}
