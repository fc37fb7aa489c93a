"""The main window: the automation panel and the open positions, fed by the service's snapshots.

The first of the desktop's panels (issue 5); market watch, chart, risk, simulator, ledger and
journal tabs come next. F12 is the kill switch everywhere in the application.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableWidget, QTableWidgetItem

from app.widgets.automation_panel import AutomationPanel
from app.service import AutomationService
from core.automation.snapshot import Snapshot

POSITION_COLUMNS = ("symbol", "strategy", "side", "qty", "entry", "last", "stop", "kind", "target", "P&L")


class MainWindow(QMainWindow):
    """Shows state; every action is a command to the service."""

    def __init__(self, service: AutomationService, pairs: Sequence[tuple[str, str]], mode: str) -> None:
        super().__init__()
        self.setWindowTitle(f"Autotrade Workstation - {mode}")
        self.service = service
        self.automation = AutomationPanel(service.post, pairs, mode)
        self.positions = QTableWidget(0, len(POSITION_COLUMNS))
        self.positions.setHorizontalHeaderLabels(list(POSITION_COLUMNS))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.automation)
        splitter.addWidget(self.positions)
        self.setCentralWidget(splitter)
        kill = QShortcut(QKeySequence(Qt.Key.Key_F12), self)
        kill.setContext(Qt.ShortcutContext.ApplicationShortcut)
        kill.activated.connect(lambda: self.automation.kill("kill switch key (F12)"))
        self.kill_shortcut = kill
        service.snapshot.connect(self.show_snapshot)
        service.alert.connect(lambda level, text: self.statusBar().showMessage(f"{level.upper()}: {text}"))

    def show_snapshot(self, snap: Snapshot) -> None:
        self.automation.show_snapshot(snap)
        self.positions.setRowCount(len(snap.positions))
        for r, p in enumerate(snap.positions):
            cells = (p.symbol, p.strategy, p.side, str(p.qty), f"{p.entry_price:.2f}",
                     "" if p.last is None else f"{p.last:.2f}", "" if p.stop is None else f"{p.stop:.2f}",
                     p.stop_kind, "" if p.target is None else f"{p.target:.2f}", f"{p.unrealised:.2f}")
            for c, text in enumerate(cells):
                self.positions.setItem(r, c, QTableWidgetItem(text))
        self.statusBar().showMessage(f"{snap.time:%Y-%m-%d %H:%M:%S} IST   state {snap.state.upper()}   "
                                     f"realised {snap.realised:.2f}   unrealised {snap.unrealised:.2f}")
