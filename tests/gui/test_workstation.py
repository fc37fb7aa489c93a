"""The workstation window as a trader uses it: confirmations, shortcuts, saved layout, closing with
positions, the chart following the watch and the simulator, and ``atw --screenshot``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage

from app.service import AutomationService
from app.windows.main_window import MainWindow
from core.automation.events import Arm
from core.automation.snapshot import Snapshot
from tests.gui.test_main_window import click_cell
from tests.gui.test_service import builder

REPO = Path(__file__).resolve().parents[2]
PAIR = ("DEMO_TREND", "ema_cross")


def make_window(qtbot, tmp_path: Path, *, mode: str = "paper", confirm: Callable[[str], bool] | None = None,
                on_close: Callable[[list[str]], str] | None = None, speed: float | None = 3000,
                settings: QSettings | None = None) -> tuple[MainWindow, AutomationService, list[Snapshot]]:  # type: ignore[no-untyped-def]
    service = AutomationService(builder(tmp_path, [], speed=speed), idle_ms=10)
    settings = settings or QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(service, [PAIR], mode, settings=settings, journal_dir=tmp_path / "journal",
                        confirm=confirm or (lambda _text: True), on_close=on_close or (lambda _held: "leave"))
    qtbot.addWidget(window)
    seen: list[Snapshot] = []
    service.snapshot.connect(seen.append)
    return window, service, seen



def test_arming_in_live_mode_asks_first_and_a_no_sends_nothing(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    answers: list[bool] = [False, True]
    asked: list[str] = []

    def confirm(text: str) -> bool:
        asked.append(text)
        return answers.pop(0)

    window, service, seen = make_window(qtbot, tmp_path, mode="live", confirm=confirm)
    window.show()
    panel = window.desk.automation
    pair = PAIR
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
        click_cell(qtbot, panel, pair)  # the trader says no
        qtbot.wait(400)
        assert not any(s.armed for s in seen[-1].slots) and "LIVE" in asked[0] and "REAL orders" in asked[0]
        click_cell(qtbot, panel, pair)  # and then yes
        qtbot.waitUntil(lambda: panel.cell_text(*pair) == "ARMED", timeout=30_000)
        assert len(asked) == 2
        assert window.mode_badge.text().strip() == "LIVE"
    finally:
        assert service.stop()


def test_closing_with_open_positions_flattens_them_when_asked(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    choices = ["cancel", "flatten"]
    held_seen: list[list[str]] = []

    def on_close(held: list[str]) -> str:
        held_seen.append(held)
        return choices.pop(0)

    window, service, seen = make_window(qtbot, tmp_path, on_close=on_close)
    window.show()
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
        window.post(Arm(*PAIR))
        qtbot.waitUntil(lambda: bool(seen[-1].positions), timeout=60_000)
        assert not window.close()  # cancel: the window stays, the automation runs on
        assert service.isRunning() and window.isVisible()
        assert window.close()  # flatten
        assert held_seen[0][0].startswith("DEMO_TREND · ema_cross")
        assert not service.isRunning() and service.finished_cleanly
        assert window.last is not None and not window.last.positions
        exits = [f for f in window.desk.positions.fills_model.views() if f.purpose == "exit"]
        assert exits  # the flattening exit was filled before the service stopped
    finally:
        service.stop()


def test_layout_theme_watch_list_and_timeframe_come_back_next_run(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ini = str(tmp_path / "ui.ini")
    first, service, _ = make_window(qtbot, tmp_path, settings=QSettings(ini, QSettings.Format.IniFormat))
    first.show()
    first.set_theme("light")
    first.desk.docks["risk"].hide()
    assert first.desk.watch.add_symbol("RELIANCE")
    first.desk.chart.set_timeframe(5)
    assert first.close()
    second, _, _ = make_window(qtbot, tmp_path, settings=QSettings(ini, QSettings.Format.IniFormat))
    second.show()
    assert second.theme_action.isChecked() and second.settings.value("theme") == "light"
    assert not second.desk.docks["risk"].isVisible() and second.desk.docks["watch"].isVisible()
    assert "RELIANCE" in second.desk.watch.watched()
    assert second.desk.chart.model.minutes == 5
    second.close()


def test_shortcuts_switch_tabs_and_timeframes_and_arm_the_selected_pair(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, service, seen = make_window(qtbot, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
        qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentWidget() is window.simulator
        qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentWidget() is window.journal
        qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentWidget() is window.desk
        qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
        assert window.desk.chart.model.minutes == 5
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.AltModifier)
        assert window.desk.chart.model.minutes == 15
        window.desk.watch.table.setCurrentIndex(window.desk.watch.model.index(0, 0))
        assert window.desk.watch.selected_pair() == PAIR
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: any(s.armed for s in seen[-1].slots), timeout=30_000)
        sheet = window.shortcut_sheet.table
        keys = [sheet.item(r, 0).text() for r in range(sheet.rowCount())]
        assert {"F12", "Ctrl+Return", "Ctrl+1 … Ctrl+4", "Alt+1 / Alt+3 / Alt+5 / Alt+Q", "F1"} <= set(keys)
    finally:
        assert service.stop()


def test_the_chart_shows_the_session_the_desk_is_watching(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, service, seen = make_window(qtbot, tmp_path, speed=None)
    window.show()
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(seen) and seen[-1].state == "halted"
                        and window.desk.bars.count("DEMO_TREND") == 2 * 375, timeout=60_000)
    finally:
        assert service.stop()
    qtbot.wait(200)
    frame = window.desk.bars.frame("DEMO_TREND")
    assert window.desk.chart.model.minutes == 1 and window.desk.charted == "DEMO_TREND"
    last = window.desk.chart.bar_at(window.desk.chart.model.display_count - 1)
    assert last is not None and last.close == frame["close"].iloc[-1]
    fills = window.desk.positions.fills_model.views()
    assert len(window.desk.markers["DEMO_TREND"]) == len(fills) > 0  # every fill marked on the chart


def test_clicking_a_simulated_trade_shows_it_on_the_chart(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, service, _ = make_window(qtbot, tmp_path)
    window.show()
    tab = window.simulator
    with qtbot.waitSignal(tab.run_finished, timeout=60_000):
        tab.start_run()
    run = tab.shown_run()
    trade = run.trades.iloc[0]
    tab.trades_view.setCurrentIndex(tab.trades_view.model().index(0, 0))  # the trader clicks the first trade
    assert window.tabs.currentWidget() is window.desk
    chart = window.desk.chart
    lo, hi = chart.x_range()
    shown = [chart.bar_at(x) for x in range(max(int(lo), 0), int(hi))]
    starts = {b.start for b in shown if b is not None}
    entry = trade["entry_time"].to_pydatetime()
    assert any(abs((s - entry).total_seconds()) < 60 for s in starts)  # the entry bar is in view
    assert sorted(p for _, p in chart.marker_positions()) == sorted([trade["entry_price"], trade["exit_price"]])


@pytest.mark.skipif(sys.platform != "linux", reason="renders offscreen on Linux CI")
def test_atw_screenshot_renders_the_playing_demo_to_a_png(tmp_path: Path) -> None:
    out = tmp_path / "desk.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ATW_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "app.main", "--screenshot", str(out), "--after", "6",
                           "--speed", "600"], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1600, 1000)
    colours = {image.pixel(x, y) for x in range(0, 1600, 40) for y in range(0, 1000, 40)}
    assert len(colours) > 20  # a drawn desk, not a blank frame
    assert list((tmp_path / "home" / "replays").glob("r*/journal/*-replay.jsonl"))  # the demo journaled
