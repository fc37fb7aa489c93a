"""OneCallPerCell: an item model answers all of a cell's roles in one call from Qt.

Qt 6's item delegates ask a cell for its roles (display, font, alignment, colours, check state,
decoration: seven) with one ``multiData`` call, which by default calls ``data`` once per role.
Each of those is a call from C++ into Python, and each must take the interpreter lock; while
the engine's thread runs Python, taking it can wait up to the switch interval. Under the UI
benchmark's storm a market watch repaint that takes 2.6 ms alone took 20 ms, almost all of it
waiting at those seven entries per cell. Answering ``multiData`` in Python makes it one entry
per cell.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QModelRoleDataSpan, QPersistentModelIndex


class OneCallPerCell:
    """Mix into a ``QAbstractItemModel`` subclass (before it) whose ``data`` answers every role."""

    def multiData(self, index: QModelIndex | QPersistentModelIndex, roleDataSpan: QModelRoleDataSpan) -> None:  # noqa: N802,N803 - Qt's names
        data: Any = self.data  # type: ignore[attr-defined]
        for role_data in roleDataSpan:
            role_data.setData(data(index, role_data.role()))
