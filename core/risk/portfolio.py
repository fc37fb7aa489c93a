"""The book as the risk engine sees it: open positions and working entries, their exposure by
group, and the portfolio heat; the exposure and heat caps checked against a new entry.

Each item (an :class:`Exposure`) carries its notional (qty x price) and its risk to the stop
(qty x |price - stop|; with no stop, its whole notional is at risk). The book keeps running
sums per group — instrument, sector, strategy, underlying, expiry — and in total (gross and
net), so a check costs a few dictionary lookups whatever the number of positions.

:func:`fit` answers how much of a new entry the caps leave room for: the whole quantity, less
(whole lots), or nothing, with the binding cap said in rupees. Every cap is a percentage of
capital (``max_instrument_pct``, ``max_sector_pct``, ``max_strategy_pct``,
``max_underlying_pct``, ``max_expiry_pct``, ``max_gross_pct``: gross notional; ``max_net_pct``:
|long − short|; ``heat_cap_pct``: the sum of risk to the stops); 0 switches one off.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from core.risk.limits import RiskLimits, format_inr
from core.risk.rms import rupees
from core.risk.sizing import whole_lots

GROUPS = ("instrument", "sector", "strategy", "underlying", "expiry")
_CAP_OF = {"instrument": "max_instrument_pct", "sector": "max_sector_pct", "strategy": "max_strategy_pct",
           "underlying": "max_underlying_pct", "expiry": "max_expiry_pct"}


@dataclass(frozen=True, slots=True)
class Exposure:
    """One open position or working entry."""

    key: str  # the position id (or the entry's client order id while it works)
    symbol: str
    strategy: str
    sector: str
    underlying: str  # the symbol itself for a cash instrument
    expiry: str  # "" for a cash instrument
    side: int  # +1 long, -1 short
    qty: int
    price: float  # the entry price (a working entry: the price it was decided at)
    stop: float = math.nan

    @property
    def notional(self) -> float:
        return self.qty * self.price

    @property
    def risk_per_unit(self) -> float:
        return abs(self.price - self.stop) if math.isfinite(self.stop) else self.price

    @property
    def risk(self) -> float:
        """Rupees lost if the stop is hit (no stop: the whole notional)."""
        return self.qty * self.risk_per_unit

    def group(self, name: str) -> str:
        return {"instrument": self.symbol, "sector": self.sector, "strategy": self.strategy,
                "underlying": self.underlying, "expiry": self.expiry}[name]


class PortfolioBook:
    """Exposures by key, with running sums (see the module docstring)."""

    def __init__(self) -> None:
        self.items: dict[str, Exposure] = {}
        self._gross: dict[tuple[str, str], float] = defaultdict(float)
        self.gross = 0.0
        self.net = 0.0
        self.heat = 0.0

    def put(self, item: Exposure) -> None:
        """Add ``item``, or replace the one of its key (a fill changed its quantity or price, a
        trailing stop moved)."""
        self.remove(item.key)
        self.items[item.key] = item
        self._add(item, 1.0)

    def remove(self, key: str) -> None:
        old = self.items.pop(key, None)
        if old is not None:
            self._add(old, -1.0)

    def gross_of(self, group: str, value: str) -> float:
        return self._gross.get((group, value), 0.0)

    def _add(self, item: Exposure, sign: float) -> None:
        n = item.notional * sign
        for group in GROUPS:
            self._gross[(group, item.group(group))] += n
        self.gross += n
        self.net += item.side * n
        self.heat += item.risk * sign


@dataclass(frozen=True, slots=True)
class Fit:
    """How much of an entry the caps allow, and why not more ("" when all of it)."""

    qty: int
    why: str


def fit(limits: RiskLimits, book: PortfolioBook, new: Exposure, lot_size: int) -> Fit:
    """The largest quantity up to ``new.qty`` (whole lots) that keeps every cap (module docstring)."""
    room: list[tuple[float, str]] = []  # (units allowed, why) per cap that binds
    price = new.price
    for group in GROUPS:
        pct = getattr(limits, _CAP_OF[group])
        if pct > 0:
            cap = float(limits.pct_of_capital(pct))
            used = book.gross_of(group, new.group(group))
            room.append(((cap - used) / price, f"{group} {new.group(group)}: {_inr(used)} of {_inr(cap)} "
                                                f"({pct}% of capital) in use"))
    if limits.max_gross_pct > 0:
        cap = float(limits.pct_of_capital(limits.max_gross_pct))
        room.append(((cap - book.gross) / price, f"gross exposure {_inr(book.gross)} of {_inr(cap)} in use"))
    if limits.max_net_pct > 0:
        cap = float(limits.pct_of_capital(limits.max_net_pct))
        # the side that adds to the net may use what is left; the other side may first undo it
        units = (cap - new.side * book.net) / price
        room.append((units, f"net exposure {_inr(book.net)} of ±{_inr(cap)}"))
    if limits.heat_cap_pct > 0:
        cap = float(limits.pct_of_capital(limits.heat_cap_pct))
        room.append(((cap - book.heat) / new.risk_per_unit,
                     f"portfolio heat {_inr(book.heat)} of {_inr(cap)} ({limits.heat_cap_pct}% of capital) at risk"))
    qty, why = new.qty, ""
    for units, reason in room:
        allowed = whole_lots(units, lot_size)
        if allowed < qty:
            qty, why = allowed, reason
    return Fit(max(qty, 0), why)


def _inr(amount: float) -> str:
    return format_inr(rupees(amount))
