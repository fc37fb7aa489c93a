"""The day's fills, newest first, capped: new fills are inserted at the top, the oldest dropped."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QColor

from app.models import cells
from app.models.palette import DARK, DeskPalette
from app.models.rows_model import ViewsModel
from core.automation.market_tape import FillView

DEFAULT_KEEP = 2_000


class FillsModel(ViewsModel):
    """The last ``keep`` fills, newest at row 0."""

    columns = ("Time", "Symbol", "Strategy", "Side", "Qty", "Price", "Purpose", "Order id")
    COL_SIDE = 3
    right_aligned = frozenset({4, 5})
    centered = frozenset({0, 3})

    def __init__(self, keep: int = DEFAULT_KEEP, palette: DeskPalette = DARK) -> None:
        super().__init__(palette)
        self.keep = keep

    def add_fills(self, fills: Sequence[FillView]) -> None:
        """Put ``fills`` (oldest first, as the engine reports them) on top, newest first."""
        new = list(reversed(fills[-self.keep:]))
        if not new:
            return
        self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
        self._views[0:0] = new
        self._texts[0:0] = [None] * len(new)
        self.endInsertRows()
        if len(self._views) > self.keep:
            self.beginRemoveRows(QModelIndex(), self.keep, len(self._views) - 1)
            del self._views[self.keep:]
            del self._texts[self.keep:]
            self.endRemoveRows()

    def texts(self, f: FillView) -> tuple[str, ...]:
        return (cells.clock(f.time), f.symbol, f.strategy, f.side, str(f.qty), cells.price(f.price), f.purpose,
                f.client_order_id)

    def foreground(self, f: FillView, column: int) -> QColor | None:
        if column == self.COL_SIDE:
            return self.colours["up"] if f.side == "BUY" else self.colours["down"]
        return None
