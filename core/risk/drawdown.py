"""Drawdown guardrails: the day's loss and its drawdown from the peak, a loss streak's cooldown,
and the windows in which no entry is made.

- **Daily loss** (``daily_loss_pct`` of capital, and/or the rupee ``daily_loss_limit``): the
  day's P&L — realised net of charges plus open — at or below minus the limit locks entries
  (REDUCING) until a human lifts the lock.
- **Drawdown** from the day's peak equity (capital + the best day P&L so far), as a % of that
  peak: at ``dd_soft_pct`` new entries are sized down by ``dd_soft_scale``; at ``dd_hard_pct``
  the engine goes REDUCING, flattens, and then HALTS until a human lifts the lock.
- **Loss streak**: ``loss_streak`` losing trades in a row by one strategy stop its entries for
  ``cooldown_min`` minutes (a win in between resets the count).
- **Lockout windows** (``lockout``, IST): no entries inside them (the open's first minutes, say).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from core.clock import IST
from core.risk.limits import RiskLimits, format_inr

OK, SOFT, HARD, DAILY_LOSS = "ok", "soft", "hard", "daily_loss"


@dataclass
class DrawdownGuard:
    """The day's peak and the level the current P&L stands at (module docstring). ``limits``
    gives the limits in force (they may change mid-day)."""

    limits: Callable[[], RiskLimits]
    peak_pnl: Decimal = Decimal(0)  # the day's best P&L so far (never below 0: the day starts at capital)

    def new_day(self) -> None:
        self.peak_pnl = Decimal(0)

    def level(self, day_pnl: Decimal) -> tuple[str, str]:
        """(level, why) for the day's P&L now; the peak moves up with it."""
        limits = self.limits()
        self.peak_pnl = max(self.peak_pnl, day_pnl)
        loss_limits = [x for x in (limits.daily_loss_limit, limits.pct_of_capital(limits.daily_loss_pct)) if x > 0]
        peak = limits.capital + self.peak_pnl
        drawdown = self.peak_pnl - day_pnl
        pct = drawdown * 100 / peak if peak > 0 else Decimal(0)
        said = f"drawdown {format_inr(drawdown)} ({pct:.2f}%) from the day's peak equity {format_inr(peak)}"
        # the gravest level reached wins: the hard level flattens, the daily loss only stops entries
        if limits.dd_hard_pct > 0 and pct >= limits.dd_hard_pct:
            return HARD, f"{said} reached the hard level {limits.dd_hard_pct}%"
        if loss_limits and day_pnl <= -min(loss_limits):
            return DAILY_LOSS, (f"day P&L {format_inr(day_pnl)} reached the daily loss limit "
                                f"{format_inr(-min(loss_limits))}")
        if limits.dd_soft_pct > 0 and pct >= limits.dd_soft_pct:
            return SOFT, f"{said} reached the soft level {limits.dd_soft_pct}%: entries sized x{limits.dd_soft_scale}"
        return OK, said


@dataclass
class CooldownBook:
    """Each strategy's losing streak and the end of its cooldown (``limits``: the limits in force)."""

    limits: Callable[[], RiskLimits]
    streak: dict[str, int] = field(default_factory=dict)
    until: dict[str, dt.datetime] = field(default_factory=dict)

    def closed(self, strategy: str, pnl: float, when: dt.datetime) -> str:
        """A trade of ``strategy`` closed with ``pnl``: why a cooldown began now, or ""."""
        limits = self.limits()
        if limits.loss_streak <= 0:
            return ""
        if pnl >= 0:
            self.streak[strategy] = 0
            return ""
        self.streak[strategy] = self.streak.get(strategy, 0) + 1
        if self.streak[strategy] < limits.loss_streak:
            return ""
        self.streak[strategy] = 0
        self.until[strategy] = when + dt.timedelta(minutes=limits.cooldown_min)
        return (f"{strategy}: {limits.loss_streak} losses in a row; no entries until "
                f"{self.until[strategy].astimezone(IST):%H:%M}")

    def refusal(self, strategy: str, now: dt.datetime) -> str:
        until = self.until.get(strategy)
        if until is not None and now < until:
            return f"{strategy} cools down after {self.limits().loss_streak} losses until {until.astimezone(IST):%H:%M}"
        return ""


def lockout_refusal(limits: RiskLimits, now: dt.datetime) -> str:
    """Why ``now`` is inside a lockout window, or ""."""
    t = now.astimezone(IST).time()
    for start, end in limits.lockout:
        if start <= t < end:
            return f"inside the lockout window {start:%H:%M}-{end:%H:%M}"
    return ""
