"""Open positions, working orders and the day's fills.

It only displays state: "Exit" (after the trader confirms) posts ``ExitPosition`` and "Cancel"
posts ``CancelOrder`` for a working entry order; rows change when the next snapshot says so.
Protective orders have no button: they go with their position.

A position or order that opens or closes shows with the snapshot that says so; changes of value
only (prices, P&L, a trailed stop) repaint at most ``VALUES_HZ`` times a second, the newest
winning: hundreds of open positions repainted 15 times a second were the desk's dearest paint,
and a figure that changes faster than 5 Hz cannot be read anyway.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.fills_model import DEFAULT_KEEP, FillsModel
from app.models.palette import desk_palette
from app.models.positions_model import OrdersModel, PositionsModel, is_entry
from app.models.rows_model import ViewsModel
from app.widgets.live_group_box import LiveGroupBox
from app.widgets.pacer import Pacer
from core.automation.events import CancelOrder, Command, ExitPosition
from core.automation.market_tape import MarketUpdate
from core.automation.snapshot import Snapshot
from core.risk.limits import format_inr

VALUES_HZ = 5.0


def _table(model: ViewsModel, widths: tuple[int, ...], stretch: int) -> QTableView:
    """A read-only row table; column ``stretch`` takes the spare width (not the action column)."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for c, w in enumerate(widths):
        header.resizeSection(c, w)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


class PositionsPanel(QWidget):
    """Three tables: open positions, working orders, fills (see the module docstring)."""

    def __init__(self, post: Callable[[Command], None], confirm: Callable[[str], bool] | None = None, *,
                 keep_fills: int = DEFAULT_KEEP, dark: bool = True) -> None:
        super().__init__()
        self._post = post
        self._confirm = confirm or self._ask
        palette = desk_palette(dark)
        self.positions_model = PositionsModel(palette)
        self.orders_model = OrdersModel(palette)
        self.fills_model = FillsModel(keep_fills, palette)
        self._held: Snapshot | None = None  # the newest snapshot, until shown
        self._pacer = Pacer(VALUES_HZ, self._show_held, self)

        self.positions_table = _table(self.positions_model, (110, 130, 65, 60, 95, 80, 95, 140, 95, 140, 90), stretch=9)
        self.orders_table = _table(self.orders_model, (300, 110, 55, 55, 55, 70, 120, 120, 90, 90, 110), stretch=0)
        self.fills_table = _table(self.fills_model, (80, 110, 130, 55, 60, 95, 70, 300), stretch=7)
        self.positions_table.clicked.connect(self._position_clicked)
        self.orders_table.clicked.connect(self._order_clicked)
        for table, menu in ((self.positions_table, self._position_menu), (self.orders_table, self._order_menu)):
            table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            table.customContextMenuRequested.connect(menu)

        # titles carry counts that change all the time: live titles repaint the box, not the window
        self.positions_box = LiveGroupBox("Open positions  (9999)  ·  unrealised Rs -99,99,99,999.99")
        self.orders_box = LiveGroupBox("Working orders  (9999: 9999 entry, 9999 protective)")
        self.fills_box = LiveGroupBox("Fills  (9999, newest first)")
        # positions on the left (what is at risk), working orders and fills side by side on the right
        splitter = QSplitter(Qt.Orientation.Horizontal)
        right = QSplitter(Qt.Orientation.Horizontal)
        for box, table in ((self.positions_box, self.positions_table), (self.orders_box, self.orders_table),
                           (self.fills_box, self.fills_table)):
            inner = QVBoxLayout(box)
            inner.setContentsMargins(4, 4, 4, 4)
            inner.addWidget(table)
            (splitter if box is self.positions_box else right).addWidget(box)
        splitter.addWidget(right)
        splitter.setSizes([560, 1040])
        right.setSizes([560, 480])
        self.setStyleSheet("QGroupBox { font-weight:bold }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._titles(None)

    # ---- inputs from the engine ----------------------------------------------------------
    def apply_snapshot(self, snap: Snapshot, now: float | None = None) -> None:
        """Show the open positions and the working orders of ``snap`` (only changed rows repaint).

        ``now``: a monotonic time, for tests (see the module docstring for the pacing)."""
        same_rows = self._same_rows(snap)
        self._held = snap
        if same_rows:
            self._pacer.offer(now)
        else:
            self._pacer.show_now(now)

    def _same_rows(self, snap: Snapshot) -> bool:
        """The snapshot opens and closes nothing: the same positions and orders, by key."""
        pm, om = self.positions_model, self.orders_model
        return len(snap.positions) == pm.rowCount() and len(snap.orders) == om.rowCount() and \
            {pm.key(p) for p in snap.positions} == {pm.key(v) for v in pm.views()} and \
            {om.key(o) for o in snap.orders} == {om.key(v) for v in om.views()}

    def _show_held(self) -> None:
        snap, self._held = self._held, None
        if snap is not None:
            self.positions_model.set_views(snap.positions)
            self.orders_model.set_views(snap.orders)
            self._titles(snap)

    def apply_market(self, update: MarketUpdate) -> None:
        """Put the update's fills on top of the fills table."""
        if update.fills:
            self.fills_model.add_fills(update.fills)
            self.fills_box.set_live_title(f"Fills  ({self.fills_model.rowCount()}, newest first)")

    def _titles(self, snap: Snapshot | None) -> None:
        n = self.positions_model.rowCount()
        pnl = f"  ·  unrealised {format_inr(snap.unrealised)}" if snap is not None and n else ""
        self.positions_box.set_live_title(f"Open positions  ({n}){pnl}")
        entries = sum(1 for o in self.orders_model.views() if is_entry(o))
        working = self.orders_model.rowCount()
        self.orders_box.set_live_title(f"Working orders  ({working}: {entries} entry, {working - entries} protective)")
        self.fills_box.set_live_title(f"Fills  ({self.fills_model.rowCount()}, newest first)")

    # ---- actions -------------------------------------------------------------------------
    def exit_row(self, row: int) -> ExitPosition | None:
        """Ask, then post ExitPosition for the position in ``row``; the command, or None if declined."""
        p = self.positions_model.view_at(row)
        question = (f"Exit {p.side} {p.qty} {p.symbol} ({p.strategy}) at market now?\n"
                    f"Unrealised P&L {format_inr(p.unrealised)}.")
        if not self._confirm(question):
            return None
        command = ExitPosition(p.symbol, p.strategy)
        self._post(command)
        return command

    def cancel_row(self, row: int) -> CancelOrder | None:
        """Post CancelOrder for the working entry order in ``row``; None for a protective order."""
        o = self.orders_model.view_at(row)
        if not is_entry(o):
            return None
        command = CancelOrder(o.client_order_id)
        self._post(command)
        return command

    def _position_clicked(self, index: QModelIndex) -> None:
        if index.column() == PositionsModel.COL_ACTION:
            self.exit_row(index.row())

    def _order_clicked(self, index: QModelIndex) -> None:
        if index.column() == OrdersModel.COL_ACTION:
            self.cancel_row(index.row())

    def _position_menu(self, pos: QPoint) -> None:
        index = self.positions_table.indexAt(pos)
        if index.isValid():
            menu = QMenu(self)
            menu.addAction("Exit position at market…", lambda: self.exit_row(index.row()))
            menu.popup(self.positions_table.viewport().mapToGlobal(pos))

    def _order_menu(self, pos: QPoint) -> None:
        index = self.orders_table.indexAt(pos)
        if index.isValid() and is_entry(self.orders_model.view_at(index.row())):
            menu = QMenu(self)
            menu.addAction("Cancel entry order", lambda: self.cancel_row(index.row()))
            menu.popup(self.orders_table.viewport().mapToGlobal(pos))

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Exit position", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # ---- look ----------------------------------------------------------------------------
    def set_theme(self, dark: bool) -> None:
        """Switch the dark / light colours."""
        palette = desk_palette(dark)
        for model in (self.positions_model, self.orders_model, self.fills_model):
            model.set_palette(palette)
