"""A table of immutable views keyed by identity, updated by difference, never by reset.

:meth:`KeyedRowsModel.set_views` compares the new views with the shown ones: rows whose key is
gone are removed, rows whose view changed are announced with ``dataChanged``, new keys are
appended. Selection and scroll position survive every update. A row's texts are formatted when
a cell of it is first shown, not when its view arrives: hundreds of positions change with every
snapshot, and only the rows on screen are ever read.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import fields
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.models.one_call_per_cell import OneCallPerCell
from app.models.palette import DARK, DeskPalette

Index = QModelIndex | QPersistentModelIndex
# Plain ints: data() runs for every visible cell and role on each repaint, and comparing with or
# returning PySide's enum objects costs several times more than ints.
DISPLAY = Qt.ItemDataRole.DisplayRole.value
FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
BACKGROUND = Qt.ItemDataRole.BackgroundRole.value
ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
FONT = Qt.ItemDataRole.FontRole.value
TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_V = Qt.AlignmentFlag.AlignVCenter.value
ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight.value | _V
ALIGN_LEFT = Qt.AlignmentFlag.AlignLeft.value | _V
ALIGN_CENTER = Qt.AlignmentFlag.AlignHCenter.value | _V


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted row numbers grouped into contiguous (first, last) runs."""
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


class ViewsModel(OneCallPerCell, QAbstractTableModel):
    """Rows rendered from immutable views; subclasses say how (columns, texts, colours)."""

    columns: tuple[str, ...] = ()
    right_aligned: frozenset[int] = frozenset()
    centered: frozenset[int] = frozenset()

    def __init__(self, palette: DeskPalette = DARK) -> None:
        super().__init__()
        self._views: list[Any] = []
        self._texts: list[tuple[str, ...] | None] = []  # None: not formatted since the view changed
        self.colours: dict[str, QColor] = {}
        self.set_palette(palette)

    # ---- what subclasses provide ---------------------------------------------------------
    def texts(self, view: Any) -> tuple[str, ...]:
        """The row's cell texts, one per column."""
        raise NotImplementedError

    def foreground(self, view: Any, column: int) -> QColor | None:
        return None

    def background(self, view: Any, column: int) -> QColor | None:
        return None

    def tooltip(self, view: Any, column: int) -> str | None:
        return None

    # ---- access --------------------------------------------------------------------------
    def view_at(self, row: int) -> Any:
        return self._views[row]

    def views(self) -> list[Any]:
        return list(self._views)

    def set_palette(self, palette: DeskPalette) -> None:
        self.colours = {f.name: QColor(getattr(palette, f.name)) for f in fields(palette)}
        if self._views:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._views) - 1, len(self.columns) - 1))

    # ---- QAbstractTableModel -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._views)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> object:
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY:
            return self.columns[section]
        return None

    def data(self, index: Index, role: int = DISPLAY) -> object:
        if role == DISPLAY:
            row = index.row()
            texts = self._texts[row]
            if texts is None:
                texts = self._texts[row] = self.texts(self._views[row])
            return texts[index.column()]
        if role == FOREGROUND:
            return self.foreground(self._views[index.row()], index.column())
        if role == BACKGROUND:
            return self.background(self._views[index.row()], index.column())
        if role == ALIGNMENT:
            c = index.column()
            return ALIGN_RIGHT if c in self.right_aligned else ALIGN_CENTER if c in self.centered else ALIGN_LEFT
        if role == TOOLTIP:
            return self.tooltip(self._views[index.row()], index.column())
        return None


class KeyedRowsModel(ViewsModel):
    """Views with an identity (``key``); see the module docstring for how updates apply."""

    def key(self, view: Any) -> Hashable:
        raise NotImplementedError

    def set_views(self, views: Sequence[Any]) -> None:
        """Show exactly ``views`` (existing rows keep their place, new ones go to the end)."""
        new = {self.key(v): v for v in views}
        keys = [self.key(v) for v in self._views]
        for first, last in reversed(runs(i for i, k in enumerate(keys) if k not in new)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._views[first:last + 1]
            del self._texts[first:last + 1]
            del keys[first:last + 1]
            self.endRemoveRows()
        changed: list[int] = []
        for i, k in enumerate(keys):
            view, old = new[k], self._views[i]
            if view is not old and view != old:
                self._views[i] = view
                self._texts[i] = None
                changed.append(i)
        for first, last in runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
        shown = set(keys)
        added = [v for k, v in new.items() if k not in shown]
        if added:
            n = len(self._views)
            self.beginInsertRows(QModelIndex(), n, n + len(added) - 1)
            self._views.extend(added)
            self._texts.extend([None] * len(added))
            self.endInsertRows()
