"""A sortable table model over a trades DataFrame; the caller chooses the columns and their kinds.

The simulator's trade list uses it with :data:`SIM_TRADE_COLUMNS`; a ledger tab can pass its
own columns (any DataFrame column, any order). Values are formatted when a cell is painted
(rupees with 2 decimals, prices with 2, times in Asia/Kolkata), and ``RAW_ROLE`` hands back the
frame's own value, so nothing a test or a caller compares is a re-parsed display string.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.models.one_call_per_cell import OneCallPerCell
from core.clock import IST

Kind = Literal["text", "int", "price", "money", "points", "time", "pct", "ratio"]
RAW_ROLE = int(Qt.ItemDataRole.UserRole)
_NUMERIC = {"int", "price", "money", "points", "pct", "ratio"}
_Index = QModelIndex | QPersistentModelIndex
_ROLES = frozenset({int(Qt.ItemDataRole.DisplayRole), RAW_ROLE, int(Qt.ItemDataRole.TextAlignmentRole),
                    int(Qt.ItemDataRole.ForegroundRole)})
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class Column:
    """One shown column: the frame's column ``key``, its header ``title`` and how to format it."""

    key: str
    title: str
    kind: Kind = "text"


#: The trade list of a simulator run (the trades.csv contract, DESIGN.md §4).
SIM_TRADE_COLUMNS: tuple[Column, ...] = (
    Column("symbol", "Symbol"),
    Column("strategy", "Strategy"),
    Column("side", "Side"),
    Column("qty", "Qty", "int"),
    Column("entry_time", "Entry time", "time"),
    Column("entry_price", "Entry", "price"),
    Column("exit_time", "Exit time", "time"),
    Column("exit_price", "Exit", "price"),
    Column("points", "Points", "points"),
    Column("gross_pnl", "Gross P&L", "money"),
    Column("charges", "Charges", "money"),
    Column("net_pnl", "Net P&L", "money"),
    Column("exit_reason", "Exit reason"),
)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_value(value: Any, kind: Kind) -> str:
    """The text a trader reads for ``value`` of ``kind`` ("" for a missing value)."""
    if _missing(value):
        return ""
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind in ("price", "points"):
        return f"{float(value):.2f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "pct":
        return f"{float(value) * 100:.2f} %"
    if kind == "ratio":
        return f"{float(value):.3f}"
    if kind == "time":
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize(IST) if stamp.tzinfo is None else stamp.tz_convert(IST)
        return f"{stamp:%Y-%m-%d %H:%M}"
    return str(value)


class TradesModel(OneCallPerCell, QAbstractTableModel):
    """Rows of a DataFrame shown through caller-given :class:`Column` specs; sortable by any column."""

    def __init__(self, columns: Sequence[Column] = SIM_TRADE_COLUMNS, parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._frame = pd.DataFrame(columns=[c.key for c in self._columns])
        self._values: list[list[Any]] = [[] for _ in self._columns]
        self._order = np.arange(0)
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._pos = QColor("#26a269")
        self._neg = QColor("#e01b24")

    # -- content --------------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    def set_frame(self, frame: pd.DataFrame) -> None:
        """Show ``frame`` (kept by reference, never modified); the current sort is re-applied."""
        missing = [c.key for c in self._columns if c.key not in frame.columns]
        if missing:
            raise KeyError(f"trades frame lacks column(s): {', '.join(missing)}")
        self.beginResetModel()
        self._frame = frame.reset_index(drop=True)
        self._values = [self._frame[c.key].tolist() for c in self._columns]
        self._order = self._sorted_order()
        self.endResetModel()

    def frame(self) -> pd.DataFrame:
        """The rows in the order shown."""
        return self._frame.iloc[self._order].reset_index(drop=True)

    def row(self, row: int) -> dict[str, Any]:
        """Every column of the frame (not only the shown ones) of the shown row ``row``."""
        return self._frame.iloc[int(self._order[row])].to_dict()

    def set_colors(self, positive: str, negative: str) -> None:
        """Colours of positive and negative money values (the theme's)."""
        self._pos, self._neg = QColor(positive), QColor(negative)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    # -- QAbstractTableModel --------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section].title
        return str(section + 1)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():  # views ask for many roles; answer the cheap way
            return None
        column = self._columns[index.column()]
        value = self._values[index.column()][int(self._order[index.row()])]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_value(value, column.kind)
        if role == RAW_ROLE:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column.kind in _NUMERIC else _LEFT
        if role == Qt.ItemDataRole.ForegroundRole and column.kind == "money" and not _missing(value):
            if value > 0:
                return self._pos
            if value < 0:
                return self._neg
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a shown column (stable; missing values last in either order); a column < 0
        restores the frame's own order."""
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order) if 0 <= column < len(self._columns) else None
        self._order = self._sorted_order()
        self.layoutChanged.emit()

    # -- helpers --------------------------------------------------------------------------------

    def _sorted_order(self) -> np.ndarray:
        n = len(self._frame)
        if self._sort is None or n == 0:
            return np.arange(n)
        column, order = self._sort
        series = self._frame[self._columns[column].key]
        descending = order == Qt.SortOrder.DescendingOrder
        present = series.notna().to_numpy()
        keys = series.where(series.notna()).reset_index(drop=True)
        if keys.dtype == object:
            keys = keys.map(lambda v: v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v)
        ranked = keys[present].sort_values(ascending=not descending, kind="stable").index.to_numpy()
        return np.concatenate([ranked, np.flatnonzero(~present)]).astype(np.int64)


__all__ = ["RAW_ROLE", "SIM_TRADE_COLUMNS", "Column", "TradesModel", "format_value"]
