"""Position sizing: how many units an entry buys or sells, from the risk settings.

One sizer for the engine and the simulator. Methods (``sizing`` in :class:`RiskLimits`):

- ``fixed``: the strategy's own ``qty``.
- ``risk``: a fixed rupee risk per trade, ``risk_per_trade_pct`` of capital, divided by the
  distance to the stop (entry − stop, per unit): a wide stop buys fewer units. No stop, no size.
- ``vol``: volatility targeting; one ATR move of the position is worth ``vol_target_pct`` of
  capital (quantity = that rupee amount / ATR).
- ``kelly``: fractional Kelly from the strategy's realised edge (win rate ``p`` and payoff ratio
  ``b`` = average win / average loss): the Kelly fraction ``p − (1 − p) / b`` times
  ``kelly_fraction``, capped at ``kelly_cap_pct`` of capital at risk, as rupee risk to the stop.
  Until the strategy has ``KELLY_MIN_TRADES`` closed trades its edge is not trusted: it sizes
  as ``risk`` at ``risk_per_trade_pct`` (or its fixed ``qty`` when that is 0). No edge
  (``f <= 0``): no trade.

Every method rounds down to whole lots, then the soft-drawdown ``scale`` applies (rounded down
again), then the margin cap (what the available margin can carry). The result says how it was
reached, in rupees, for the journal and the trader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.risk.limits import RiskLimits, format_inr
from core.risk.rms import rupees

KELLY_MIN_TRADES = 20


@dataclass
class Edge:
    """A strategy's realised edge: its closed trades' wins and losses in rupees (net)."""

    wins: int = 0
    losses: int = 0
    won: float = 0.0  # sum of winning trades
    lost: float = 0.0  # sum of losing trades, as a positive number

    def add(self, pnl: float) -> None:
        if pnl > 0:
            self.wins, self.won = self.wins + 1, self.won + pnl
        elif pnl < 0:
            self.losses, self.lost = self.losses + 1, self.lost - pnl

    @property
    def trades(self) -> int:
        return self.wins + self.losses

    def kelly(self) -> float | None:
        """The full Kelly fraction ``p − (1 − p) / b``; None without enough trades to tell."""
        if self.trades < KELLY_MIN_TRADES:
            return None
        p = self.wins / self.trades
        if self.losses == 0:
            return 1.0
        if self.wins == 0:
            return -1.0
        b = (self.won / self.wins) / (self.lost / self.losses)
        return p - (1 - p) / b


@dataclass(frozen=True, slots=True)
class Size:
    """How many units, and how the sizer got there (one sentence)."""

    qty: int
    how: str


def size_entry(limits: RiskLimits, *, fixed_qty: int, price: float, stop: float | None, atr: float,
               lot_size: int, edge: Edge | None = None, scale: float = 1.0,
               margin_per_unit: float | None = None, margin_available: float | None = None) -> Size:
    """The quantity of one entry at ``price`` (see the module docstring); 0 with the reason when
    it cannot trade."""
    size = _by_method(limits, fixed_qty, price, stop, atr, lot_size, edge)
    if size.qty <= 0:
        return size
    if scale < 1.0:
        size = Size(whole_lots(size.qty * scale, lot_size), f"{size.how}, x{scale:g} (soft drawdown)")
    if margin_per_unit is not None and margin_available is not None and margin_per_unit > 0:
        most = whole_lots(max(margin_available, 0.0) / margin_per_unit, lot_size)
        if size.qty > most:
            size = Size(most, f"{size.how}, cut to {most} by the margin available "
                              f"({format_inr(rupees(margin_available))})")
    return size


def _by_method(limits: RiskLimits, fixed_qty: int, price: float, stop: float | None, atr: float, lot_size: int,
               edge: Edge | None) -> Size:
    capital = float(limits.capital)
    method = limits.sizing
    if method == "vol":
        if not (math.isfinite(atr) and atr > 0):
            return Size(0, "vol sizing needs the ATR, still warming up")
        budget = capital * float(limits.vol_target_pct) / 100
        return Size(whole_lots(budget / atr, lot_size), f"vol: {format_inr(rupees(budget))} per ATR {atr:.2f}")
    pct, how = float(limits.risk_per_trade_pct), "risk"
    if method == "kelly":
        kelly = edge.kelly() if edge is not None else None
        trades = edge.trades if edge is not None else 0
        if kelly is not None and kelly <= 0:
            return Size(0, f"kelly: no edge in {trades} trades (f = {kelly:.3f})")
        if kelly is not None:
            pct = min(kelly * float(limits.kelly_fraction) * 100, float(limits.kelly_cap_pct))
            how = f"kelly f={kelly:.3f} x {limits.kelly_fraction}"
        elif pct > 0:
            how = f"kelly: {trades} trades are too few, risk"
        else:
            method = "fixed"
    if method == "fixed":
        return Size(whole_lots(fixed_qty, lot_size), f"fixed {fixed_qty}")
    per_unit = abs(price - stop) if stop is not None and math.isfinite(stop) else math.nan
    if not (math.isfinite(per_unit) and per_unit > 0):
        return Size(0, f"{limits.sizing} sizing needs a stop to measure the risk by")
    budget = capital * pct / 100
    return Size(whole_lots(budget / per_unit, lot_size),
                f"{how}: {format_inr(rupees(budget))} / {per_unit:.2f} to the stop")


def whole_lots(units: float, lot_size: int) -> int:
    """Whole lots, rounded down (a float hair below a lot boundary counts as reaching it)."""
    if not math.isfinite(units) or units <= 0:
        return 0
    return int(math.floor(units / lot_size + 1e-9)) * lot_size
