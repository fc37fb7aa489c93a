"""Trade legs -> the trades table, priced to the paisa.

Each leg is a row. Points and gross P&L come from the fill prices read at their shortest
decimal form (``1399.9`` is exactly 1399.90), so money never carries float noise. Charges:
the entry order is one executed order for the full quantity; when scale-outs split a position
into several legs, each component of the entry order's charges is shared across the legs by
quantity (the last leg takes the rounding remainder, so the parts add up exactly). Every exit
is its own order. A reversal is two orders (exit, then entry), as Zerodha bills it when the
platform sends them separately.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from core.clock import IST
from core.market.instruments import InstrumentMaster
from core.simulator.costs import COMPONENTS, ChargeBreakdown, CostModel, NoCosts, to_paisa
from core.simulator.legs import LegColumns
from core.simulator.metrics import TRADE_COLUMNS
from core.trading.manager import ExitReason

__all__ = ["TRADE_COLUMNS", "DETAIL_COLUMNS", "build_trades", "empty_trades"]

DETAIL_COLUMNS = ("initial_stop", "confidence", "signal_time", *COMPONENTS)
_REASONS = {int(r): r.label for r in ExitReason}


def build_trades(legs: LegColumns, costs: CostModel, master: InstrumentMaster) -> pd.DataFrame:
    """The trades table (contract columns, then detail columns), one row per leg."""
    legs = legs.ordered()
    n = len(legs)
    entry_time = _ist(legs.entry_ns)
    exit_time = _ist(legs.exit_ns)
    points: list[Decimal] = []
    gross: list[Decimal] = []
    breakdowns: list[ChargeBreakdown] = []
    entry_share = _entry_shares(legs, costs, master, entry_time)
    for i in range(n):
        side = int(legs.side[i])
        qty = int(legs.qty[i])
        entry = _price(legs.entry_price[i])
        exit_ = _price(legs.exit_price[i])
        pts = (exit_ - entry) * side + 0  # "+ 0" turns a flat short's Decimal("-0") into 0
        points.append(pts)
        gross.append(to_paisa(pts * qty))
        segment = master.get(str(legs.symbol[i])).cost_segment
        exit_order = costs.order_charges(
            segment, "SELL" if side > 0 else "BUY", exit_, qty, exit_time[i].date()
        )
        breakdowns.append(entry_share[i] + exit_order)
    charges = [b.total for b in breakdowns]
    frame = pd.DataFrame(
        {
            "symbol": legs.symbol.astype(str),
            "strategy": legs.strategy.astype(str),
            "side": np.where(legs.side > 0, "LONG", "SHORT"),
            "qty": legs.qty.astype(np.int64),
            "entry_time": entry_time,
            "entry_price": legs.entry_price,
            "exit_time": exit_time,
            "exit_price": legs.exit_price,
            "points": [float(p) for p in points],
            "gross_pnl": [float(g) for g in gross],
            "charges": [float(c) for c in charges],
            "net_pnl": [float(g - c) for g, c in zip(gross, charges)],
            "exit_reason": [_REASONS[int(r)] for r in legs.reason],
            "initial_stop": legs.initial_stop,
            "confidence": legs.confidence,
            "signal_time": _ist(legs.signal_ns),
            **{name: [float(getattr(b, name)) for b in breakdowns] for name in COMPONENTS},
        }
    )
    return frame


def empty_trades() -> pd.DataFrame:
    return build_trades(LegColumns.empty(), NoCosts(), InstrumentMaster({}))


def _entry_shares(
    legs: LegColumns, costs: CostModel, master: InstrumentMaster, entry_time: pd.DatetimeIndex
) -> list[ChargeBreakdown]:
    """Each leg's share of its position's entry-order charges."""
    shares: list[ChargeBreakdown] = [ChargeBreakdown()] * len(legs)
    groups: dict[tuple[str, str, int], list[int]] = {}
    for i in range(len(legs)):
        groups.setdefault((str(legs.symbol[i]), str(legs.strategy[i]), int(legs.entry_ns[i])), []).append(i)
    for (symbol, _strategy, _entry), rows in groups.items():
        total_qty = sum(int(legs.qty[r]) for r in rows)
        side = int(legs.side[rows[0]])
        segment = master.get(symbol).cost_segment
        order = costs.order_charges(
            segment, "BUY" if side > 0 else "SELL", _price(legs.entry_price[rows[0]]), total_qty,
            entry_time[rows[0]].date(),
        )
        if len(rows) == 1:
            shares[rows[0]] = order
            continue
        left = {name: getattr(order, name) for name in COMPONENTS}
        for k, r in enumerate(rows):
            if k == len(rows) - 1:
                part = dict(left)
            else:
                frac = Decimal(int(legs.qty[r])) / Decimal(total_qty)
                part = {name: to_paisa(getattr(order, name) * frac) for name in COMPONENTS}
                left = {name: left[name] - part[name] for name in COMPONENTS}
            shares[r] = ChargeBreakdown(**part)
    return shares


def _price(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _ist(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ns, dtype=np.int64), unit="ns", utc=True)).tz_convert(IST)
