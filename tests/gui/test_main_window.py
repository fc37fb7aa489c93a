"""The main window over the service: click arm -> engine -> snapshot -> grid; F12 -> HALTED and flat."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from app.service import AutomationService
from app.windows.main_window import MainWindow
from core.automation.snapshot import Snapshot
from tests.gui.test_service import builder


def click_cell(qtbot, panel, pair) -> None:  # type: ignore[no-untyped-def]
    """A real mouse click on the pair's cell of the arm grid."""
    rect = panel.view.visualRect(panel.grid.index_of(*pair))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_click_arm_then_f12_kill(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = AutomationService(builder(tmp_path, []), idle_ms=10)
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(service, [("DEMO_TREND", "ema_cross")], "paper", settings=settings,
                        journal_dir=tmp_path / "journal", on_close=lambda _held: "leave")
    qtbot.addWidget(window)
    window.show()
    seen: list[Snapshot] = []
    service.snapshot.connect(seen.append)
    panel = window.desk.automation
    pair = ("DEMO_TREND", "ema_cross")
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
        assert panel.cell_text(*pair) == "arm"
        click_cell(qtbot, panel, pair)
        assert panel.cell_text(*pair) == "arm"  # the click only sends the command; the engine's word changes the grid
        qtbot.waitUntil(lambda: panel.cell_text(*pair) == "ARMED", timeout=30_000)
        qtbot.waitUntil(lambda: window.desk.positions.positions_model.rowCount() > 0, timeout=60_000)
        model = window.desk.positions.positions_model
        assert model.index(0, 0).data() == "DEMO_TREND"
        qtbot.keyClick(window, Qt.Key.Key_F12)
        qtbot.waitUntil(lambda: window.desk.automation.state_label.text().startswith("STATE: HALTED (kill)")
                        and window.desk.positions.positions_model.rowCount() == 0, timeout=30_000)
        assert panel.cell_text(*pair) == "arm"  # the kill disarmed every pair
    finally:
        assert service.stop()
