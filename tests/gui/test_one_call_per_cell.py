"""OneCallPerCell: a table's repaint enters Python once per cell, and every role still arrives."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView

from app.models.one_call_per_cell import OneCallPerCell
from app.models.quotes_model import QuotesModel
from app.models.rows_model import ViewsModel


class Counting(OneCallPerCell, QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.entries = {"multiData": 0, "data inside": 0, "data from Qt": 0}
        self._inside = False

    def rowCount(self, _parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 12

    def columnCount(self, _parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 4

    def multiData(self, index, span) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.entries["multiData"] += 1
        self._inside = True
        try:
            super().multiData(index, span)
        finally:
            self._inside = False

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        self.entries["data inside" if self._inside else "data from Qt"] += 1
        if role == Qt.ItemDataRole.DisplayRole:
            return f"r{index.row()}c{index.column()}"
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor("#ff0000") if index.column() == 1 else None
        return None


def test_a_repaint_enters_python_once_per_cell_and_paints_every_role(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = Counting()
    view = QTableView()
    view.setModel(model)
    qtbot.addWidget(view)
    view.resize(700, 600)
    view.show()
    qtbot.waitExposed(view)
    model.entries.update({"multiData": 0, "data inside": 0, "data from Qt": 0})
    image = view.grab()  # a full repaint
    cells = model.entries["multiData"]
    assert cells >= 12 * 4  # every visible cell, one entry each
    assert model.entries["data inside"] >= 7 * cells  # all roles answered inside that entry
    assert model.entries["data from Qt"] == 0
    red = [image.toImage().pixelColor(x, y) for x in range(image.width()) for y in range(0, image.height(), 3)]
    assert any(c.red() > 200 and c.green() < 60 and c.blue() < 60 for c in red)  # the foreground role painted


def test_the_desks_models_answer_in_one_call() -> None:
    assert issubclass(QuotesModel, OneCallPerCell) and issubclass(ViewsModel, OneCallPerCell)
