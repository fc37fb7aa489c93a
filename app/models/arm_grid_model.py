"""The arm grid as an item model: instruments down, strategies across, one cell per pair.

A table model rather than a button per pair: a desk of 200 instruments x 4 strategies is 800
cells, and restyling 800 buttons on every snapshot froze the UI thread for tens of
milliseconds. Here a snapshot only emits ``dataChanged`` for the cells whose state changed, and
a pair whose :class:`SlotView` is the very object applied last time (the engine republishes an
unchanged slot's view) is skipped without even a comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.models.one_call_per_cell import OneCallPerCell
from core.automation.snapshot import SlotView

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class ArmCell:
    """What one pair shows: armed, or the pre-arm check's failure, or idle."""

    armed: bool = False
    failed: str = ""

    @property
    def text(self) -> str:
        return "ARMED" if self.armed else ("✗ check failed" if self.failed else "arm")

    @property
    def tooltip(self) -> str:
        if self.armed:
            return "armed: pre-arm checks passed; click to disarm"
        return f"pre-arm check failed: {self.failed}" if self.failed else "click to arm"


ARMED_BG = QBrush(QColor("#1f7a3a"))
FAILED_BG = QBrush(QColor("#7a1f1f"))
WHITE = QBrush(QColor("white"))
IDLE = ArmCell()


class ArmGridModel(OneCallPerCell, QAbstractTableModel):
    """Rows: symbols; columns: strategies; a cell is an :class:`ArmCell` (None: not a pair)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.symbols = list(dict.fromkeys(s for s, _ in pairs))
        self.strategies = list(dict.fromkeys(st for _, st in pairs))
        self._row = {s: r for r, s in enumerate(self.symbols)}
        self._col = {st: c for c, st in enumerate(self.strategies)}
        self._cells: list[list[ArmCell | None]] = [[None] * len(self.strategies) for _ in self.symbols]
        for symbol, strategy in pairs:
            self._cells[self._row[symbol]][self._col[strategy]] = IDLE
        self._applied: dict[tuple[int, int], SlotView] = {}  # what the last apply showed, by cell
        self._heard = False

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's API
        return 0 if parent.isValid() else len(self.symbols)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's API
        return 0 if parent.isValid() else len(self.strategies)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.strategies[section] if orientation == Qt.Orientation.Horizontal else self.symbols[section]

    def cell(self, symbol: str, strategy: str) -> ArmCell | None:
        r, c = self._row.get(symbol), self._col.get(strategy)
        return None if r is None or c is None else self._cells[r][c]

    def pair(self, index: QModelIndex) -> tuple[str, str] | None:
        if not index.isValid() or self._cells[index.row()][index.column()] is None:
            return None
        return self.symbols[index.row()], self.strategies[index.column()]

    def index_of(self, symbol: str, strategy: str) -> QModelIndex:
        return self.index(self._row[symbol], self._col[strategy])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        cell = self._cells[index.row()][index.column()]
        if cell is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell.text
        if role == Qt.ItemDataRole.BackgroundRole:
            return ARMED_BG if cell.armed else (FAILED_BG if cell.failed else None)
        if role == Qt.ItemDataRole.ForegroundRole:
            return WHITE if cell.armed or cell.failed else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell.tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        return None

    def apply(self, slots: Sequence[SlotView]) -> int:
        """Take the snapshot's pairs; repaint only the cells that changed. Returns how many did."""
        applied: dict[tuple[int, int], SlotView] = {}
        changed = 0
        for view in slots:
            r, c = self._row.get(view.symbol), self._col.get(view.strategy)
            if r is None or c is None:
                continue
            applied[(r, c)] = view
            if self._applied.get((r, c)) is not view:
                changed += self._set(r, c, ArmCell(view.armed, "" if view.armed else view.failed))
        if applied.keys() != self._applied.keys() or not self._heard:
            for r, row in enumerate(self._cells):  # a pair missing from the snapshot is idle
                for c, old in enumerate(row):
                    if old is not None and (r, c) not in applied:
                        changed += self._set(r, c, IDLE)
        self._applied = applied
        self._heard = True
        return changed

    def _set(self, r: int, c: int, cell: ArmCell) -> int:
        if self._cells[r][c] == cell:
            return 0
        self._cells[r][c] = cell
        self.dataChanged.emit(self.index(r, c), self.index(r, c))
        return 1

    def armed(self, symbol: str, strategy: str) -> bool:
        cell = self.cell(symbol, strategy)
        return bool(cell and cell.armed)
