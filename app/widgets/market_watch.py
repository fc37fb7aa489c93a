"""The market watch: live quotes of the watched instruments and, per strategy, its arm state.

It only displays state. Arming is a command (``Arm`` / ``Disarm``) posted to the engine; the
cell turns armed when the next snapshot says so, never on the click itself. Quotes repaint at
most ``QUOTES_HZ`` times a second (the newest per instrument): a screenful of prices is
readable at that rate, and the watch is the desk's largest repaint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    QStringListModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.palette import DeskPalette, desk_palette
from app.models.quotes_model import COL_HIGH, COL_LOW, COL_VOLUME, QUOTE_COLUMNS, QuotesModel
from app.widgets.pacer import Pacer
from core.automation.events import Arm, Command, Disarm
from core.automation.market_tape import MarketUpdate, Quote
from core.automation.snapshot import Snapshot
from core.market.instruments import InstrumentMaster

QUOTE_WIDTHS = (110, 92, 76, 78, 100, 86, 86)
QUOTES_HZ = 5.0
MIN_STRATEGY_WIDTH = 230


def master_symbols(master: InstrumentMaster) -> list[str]:
    """Every symbol of the instrument master, sorted."""
    return master.symbols()


class MarketWatch(QWidget):
    """Quotes + per-strategy arm state of the watched instruments (see the module docstring)."""

    symbol_selected = Signal(str)  # the current row's symbol (the chart follows it)
    watch_changed = Signal(list)  # list[str]: the watched symbols after an add or a remove

    def __init__(self, post: Callable[[Command], None], symbols: Sequence[str], strategies: Sequence[str],
                 master: InstrumentMaster, *, dark: bool = True) -> None:
        super().__init__()
        self._post = post
        self._master = master
        self._palette = desk_palette(dark)
        self._last_selected = ""
        self._error = False
        self.model = QuotesModel(symbols, strategies, self._palette)
        self._held: dict[str, Quote] = {}  # quotes waiting for the next conflated repaint
        self._pacer = Pacer(QUOTES_HZ, self._show_held, self)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for c, w in enumerate(QUOTE_WIDTHS):
            header.resizeSection(c, w)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.selectionModel().currentChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.viewport().installEventFilter(self)

        self.remove_action = QAction("Remove from watch", self.table)
        self.remove_action.setShortcut(QKeySequence(Qt.Key.Key_Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        self.table.addAction(self.remove_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)

        self.add_edit = QLineEdit()
        self.add_edit.setPlaceholderText("Add instrument: type a symbol (e.g. REL) and press Enter")
        self.completer = QCompleter(QStringListModel(master_symbols(master), self), self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchStartsWith)
        self.add_edit.setCompleter(self.completer)
        self.add_edit.returnPressed.connect(lambda: self.add_symbol(self.add_edit.text()))
        self.message = QLabel("")
        self.message.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.add_edit, 2)
        top.addWidget(self.message, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.set_theme(dark)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_strategy_columns()
        return super().eventFilter(watched, event)

    def _fit_strategy_columns(self) -> None:
        """Share the width left by the quote columns among the strategy columns.

        In a narrow dock the volume and day high/low columns step aside first, so the arm
        state stays in view; no strategy column gets narrower than ``MIN_STRATEGY_WIDTH``
        (a scroll bar beats a clipped arm state)."""
        n = len(self.model.strategies)
        if not n:
            return
        header = self.table.horizontalHeader()
        available = self.table.viewport().width()
        narrow = available < sum(QUOTE_WIDTHS) + n * MIN_STRATEGY_WIDTH
        for c in (COL_VOLUME, COL_HIGH, COL_LOW):
            header.setSectionHidden(c, narrow)
        shown = sum(w for c, w in enumerate(QUOTE_WIDTHS) if not header.isSectionHidden(c))
        width = max(MIN_STRATEGY_WIDTH, (available - shown) // n)
        for c in range(len(QUOTE_COLUMNS), len(QUOTE_COLUMNS) + n):
            header.resizeSection(c, width)

    # ---- inputs from the engine ----------------------------------------------------------
    def apply_market(self, update: MarketUpdate, now: float | None = None) -> None:
        """Show the quotes that changed (only their rows repaint), conflated to ``QUOTES_HZ``.

        The newest quote per instrument is kept; a held quote shows at the next update past the
        interval, or by a timer when none comes (the feed paused or fell silent), so the last
        price is never held back. ``now``: a monotonic time, for tests."""
        for q in update.quotes:
            self._held[q.symbol] = q
        if self._held:
            self._pacer.offer(now)

    def _show_held(self) -> None:
        self.model.apply_quotes(self._held.values())
        self._held = {}

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Show arm state, failures, last signals and positions per strategy."""
        self.model.apply_snapshot(snap)

    # ---- the watch list ------------------------------------------------------------------
    def watched(self) -> list[str]:
        """The watched symbols, top to bottom (the main window saves them)."""
        return self.model.symbols()

    def add_symbol(self, text: str) -> bool:
        """Watch ``text`` when the instrument master knows it; say why not otherwise."""
        symbol = text.strip().upper()
        if not symbol:
            return False
        if symbol not in self._master:
            self._say(f"'{symbol}' is not in the instrument master: not added", error=True)
            return False
        if self._held:  # the new row starts from the newest quote, not one held back
            self._pacer.show_now()
        if not self.model.add_symbol(symbol):
            self._say(f"{symbol} is already in the watch", error=False)
            self.table.selectRow(self.model.row_of(symbol) or 0)
            return False
        self.add_edit.clear()
        self._say(f"added {symbol}", error=False)
        self.watch_changed.emit(self.watched())
        return True

    def remove_selected(self) -> str | None:
        """Stop watching the current row's instrument; its symbol (None when nothing is selected)."""
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        symbol = self.model.remove_row(index.row())
        self._say(f"removed {symbol}", error=False)
        self.watch_changed.emit(self.watched())
        return symbol

    # ---- arming --------------------------------------------------------------------------
    def selected_pair(self) -> tuple[str, str] | None:
        """(current row's symbol, current column's strategy or the first strategy), or None."""
        index = self.table.currentIndex()
        if not index.isValid() or not self.model.strategies:
            return None
        strategy = self.model.strategy_of_column(index.column()) or self.model.strategies[0]
        return self.model.symbol_at(index.row()), strategy

    def toggle_selected(self) -> Command | None:
        """Post Arm, or Disarm when the last snapshot shows the selected pair armed; the command."""
        pair = self.selected_pair()
        return self._toggle(*pair) if pair is not None else None

    def _toggle(self, symbol: str, strategy: str) -> Command:
        command: Command = (Disarm(symbol, strategy) if self.model.is_armed(symbol, strategy)
                            else Arm(symbol, strategy))
        self._post(command)
        return command

    def _double_clicked(self, index: QModelIndex) -> None:
        strategy = self.model.strategy_of_column(index.column())
        if strategy is not None:
            self._toggle(self.model.symbol_at(index.row()), strategy)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        symbol = self.model.symbol_at(current.row()) if current.isValid() else ""
        if symbol and symbol != self._last_selected:  # moving along a row is not a new instrument
            self._last_selected = symbol
            self.symbol_selected.emit(symbol)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        menu = QMenu(self)
        pair = self.selected_pair()
        if pair is not None:
            verb = "Disarm" if self.model.is_armed(*pair) else "Arm"
            menu.addAction(f"{verb} {pair[1]} on {pair[0]}", self.toggle_selected)
        menu.addAction(self.remove_action)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # ---- look ----------------------------------------------------------------------------
    def set_theme(self, dark: bool) -> None:
        """Switch the dark / light colours."""
        self._palette = desk_palette(dark)
        self.model.set_palette(self._palette)
        self._say(self.message.text(), error=self._error)

    def _say(self, text: str, *, error: bool) -> None:
        self._error = error
        p: DeskPalette = self._palette
        self.message.setStyleSheet(f"color:{p.down if error else p.dim}; font-weight:{'bold' if error else 'normal'}")
        self.message.setText(text)
