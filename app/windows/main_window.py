"""The main window: the desk, simulator, ledger and journal tabs over one automation service.

It only shows state and sends commands. F12 is the kill switch everywhere in the application
(no confirmation: it is the path that matters when it matters). Arming in canary or live mode
asks first. Layout, theme, the watch list and the chart's timeframe are kept in QSettings.
Closing with open positions asks what to do with them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QToolBar,
    QWidget,
)

from app.service import AutomationService
from app.theme import MODE_COLOURS, apply_theme, restyle, theme_named
from app.widgets.journal_tab import JournalTab
from app.widgets.ledger_tab import LedgerTab
from app.widgets.live_label import LiveLabel
from app.widgets.mode_dialog import ModeDialog
from app.widgets.shortcut_sheet import SHORTCUTS, ShortcutSheet
from app.widgets.simulator_tab import SimulatorTab
from app.windows.broker_login import BrokerLogin
from app.windows.desk import DeskView
from app.windows.update_steps import UpdateSteps
from core.automation.broker_watch import SESSION_ENDED
from core.automation.events import Arm, Command, Disarm, ExitPosition, Kill
from core.automation.market_tape import MarketUpdate
from core.automation.snapshot import Snapshot
from core.market.instruments import InstrumentMaster, default_master
from core.paths import atw_home

TABS = ("desk", "simulator", "ledger", "journal")
SPEEDS = (("1x", 1.0), ("10x", 10.0), ("60x", 60.0), ("300x", 300.0), ("max", None))
CONFIRM_ARM_MODES = frozenset({"canary", "live"})
STALE_FEED_S = 5.0  # wall seconds without a quote before the status bar says the feed is quiet


def ask(parent: QWidget, title: str) -> Callable[[str], bool]:
    """A yes/no question in a modal box (tests pass their own answer instead)."""

    def confirm(text: str) -> bool:
        answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    return confirm


class MainWindow(QMainWindow):
    """The workstation's window (module docstring)."""

    def __init__(
        self,
        service: AutomationService,
        pairs: Sequence[tuple[str, str]],
        mode: str,
        *,
        symbols: Sequence[str] | None = None,
        master: InstrumentMaster | None = None,
        journal_dir: Path | None = None,
        settings: QSettings | None = None,
        confirm: Callable[[str], bool] | None = None,
        on_close: Callable[[list[str]], str] | None = None,
        replay: bool = False,
        relogin: Callable[[], str] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("main")
        self.setWindowTitle(f"Autotrade Workstation — {mode.upper()}")
        self.service = service
        self.mode = mode
        self.settings = settings if settings is not None else QSettings("atw", "workstation")
        self.confirm = confirm or ask(self, "Autotrade Workstation")
        self._on_close = on_close or self._ask_close
        self.last: Snapshot | None = None
        self._quote_wall = 0.0
        strategies = list(dict.fromkeys(st for _, st in pairs))
        watched = self.settings.value("watch", None)
        symbols = list(symbols if symbols is not None else dict.fromkeys(s for s, _ in pairs))
        if isinstance(watched, list) and watched:
            symbols = list(dict.fromkeys([*symbols, *[str(s) for s in watched]]))
        self.desk = DeskView(self.post, pairs=pairs, symbols=symbols, strategies=strategies, mode=mode,
                             master=master or default_master(), confirm=self.confirm)
        # the chart and each panel group are shown (and painted) in separate passes of the loop
        self.steps = UpdateSteps([self.desk.show_on_chart, *self.desk.panel_steps(), self._show_on_status_bar],
                                 paint=self._paint_now, hold=service.hold_for_ui, release=service.release_from_ui,
                                 context=self)
        self.simulator = SimulatorTab()
        self.ledger = LedgerTab()
        self.journal = JournalTab(journal_dir if journal_dir is not None else atw_home() / "journal")
        self.tabs = QTabWidget()
        for name, widget in zip(TABS, (self.desk, self.simulator, self.ledger, self.journal), strict=True):
            self.tabs.addTab(widget, name.capitalize())
        self.setCentralWidget(self.tabs)
        self.simulator.trade_selected.connect(self._show_sim_trade)
        self.simulator.run_finished.connect(lambda _result: self.ledger.refresh())
        self.tabs.currentChanged.connect(self._tab_shown)
        # set by the Workstation that shows this window: the session's arguments, and the switch
        self.session_args: argparse.Namespace | None = None
        self.switch_to: Callable[[argparse.Namespace], str] | None = None
        self._build_toolbar(replay)
        self._build_status_bar()
        self._build_menus_and_shortcuts()
        self.broker_login = (BrokerLogin(self, service, relogin, self.session_bar, self.session_menu)
                             if relogin is not None else None)
        self.desk.watch.watch_changed.connect(service.watch)  # a live feed streams what is watched
        service.watch(self.desk.watch.watched())
        service.market.connect(self.apply_market)
        service.snapshot.connect(self.apply_snapshot)
        service.alert.connect(self._alert)
        self._health = QTimer(self)
        self._health.timeout.connect(self._show_feed_health)
        self._health.start(1000)
        self._restore_settings()

    # ------------------------------------------------------------------ commands

    def post(self, command: Command) -> None:
        """Every panel's commands pass here: arming in canary or live mode asks first."""
        if isinstance(command, Arm) and self.mode in CONFIRM_ARM_MODES:
            what = "REAL orders" if self.mode == "live" else "real orders (canary: capped quantity)"
            if not self.confirm(f"Arm {command.symbol} · {command.strategy} in {self.mode.upper()} mode?\n"
                                f"It will send {what} until the cutoff."):
                return
        self.service.post(command)

    def kill(self, why: str) -> None:
        self.service.post(Kill(why))

    # ------------------------------------------------------------------ state in

    def apply_market(self, update: MarketUpdate) -> None:
        if update.quotes:
            self._quote_wall = time.monotonic()
        self.steps.market(update)

    def apply_snapshot(self, snap: Snapshot) -> None:
        self.last = snap
        self.steps.snapshot(snap)

    def _paint_now(self) -> None:
        """Paint what the last step changed, on the spot (left to the loop, the repaint could
        come after the engine went on, and every Python call of it would wait for the engine)."""
        scene = self.desk.chart.graphics.scene()
        QApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)  # the chart's dirty items
        QApplication.sendPostedEvents(self, QEvent.Type.UpdateRequest)  # the window's repaint

    def _show_on_status_bar(self, _updates: Sequence[MarketUpdate], snap: Snapshot | None) -> None:
        if snap is not None:
            self.clock_label.setText(f"{snap.time:%a %d %b %Y  %H:%M:%S} IST")
            logged_out = self.broker_login is not None and snap.entry_hold == SESSION_ENDED
            self.broker_label.setText(f"broker: {snap.broker} · {'logged out' if logged_out else 'connected'}")
            restyle(self.broker_label, "color:#e0474c; font-weight:bold" if logged_out else "")
            if self.broker_login is not None:
                self.broker_login.show(snap)
            pnl = snap.realised - snap.day_charges + snap.unrealised
            self.pnl_label.setText(f"day P&L ₹{pnl:,.2f}")

    def _show_feed_health(self) -> None:
        if not self._quote_wall:
            self.feed_label.setText("feed: waiting for the first tick")
            return
        age = time.monotonic() - self._quote_wall
        paused = self.service.paused
        text = "feed: paused" if paused else (f"feed: live · last tick {age:.0f}s ago" if age >= 1 else
                                              "feed: live · ticking")
        self.feed_label.setText(text)
        stale = age > STALE_FEED_S and not paused
        restyle(self.feed_label, "color:#e0474c; font-weight:bold" if stale else "")

    def _alert(self, level: str, text: str) -> None:
        self.statusBar().showMessage(f"{level.upper()}: {text}", 15_000)
        if level == "critical":
            self.feed_label.setText("feed: stopped")

    # ------------------------------------------------------------------ building

    def _build_toolbar(self, replay: bool) -> None:
        bar = QToolBar("Session")
        bar.setObjectName("toolbar:session")
        bar.setMovable(False)
        back, fore = MODE_COLOURS.get(self.mode, MODE_COLOURS["live"])
        self.mode_badge = QLabel(f"  {self.mode.upper()}  ")
        self.mode_badge.setStyleSheet(f"background:{back}; color:{fore}; font-weight:bold; font-size:15px;"
                                      " padding:3px 10px; border-radius:3px")
        bar.addWidget(self.mode_badge)
        self.pause_action = QAction("Pause", self)
        self.pause_action.setCheckable(True)
        self.pause_action.setShortcut(QKeySequence("Ctrl+Space"))
        self.pause_action.toggled.connect(self._set_paused)
        self.speed = QComboBox()
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        self.speed.setCurrentText("60x")
        self.speed.currentIndexChanged.connect(lambda i: self.service.set_speed(self.speed.itemData(i)))
        if replay:
            bar.addSeparator()
            bar.addWidget(QLabel(" replay "))
            bar.addAction(self.pause_action)
            bar.addWidget(self.speed)
        bar.addSeparator()
        kill = QPushButton("KILL  (F12)")
        kill.setStyleSheet("background:#c62828; color:white; font-weight:bold; padding:3px 14px")
        kill.clicked.connect(lambda: self.kill("kill switch (toolbar)"))
        bar.addWidget(kill)
        self.addToolBar(bar)
        self.session_bar = bar

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        # Live labels: a status text that changes with every snapshot must not re-lay-out the window.
        self.feed_label = LiveLabel("feed: live · last tick 9999s ago", "feed: waiting for the first tick")
        self.broker_label = LiveLabel("broker: paper-replay · connected", "broker: —")
        self.pnl_label = LiveLabel("day P&L ₹-99,999,999.99", "day P&L —")
        self.clock_label = LiveLabel("Wed 30 Sep 2026  23:59:59 IST", "— IST")
        self.mode_label = QLabel(f"mode: {self.mode}")
        for label in (self.feed_label, self.broker_label, self.pnl_label, self.clock_label, self.mode_label):
            label.setContentsMargins(8, 0, 8, 0)
            status.addPermanentWidget(label)

    def _build_menus_and_shortcuts(self) -> None:
        self.session_menu = self.menuBar().addMenu("&Session")
        switch = QAction("Switch mode…", self)
        switch.setShortcut(QKeySequence("Ctrl+Shift+M"))
        switch.triggered.connect(self.switch_mode)
        self.session_menu.addAction(switch)
        view = self.menuBar().addMenu("&View")
        self.theme_action = QAction("Light theme", self)
        self.theme_action.setCheckable(True)
        self.theme_action.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.theme_action.toggled.connect(lambda on: self.set_theme("light" if on else "dark"))
        view.addAction(self.theme_action)
        reset = QAction("Reset layout", self)
        reset.triggered.connect(self._reset_layout)
        view.addAction(reset)
        view.addSeparator()
        for dock in self.desk.docks.values():
            view.addAction(dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        sheet = QAction("Keyboard shortcuts", self)
        sheet.setShortcut(QKeySequence(Qt.Key.Key_F1))
        sheet.triggered.connect(self.show_shortcuts)
        help_menu.addAction(sheet)

        def key(seq: str | QKeySequence, slot: Callable[[], object], app_wide: bool = False) -> QShortcut:
            shortcut = QShortcut(QKeySequence(seq), self)
            if app_wide:
                shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.activated.connect(slot)
            return shortcut

        self.kill_shortcut = key(QKeySequence(Qt.Key.Key_F12), lambda: self.kill("kill switch key (F12)"), True)
        key("Ctrl+Return", self.desk.watch.toggle_selected)
        key("Ctrl+E", self._exit_selected)
        for i in range(len(TABS)):
            key(f"Ctrl+{i + 1}", lambda i=i: self.tabs.setCurrentIndex(i))
        for seq, minutes in (("Alt+1", 1), ("Alt+3", 3), ("Alt+5", 5), ("Alt+Q", 15)):
            key(seq, lambda m=minutes: self.desk.chart.set_timeframe(m))
        self.shortcut_sheet = ShortcutSheet(SHORTCUTS, self)

    def switch_mode(self) -> None:
        """Ask which session to run next and switch to it (the Workstation does the switch)."""
        if self.switch_to is None or self.session_args is None:
            self._alert("warning", "this window cannot switch its mode")
            return
        dialog = ModeDialog(self.session_args, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        why_not = self.switch_to(dialog.chosen())
        if why_not:
            QMessageBox.warning(self, "Switch mode", f"Still in {self.mode.upper()} mode: {why_not}")

    def show_shortcuts(self) -> None:
        self.shortcut_sheet.show()
        self.shortcut_sheet.raise_()

    def _exit_selected(self) -> None:
        pair = self.desk.watch.selected_pair()
        if pair is None or self.last is None:
            return
        if any((p.symbol, p.strategy) == pair for p in self.last.positions) and \
                self.confirm(f"Exit {pair[0]} · {pair[1]} at market now?"):
            self.service.post(ExitPosition(*pair))

    def _tab_shown(self, index: int) -> None:
        if self.tabs.widget(index) is self.ledger:  # the review is always of what is recorded now
            self.ledger.refresh()

    def _set_paused(self, paused: bool) -> None:
        self.service.set_paused(paused)
        self.pause_action.setText("Resume" if paused else "Pause")

    def _show_sim_trade(self, trade: object) -> None:
        """A trade clicked in the simulator: its bars on the chart, its entry and exit marked."""
        from app.widgets.chart import TradeMarker

        symbol = trade.symbol  # type: ignore[attr-defined]
        self.desk.charted = ""  # the chart shows the simulator's bars until the trader picks a symbol
        self.desk.chart.show_series(symbol, self.simulator.bars_for(symbol))
        long = trade.side.upper() in ("LONG", "BUY")  # type: ignore[attr-defined]
        self.desk.chart.set_markers([
            TradeMarker(trade.entry_time, trade.entry_price, "entry_long" if long else "entry_short",  # type: ignore[attr-defined]
                        f"{trade.strategy} entry"),  # type: ignore[attr-defined]
            TradeMarker(trade.exit_time, trade.exit_price, "exit", f"{trade.strategy} exit"),  # type: ignore[attr-defined]
        ])
        self.desk.chart.focus_range(trade.entry_time, trade.exit_time)  # type: ignore[attr-defined]
        self.tabs.setCurrentWidget(self.desk)

    # ------------------------------------------------------------------ theme and settings

    def set_theme(self, name: str) -> None:
        theme = theme_named(name)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.desk.set_theme(theme.dark)
        for tab in (self.simulator, self.ledger, self.journal):
            tab.set_theme(theme.dark)
        self.settings.setValue("theme", name)
        self.theme_action.blockSignals(True)
        self.theme_action.setChecked(name == "light")
        self.theme_action.blockSignals(False)

    def _restore_settings(self) -> None:
        self._default_desk_state = self.desk.saveState()
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        desk = self.settings.value("desk_state")
        if desk is not None and self.desk.restoreState(desk):
            self.desk._sized = True  # the trader's own dock sizes, not the defaults
        self.set_theme(str(self.settings.value("theme", "dark")))
        timeframe = int(self.settings.value("timeframe", 1))
        self.desk.chart.set_timeframe(timeframe if timeframe in (1, 3, 5, 15) else 1)

    def save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("desk_state", self.desk.saveState())
        self.settings.setValue("watch", self.desk.watch.watched())
        self.settings.setValue("timeframe", self.desk.chart.model.minutes)
        self.settings.sync()

    def _reset_layout(self) -> None:
        self.desk.restoreState(self._default_desk_state)
        for dock in self.desk.docks.values():
            dock.show()
        self.desk.default_sizes()

    # ------------------------------------------------------------------ shutdown

    def _ask_close(self, open_positions: list[str]) -> str:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Open positions")
        box.setText(f"{len(open_positions)} position(s) are open:\n" + "\n".join(open_positions[:12]))
        box.setInformativeText("Flatten them at market before closing, or leave them with their stops?")
        flatten = box.addButton("Flatten and close", QMessageBox.ButtonRole.DestructiveRole)
        leave = box.addButton("Leave them and close", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return "flatten" if clicked is flatten else ("leave" if clicked is leave else "cancel")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        held = [f"{p.symbol} · {p.strategy} {p.side} {p.qty} @ {p.entry_price:.2f}"
                for p in (self.last.positions if self.last is not None else ())]
        choice = self._on_close(held) if held and self.service.isRunning() else "leave"
        if choice == "cancel":
            event.ignore()
            return
        if choice == "flatten":
            self._flatten_before_close()
        self.save_settings()
        if self.service.isRunning():
            self.service.set_paused(False)
            self.service.stop()
        for tab in (self.simulator, self.ledger, self.journal):
            tab.shutdown()
        event.accept()

    def _flatten_before_close(self, timeout_s: float = 10.0) -> None:
        """Disarm every pair (so nothing enters again), exit every open position, and wait (events
        still flowing) until the engine says flat. Not the kill switch: no lock outlives the close."""
        assert self.last is not None
        self.service.set_paused(False)
        for s in self.last.slots:
            if s.armed:
                self.service.post(Disarm(s.symbol, s.strategy, "the workstation is closing"))
        for p in self.last.positions:
            self.service.post(ExitPosition(p.symbol, p.strategy))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (self.last is None or self.last.positions):
            QApplication.processEvents()
            time.sleep(0.02)
        self.steps.flush()  # the panels show the exits before the window goes
        if self.last is not None and self.last.positions:
            self._alert("error", f"{len(self.last.positions)} position(s) still open after {timeout_s:.0f}s")
