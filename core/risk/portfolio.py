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
from decimal import Decimal

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
        """What a unit loses at the stop: nothing once the stop has locked in a profit (a long's
        stop above its entry); its whole price with no stop."""
        if not math.isfinite(self.stop):
            return self.price
        return max(self.side * (self.price - self.stop), 0.0)

    @property
    def risk(self) -> float:
        """Rupees lost if the stop is hit (no stop: the whole notional)."""
        return self.qty * self.risk_per_unit

    @property
    def groups(self) -> tuple[str, str, str, str, str]:
        """Its value in each of GROUPS, in that order."""
        return self.symbol, self.sector, self.strategy, self.underlying, self.expiry

    def group(self, name: str) -> str:
        return self.groups[GROUPS.index(name)]


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

    def most_used(self, group: str) -> tuple[str, float]:
        """The value of ``group`` with the most gross notional, and that notional ("", 0 when none)."""
        best = ("", 0.0)
        for (g, value), gross in self._gross.items():
            if g == group and gross > best[1] + 1e-9:
                best = (value, gross)
        return best

    def _add(self, item: Exposure, sign: float) -> None:
        n = item.notional * sign
        for key in zip(GROUPS, item.groups, strict=True):
            self._gross[key] += n
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
    capital = float(limits.capital)
    qty, binding = new.qty, None
    for cap_name, pct, used, per_unit in _caps(limits, book, new):
        if per_unit <= 0:
            continue  # the entry adds nothing to this figure (a stop at its price risks nothing)
        cap = capital * float(pct) / 100
        allowed = whole_lots((cap - used) / per_unit, lot_size)
        if allowed < qty:
            qty, binding = allowed, (cap_name, pct, used, cap)
    if binding is None:
        return Fit(qty, "")
    return Fit(max(qty, 0), _why(new, *binding))


def _caps(limits: RiskLimits, book: PortfolioBook, new: Exposure) -> list[tuple[str, Decimal, float, float]]:
    """(cap, its % of capital, what is used of it now, the use per unit of the entry) of each cap set."""
    caps = []
    for group in GROUPS:
        pct = getattr(limits, _CAP_OF[group])
        if pct > 0:
            caps.append((group, pct, book.gross_of(group, new.group(group)), new.price))
    if limits.max_gross_pct > 0:
        caps.append(("gross", limits.max_gross_pct, book.gross, new.price))
    if limits.max_net_pct > 0:  # the side that adds to the net uses what is left; the other may first undo it
        caps.append(("net", limits.max_net_pct, new.side * book.net, new.price))
    if limits.heat_cap_pct > 0:
        caps.append(("heat", limits.heat_cap_pct, book.heat, new.risk_per_unit))
    return caps


def _why(new: Exposure, cap_name: str, pct: Decimal, used: float, cap: float) -> str:
    if cap_name == "heat":
        return f"portfolio heat {_inr(used)} of {_inr(cap)} ({pct}% of capital) at risk"
    if cap_name == "net":
        return f"net exposure {_inr(new.side * used)} of ±{_inr(cap)}"
    if cap_name == "gross":
        return f"gross exposure {_inr(used)} of {_inr(cap)} in use"
    return f"{cap_name} {new.group(cap_name)}: {_inr(used)} of {_inr(cap)} ({pct}% of capital) in use"


def _inr(amount: float) -> str:
    return format_inr(rupees(amount))
