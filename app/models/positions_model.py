"""Open positions and working orders as tables (rows keyed by pair / client order id).

The last column of each is the row's action: "Exit" for a position, "Cancel" for a working
entry order. Protective orders (stop, target, scale-outs) have no action of their own: they
go with their position (exiting the position cancels them).
"""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtGui import QColor

from app.models import cells
from app.models.rows_model import KeyedRowsModel
from core.automation.snapshot import OrderView, PositionView
from core.risk.limits import format_inr

EXIT_TEXT = "Exit"
CANCEL_TEXT = "Cancel"
WITH_POSITION_TEXT = "with position"

_ROLES = {"E": "entry", "S": "stop", "T": "target", "P": "scale-out", "X": "market exit"}


def order_role(order: OrderView) -> str:
    """What an order is for, read from its client order id (``<position id>|<role>``)."""
    role = order.client_order_id.rsplit("|", 1)[-1] if "|" in order.client_order_id else ""
    word = _ROLES.get(role[:1], "")
    return word or order.purpose


def is_entry(order: OrderView) -> bool:
    return order.purpose == "entry"


class PositionsModel(KeyedRowsModel):
    """One row per open position, keyed by (symbol, strategy)."""

    columns = ("Symbol", "Strategy", "Side", "Qty", "Entry", "Entered", "LTP", "Stop", "Target",
               "Unrealised P&L", "")
    COL_SIDE, COL_PNL, COL_ACTION = 2, 9, 10
    right_aligned = frozenset({3, 4, 6, 7, 8, 9})
    centered = frozenset({2, 5, 10})

    def key(self, view: PositionView) -> Hashable:
        return (view.symbol, view.strategy)

    def texts(self, p: PositionView) -> tuple[str, ...]:
        stop = cells.DASH if p.stop is None else f"{p.stop_kind} {p.stop:,.2f}"
        return (p.symbol, p.strategy, p.side, str(p.qty), cells.price(p.entry_price), cells.clock(p.entry_time),
                cells.price(p.last), stop, cells.price(p.target), format_inr(p.unrealised), EXIT_TEXT)

    def foreground(self, p: PositionView, column: int) -> QColor | None:
        if column == self.COL_PNL:
            return self.colours["up"] if p.unrealised > 0 else self.colours["down"] if p.unrealised < 0 else None
        if column == self.COL_SIDE:
            return self.colours["up"] if p.side == "LONG" else self.colours["down"]
        if column == self.COL_ACTION:
            return self.colours["button_text"]
        return None

    def background(self, p: PositionView, column: int) -> QColor | None:
        return self.colours["button_bg"] if column == self.COL_ACTION else None

    def tooltip(self, p: PositionView, column: int) -> str | None:
        if column == self.COL_ACTION:
            return f"Close {p.side} {p.qty} {p.symbol} ({p.strategy}) at market now (asks first)"
        return None


class OrdersModel(KeyedRowsModel):
    """One row per working order, keyed by client order id."""

    columns = ("Order id", "Symbol", "Side", "Qty", "Filled", "Type", "Purpose", "Status", "Trigger", "Limit", "")
    COL_SIDE, COL_PURPOSE, COL_ACTION = 2, 6, 10
    right_aligned = frozenset({3, 4, 8, 9})
    centered = frozenset({2, 10})

    def key(self, view: OrderView) -> Hashable:
        return view.client_order_id

    def texts(self, o: OrderView) -> tuple[str, ...]:
        purpose = "entry" if is_entry(o) else f"{o.purpose} · {order_role(o)}"
        return (o.client_order_id, o.symbol, o.side, str(o.qty), str(o.filled), o.order_type, purpose,
                o.status.replace("_", " "), cells.price(o.trigger), cells.price(o.limit),
                CANCEL_TEXT if is_entry(o) else WITH_POSITION_TEXT)

    def foreground(self, o: OrderView, column: int) -> QColor | None:
        if column == self.COL_SIDE:
            return self.colours["up"] if o.side == "BUY" else self.colours["down"]
        if not is_entry(o) and column in (self.COL_PURPOSE, self.COL_ACTION):
            return self.colours["dim"]
        if column == self.COL_ACTION:
            return self.colours["button_text"]
        return None

    def background(self, o: OrderView, column: int) -> QColor | None:
        return self.colours["button_bg"] if column == self.COL_ACTION and is_entry(o) else None

    def tooltip(self, o: OrderView, column: int) -> str | None:
        if column == self.COL_ACTION:
            return (f"Cancel the working entry order {o.client_order_id}" if is_entry(o) else
                    f"A protective {order_role(o)} order: it is changed or cancelled with its position "
                    f"(exit the {o.symbol} position to close it)")
        return None
