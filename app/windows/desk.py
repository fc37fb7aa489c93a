"""The desk: the chart in the middle, market watch, automation, risk and positions docked around it.

A nested QMainWindow so its panels can be moved, floated, stacked and closed, and the layout
saved (``saveState``) between runs. It routes the service's updates: each ``MarketUpdate`` to
the bar store, the watch, the positions' fills and the chart (the charted symbol's bars, its
live price and its fills as markers); each ``Snapshot`` to every panel and the chart's stop and
target lines. The routing is split into the chart's part and one part per panel group
(:meth:`DeskView.panel_steps`), so the window can show and paint them in separate passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from app.models.bar_store import BarStore
from app.widgets.automation_panel import AutomationPanel
from app.widgets.chart import ChartWidget, TradeMarker
from app.widgets.market_watch import MarketWatch
from app.widgets.positions_panel import PositionsPanel
from app.widgets.risk_panel import RiskPanel
from core.automation.events import Command
from core.automation.market_tape import FillView, MarketUpdate
from core.automation.snapshot import Snapshot
from core.market.events import Bar
from core.market.instruments import InstrumentMaster

MAX_MARKERS = 500  # per symbol: a long session's fills, not the whole history
REDRAW_AFTER = 30  # more new bars than this for the charted symbol in one update: redraw from the store


class DeskView(QMainWindow):
    """Chart + docked panels; only displays state, every action is a command."""

    def __init__(
        self,
        post: Callable[[Command], None],
        *,
        pairs: Sequence[tuple[str, str]],
        symbols: Sequence[str],
        strategies: Sequence[str],
        mode: str,
        master: InstrumentMaster,
        confirm: Callable[[str], bool],
    ) -> None:
        super().__init__()
        self.setObjectName("desk")
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.bars = BarStore()
        self.markers: dict[str, list[TradeMarker]] = {}
        self.chart = ChartWidget()
        self.setCentralWidget(self.chart)
        self.watch = MarketWatch(post, symbols, strategies, master)
        self.automation = AutomationPanel(post, pairs, mode)
        self.risk = RiskPanel(post, confirm=confirm)
        self.positions = PositionsPanel(post, confirm=confirm)
        self.docks: dict[str, QDockWidget] = {}
        self._dock("watch", "Market watch", self.watch, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("automation", "Automation", self.automation, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("risk", "Risk", self.risk, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("positions", "Positions and orders", self.positions, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._sized = False  # set once default or restored dock sizes are in place
        self.charted = ""
        self.watch.symbol_selected.connect(self.show_symbol)
        if symbols:
            self.show_symbol(symbols[0])

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Dock sizes apply once the desk has its real size (a restored layout overrides them)."""
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            QTimer.singleShot(0, self.default_sizes)  # after the first layout pass: real sizes

    def default_sizes(self) -> None:
        self.resizeDocks([self.docks["watch"], self.docks["automation"]], [520, 440], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["positions"]], [250], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["automation"], self.docks["risk"]], [290, 460], Qt.Orientation.Vertical)

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock:{name}")  # saveState/restoreState find docks by object name
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock

    def show_symbol(self, symbol: str) -> None:
        """Chart ``symbol`` from the bars the desk has seen, with its fills as markers."""
        if not symbol or symbol == self.charted:
            return
        self.charted = symbol
        self.chart.show_series(symbol, self.bars.frame(symbol))
        self.chart.set_markers(self.markers.get(symbol, []))

    def show_on_chart(self, updates: Sequence[MarketUpdate], snap: Snapshot | None) -> None:
        """The chart's part of the updates (bars kept, the charted symbol's candles, live price,
        fills as markers) and of the newest snapshot (stop and target lines)."""
        charted = self.charted
        fills_on_chart = False
        live: list[Bar | tuple[dt.datetime, float]] = []  # the charted symbol's bars and prices, in order
        for update in updates:
            self.bars.add(update.bars)
            live.extend(bar for bar in update.bars if bar.symbol == charted)
            live.extend((quote.time, quote.ltp) for quote in update.quotes if quote.symbol == charted)
            for fill in update.fills:
                if fill.symbol:
                    marks = self.markers.setdefault(fill.symbol, [])
                    marks.append(_marker(fill))
                    del marks[:-MAX_MARKERS]
                    fills_on_chart = fills_on_chart or fill.symbol == charted
        if sum(isinstance(event, Bar) for event in live) > REDRAW_AFTER:
            # history arriving (warm-up, catch-up): one redraw from the store, not one per bar
            self.chart.show_series(charted, self.bars.frame(charted))
            live = [event for event in live if not isinstance(event, Bar)]
            fills_on_chart = True
        self.chart.apply_live(live)
        if fills_on_chart:
            self.chart.set_markers(self.markers.get(charted, []))
        if snap is not None:
            held = next((p for p in snap.positions if p.symbol == charted), None)
            if held is None:
                self.chart.set_levels(None, None, "")
            else:
                self.chart.set_levels(held.stop, held.target, held.stop_kind)

    def panel_steps(self) -> list[Callable[[Sequence[MarketUpdate], Snapshot | None], None]]:
        """The panels' part, one step per panel group (the window paints after each): the watch,
        the positions with their fills, then the automation grid and the risk panel."""
        return [self._show_on_watch, self._show_on_positions, self._show_on_automation_and_risk]

    def _show_on_watch(self, updates: Sequence[MarketUpdate], snap: Snapshot | None) -> None:
        for update in updates:
            self.watch.apply_market(update)
        if snap is not None:
            self.watch.apply_snapshot(snap)

    def _show_on_positions(self, updates: Sequence[MarketUpdate], snap: Snapshot | None) -> None:
        for update in updates:
            self.positions.apply_market(update)
        if snap is not None:
            self.positions.apply_snapshot(snap)

    def _show_on_automation_and_risk(self, _updates: Sequence[MarketUpdate], snap: Snapshot | None) -> None:
        if snap is not None:
            self.automation.show_snapshot(snap)
            self.risk.apply_snapshot(snap)

    def set_theme(self, dark: bool) -> None:
        for panel in (self.chart, self.watch, self.risk, self.positions):
            panel.set_theme(dark)


def _marker(fill: FillView) -> TradeMarker:
    entry = fill.purpose == "entry"
    if entry:
        kind = "entry_long" if fill.side == "BUY" else "entry_short"
    else:
        kind = "exit"
    label = f"{fill.strategy} {fill.side} {fill.qty} @ {fill.price:.2f}"
    return TradeMarker(fill.time, fill.price, kind, label)
