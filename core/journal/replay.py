"""Rebuild state from a journal: orders, open positions, closed trades and their P&L.

The journal is the source of truth; this fold is how a crash recovery or an auditor gets back
to the books. Closed positions become trade legs exactly as the simulator's and the live
engine's do (one leg per exit fill; the entry order's charges shared across a position's legs
by quantity), priced by :func:`core.simulator.trades.build_trades` with the cost model the
session recorded — so a ledger rebuilt from the journal equals the ledger written live.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError
from core.instants import epoch_ns, parse_utc
from core.journal.records import Record, RecordType
from core.market.instruments import InstrumentMaster, default_master
from core.simulator.costs import CostModel, cost_model
from core.simulator.legs import LegColumns
from core.simulator.trades import build_trades
from core.trading.manager import ExitReason

_REASON_CODES = {r.label: int(r) for r in ExitReason}


@dataclass
class OrderState:
    """An order as the journal tells it: the intent, then what the broker and modifications made of it."""

    client_order_id: str
    intent: dict[str, Any]
    status: str = "submitted"
    broker_order_id: str | None = None
    filled_qty: int = 0
    avg_price: float = 0.0
    trace_id: str = ""
    qty: int = 0  # filled plus still open: the intent's, until the broker reduces it (one-cancels-other)
    trigger_price: str | None = None  # the latest level asked for (a trailing stop moves)
    limit_price: str | None = None
    kind: str = ""  # the reason given with the latest modification (stop, breakeven, trail)
    sent_at: str = ""  # the intent's ts: when the order went out

    def __post_init__(self) -> None:
        self.qty = self.qty or int(self.intent.get("qty", 0))
        self.trigger_price = self.trigger_price or self.intent.get("trigger_price")
        self.limit_price = self.limit_price or self.intent.get("limit_price")

    @property
    def working(self) -> bool:
        return self.status in _WORKING


_WORKING = frozenset({"new", "submitted", "open", "partially_filled"})


@dataclass
class PositionState:
    """A position opened by an entry fill; exit fills close it, leg by leg."""

    position_id: str
    symbol: str
    strategy: str
    side: int
    qty: int
    open_qty: int
    entry_ns: int
    entry_price: float
    initial_stop: float
    confidence: float
    signal_ns: int
    trace_id: str
    legs: list[tuple[int, int, float, int]] = field(default_factory=list)  # qty, exit_ns, price, reason


@dataclass
class ReplayState:
    """Everything the journal says happened."""

    orders: dict[str, OrderState] = field(default_factory=dict)
    positions: dict[str, PositionState] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0

    @property
    def open_positions(self) -> list[PositionState]:
        return [p for p in self.positions.values() if p.open_qty > 0]

    @property
    def closed_positions(self) -> list[PositionState]:
        return [p for p in self.positions.values() if p.open_qty == 0]

    def apply(self, rec: Record) -> PositionState | None:
        """Fold one record; returns the position this record closed, if any."""
        return _apply(self, rec)

    def legs(self, positions: Iterable[PositionState] | None = None) -> LegColumns:
        """Closed legs (of ``positions``, default every closed one), in the simulator's column form."""
        chosen = self.closed_positions if positions is None else list(positions)
        rows = [(p, leg) for p in chosen for leg in p.legs]
        return LegColumns(
            symbol=np.array([p.symbol for p, _ in rows], dtype=object),
            strategy=np.array([p.strategy for p, _ in rows], dtype=object),
            side=np.array([p.side for p, _ in rows], dtype=np.int8),
            qty=np.array([leg[0] for _, leg in rows], dtype=np.int64),
            entry_ns=np.array([p.entry_ns for p, _ in rows], dtype=np.int64),
            entry_price=np.array([p.entry_price for p, _ in rows], dtype=np.float64),
            exit_ns=np.array([leg[1] for _, leg in rows], dtype=np.int64),
            exit_price=np.array([leg[2] for _, leg in rows], dtype=np.float64),
            reason=np.array([leg[3] for _, leg in rows], dtype=np.int8),
            initial_stop=np.array([p.initial_stop for p, _ in rows], dtype=np.float64),
            confidence=np.array([p.confidence for p, _ in rows], dtype=np.float64),
            signal_ns=np.array([p.signal_ns for p, _ in rows], dtype=np.int64),
        )

    def cost_model_name(self) -> str:
        names = {s.get("costs", "none") for s in self.sessions}
        if len(names) > 1:
            raise DataError(f"sessions disagree on the cost model: {sorted(names)}", where="journal")
        return names.pop() if names else "none"

    def trades(self, costs: CostModel | None = None, master: InstrumentMaster | None = None) -> pd.DataFrame:
        """The closed trades, priced: the same table the simulator and the ledger hold."""
        return build_trades(self.legs(), costs or cost_model(self.cost_model_name()), master or default_master())


def _ns(text: str, where: str) -> int:
    try:
        return epoch_ns(parse_utc(text))
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"bad time {text!r}: {exc}", where=where) from exc


def _float(value: Any) -> float:
    return float("nan") if value in (None, "") else float(value)


def replay(records: Iterable[Record]) -> ReplayState:
    """Fold journal records, in order, into a :class:`ReplayState`."""
    state = ReplayState()
    for rec in records:
        state.apply(rec)
    return state


def _apply(state: ReplayState, rec: Record) -> PositionState | None:
    state.records += 1
    where = f"seq {rec.seq}"
    p = rec.payload
    if rec.type == RecordType.SESSION_START:
        state.sessions.append(dict(p))
    elif rec.type == RecordType.ORDER_INTENT:
        state.orders[p["client_order_id"]] = OrderState(p["client_order_id"], dict(p), trace_id=rec.trace_id,
                                                        sent_at=rec.ts)
    elif rec.type in (RecordType.ORDER_ACK, RecordType.ORDER_UPDATE):
        order = state.orders.get(p["client_order_id"])
        if order is None:
            raise DataError(f"{rec.type} for unknown order {p['client_order_id']}", where=where)
        _apply_update(order, p)
    elif rec.type == RecordType.FILL:
        return _apply_fill(state, rec, where)
    return None


def _apply_update(order: OrderState, p: dict[str, Any]) -> None:
    """An acknowledgement, a broker's update, or our own modify/cancel request."""
    order.broker_order_id = p.get("broker_order_id", order.broker_order_id)
    action = p.get("action")
    if action == "modify":  # what was asked; the broker's answer follows as its own update
        order.trigger_price = p.get("trigger_price", order.trigger_price)
        order.limit_price = p.get("limit_price", order.limit_price)
        order.kind = p.get("reason", order.kind)
        return
    if action == "cancel":
        return  # a request; the broker's update says whether it happened
    status = p.get("status", order.status)
    if not (status == "open" and order.status == "partially_filled"):  # a modify keeps a part-fill part-filled
        order.status = status
    if "qty" in p and status in ("open", "partially_filled"):
        order.qty = order.filled_qty + int(p["qty"])  # the broker's open quantity after a modify or a cut


def _apply_fill(state: ReplayState, rec: Record, where: str) -> PositionState | None:
    p = rec.payload
    qty, price, when = int(p["qty"]), float(p["price"]), _ns(p["time"], where)
    order = state.orders.get(p["client_order_id"])
    if order is not None:
        order.avg_price = (order.avg_price * order.filled_qty + price * qty) / (order.filled_qty + qty)
        order.filled_qty += qty
        order.status = "filled" if order.filled_qty >= order.qty else "partially_filled"
    pid = p["position_id"]
    if p["purpose"] == "entry":
        pos = state.positions.get(pid)
        if pos is not None and order is not None and order.filled_qty > qty:  # another part of the same entry
            pos.entry_price = (pos.entry_price * pos.open_qty + price * qty) / (pos.open_qty + qty)
            pos.qty += qty
            pos.open_qty += qty
            return None
        if pos is not None:
            raise DataError(f"position {pid} opened twice", where=where)
        state.positions[pid] = PositionState(
            position_id=pid, symbol=p["symbol"], strategy=p["strategy"], side=1 if p["side"] == "BUY" else -1,
            qty=qty, open_qty=qty, entry_ns=when, entry_price=price,
            initial_stop=_float(p.get("initial_stop")), confidence=_float(p.get("confidence", 0.0)),
            signal_ns=_ns(p["signal_time"], where) if p.get("signal_time") else when, trace_id=rec.trace_id,
        )
        return None
    pos = state.positions.get(pid)
    if pos is None:
        raise DataError(f"exit fill for unknown position {pid}", where=where)
    if qty > pos.open_qty:
        raise DataError(f"exit of {qty} exceeds the {pos.open_qty} open in {pid}", where=where)
    reason = _REASON_CODES.get(p.get("reason", ""), int(ExitReason.SIGNAL))
    pos.legs.append((qty, when, price, reason))
    pos.open_qty -= qty
    return pos if pos.open_qty == 0 else None
