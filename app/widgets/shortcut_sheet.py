"""Help > Keyboard shortcuts: every key the workstation answers to, in one sheet."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("F12", "KILL SWITCH: halt, cancel working orders, flatten every position (anywhere, no confirmation)"),
    ("Ctrl+Return", "arm / disarm the pair selected in the market watch (row's symbol, column's strategy)"),
    ("Ctrl+E", "exit the selected pair's position at market (asks first)"),
    ("Ctrl+1 … Ctrl+4", "tabs: desk, simulator, ledger, journal"),
    ("Alt+1 / Alt+3 / Alt+5 / Alt+Q", "chart timeframe: 1, 3, 5, 15 minutes"),
    ("Ctrl+Space", "pause / resume a replay (commands and the kill switch still apply)"),
    ("Ctrl+Shift+T", "light / dark theme"),
    ("Ctrl+Shift+M", "switch mode: replay, paper, shadow, canary, live (open positions: flatten, leave or stay)"),
    ("Delete", "remove the selected instrument from the market watch"),
    ("F1", "this sheet"),
)


class ShortcutSheet(QDialog):
    """A non-modal table of shortcuts."""

    def __init__(self, shortcuts: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(shortcuts), 2)
        table.setHorizontalHeaderLabels(["key", "what it does"])
        for row, (keys, what) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(what))
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table = table
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.resize(760, 360)
