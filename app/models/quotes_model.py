"""The market watch's table: one row per watched instrument, one column per strategy.

Updates are incremental: a :class:`MarketUpdate` carries only the quotes that changed, and a
:class:`Snapshot` changes few strategy cells, so only the rows that changed are announced with
``dataChanged`` (in contiguous runs). A quote is formatted when its row is painted, so the
rows scrolled out of view cost nothing; a strategy cell whose slot and position views are the
very objects of the previous snapshot is skipped unread. The model is never reset by an update.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from app.models import cells
from app.models.one_call_per_cell import OneCallPerCell
from app.models.palette import DARK, DeskPalette
from app.models.rows_model import (
    ALIGN_LEFT,
    ALIGN_RIGHT,
    ALIGNMENT,
    BACKGROUND,
    DISPLAY,
    FONT,
    FOREGROUND,
    TOOLTIP,
    Index,
    runs,
)
from core.automation.market_tape import Quote
from core.automation.snapshot import PositionView, SlotView, Snapshot

QUOTE_COLUMNS = ("Symbol", "LTP", "Chg", "Chg %", "Volume", "High", "Low")
COL_SYMBOL, COL_LTP, COL_CHG, COL_PCT, COL_VOLUME, COL_HIGH, COL_LOW = range(len(QUOTE_COLUMNS))


class _Row:
    """One instrument's cells, formatted once per change (``data`` only looks them up)."""

    __slots__ = ("symbol", "quote", "unformatted", "texts", "fg", "bg", "tips", "pair_keys", "pair_views")

    def __init__(self, symbol: str, n_strategies: int) -> None:
        n = len(QUOTE_COLUMNS) + n_strategies
        self.symbol = symbol
        self.quote: Quote | None = None
        self.unformatted = False  # ``quote`` is newer than the texts: formatted when first shown
        self.texts: list[str] = [symbol, *([cells.DASH] * (n - 1))]
        self.fg: list[QColor | None] = [None] * n
        self.bg: list[QColor | None] = [None] * n
        self.tips: list[str | None] = [None] * n
        self.pair_keys: list[tuple[object, ...] | None] = [None] * n_strategies  # what each cell shows
        # the slot and position views each cell was last formatted from (skipped when the same objects)
        self.pair_views: list[tuple[object, object] | None] = [None] * n_strategies


class QuotesModel(OneCallPerCell, QAbstractTableModel):
    """Watched instruments x (quote columns + one column per strategy)."""

    def __init__(self, symbols: Sequence[str], strategies: Sequence[str], palette: DeskPalette = DARK) -> None:
        super().__init__()
        self.strategies: tuple[str, ...] = tuple(strategies)
        self._rows: list[_Row] = []
        self._row_of: dict[str, int] = {}
        self._quotes: dict[str, Quote] = {}  # latest quote of every instrument seen, watched or not
        self._slots: dict[tuple[str, str], SlotView] = {}
        self._positions: dict[tuple[str, str], PositionView] = {}
        self._heard = False  # a snapshot has arrived: a pair missing from it is not run by the engine
        self._bold = QFont()
        self._bold.setBold(True)
        self._colours: dict[str, QColor] = {}
        self.set_palette(palette)
        for symbol in symbols:
            self._append(symbol.upper())

    # ---- the watch list ------------------------------------------------------------------
    def symbols(self) -> list[str]:
        """The watched symbols, top to bottom."""
        return [r.symbol for r in self._rows]

    def row_of(self, symbol: str) -> int | None:
        return self._row_of.get(symbol.upper())

    def symbol_at(self, row: int) -> str:
        return self._rows[row].symbol

    def strategy_of_column(self, column: int) -> str | None:
        """The strategy a column shows, or None for a quote column."""
        k = column - len(QUOTE_COLUMNS)
        return self.strategies[k] if 0 <= k < len(self.strategies) else None

    def column_of_strategy(self, strategy: str) -> int:
        return len(QUOTE_COLUMNS) + self.strategies.index(strategy)

    def is_armed(self, symbol: str, strategy: str) -> bool:
        """What the last snapshot said about the pair (False when the engine does not run it)."""
        slot = self._slots.get((symbol.upper(), strategy))
        return slot is not None and slot.armed

    def add_symbol(self, symbol: str) -> bool:
        """Append a row for ``symbol``; False when it is already watched."""
        symbol = symbol.upper()
        if symbol in self._row_of:
            return False
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._append(symbol)
        self.endInsertRows()
        return True

    def remove_row(self, row: int) -> str:
        """Stop watching the instrument in ``row``; its symbol."""
        symbol = self._rows[row].symbol
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._row_of = {r.symbol: i for i, r in enumerate(self._rows)}
        self.endRemoveRows()
        return symbol

    def _append(self, symbol: str) -> None:
        row = _Row(symbol, len(self.strategies))
        self._row_of[symbol] = len(self._rows)
        self._rows.append(row)
        self._format_row(row)

    def _format_row(self, row: _Row) -> None:
        """Format every cell of ``row`` from scratch (a new row, a new palette)."""
        row.fg[COL_SYMBOL] = None
        for c in range(COL_LTP, COL_LOW + 1):
            row.fg[c] = self._colours["dim"]  # dashes until a quote arrives
        quote = self._quotes.get(row.symbol)
        if quote is not None:
            self._format_quote(row, quote)
        row.pair_keys = [None] * len(self.strategies)
        row.pair_views = [None] * len(self.strategies)
        for k in range(len(self.strategies)):
            self._format_pair(row, k)

    # ---- updates -------------------------------------------------------------------------
    def apply_quotes(self, quotes: Iterable[Quote]) -> int:
        """Take the quotes that changed; the number of watched rows that changed.

        A row is formatted when it is next painted, not here: of 200 watched instruments a
        trader sees a screenful, and the rest cost nothing until scrolled to."""
        changed: list[int] = []
        for q in quotes:
            self._quotes[q.symbol] = q
            r = self._row_of.get(q.symbol)
            if r is not None:
                row = self._rows[r]
                row.quote = q
                row.unformatted = True
                changed.append(r)
        for first, last in runs(changed):
            self.dataChanged.emit(self.index(first, COL_LTP), self.index(last, COL_LOW))
        return len(changed)

    def apply_snapshot(self, snap: Snapshot) -> int:
        """Take the arm state, signals and positions of a snapshot; the number of rows that changed."""
        self._heard = True
        slots = self._slots = {(s.symbol, s.strategy): s for s in snap.slots}
        positions = self._positions = {(p.symbol, p.strategy): p for p in snap.positions}
        changed: list[int] = []
        for r, row in enumerate(self._rows):
            row_changed = False
            for k, strategy in enumerate(self.strategies):
                pair = (row.symbol, strategy)
                views = (slots.get(pair), positions.get(pair))
                seen = row.pair_views[k]
                if seen is not None and seen[0] is views[0] and seen[1] is views[1]:
                    continue  # the engine republished the same views: nothing to look at
                row.pair_views[k] = views
                row_changed = self._format_pair(row, k) or row_changed
            if row_changed:
                changed.append(r)
        first_col, last_col = len(QUOTE_COLUMNS), len(QUOTE_COLUMNS) + len(self.strategies) - 1
        for first, last in runs(changed):
            self.dataChanged.emit(self.index(first, first_col), self.index(last, last_col))
        return len(changed)

    def _format_quote(self, row: _Row, q: Quote) -> None:
        row.quote = q
        row.unformatted = False
        row.texts[COL_LTP] = cells.price(q.ltp)
        row.texts[COL_CHG] = cells.signed(q.change)
        row.texts[COL_PCT] = cells.percent(q.change_pct)
        row.texts[COL_VOLUME] = cells.indian_int(q.volume) if q.volume else cells.DASH  # indices: none
        row.texts[COL_HIGH] = cells.price(q.high)
        row.texts[COL_LOW] = cells.price(q.low)
        ch = round(q.change, 2)
        colour = self._colours["up"] if ch > 0 else self._colours["down"] if ch < 0 else None
        row.fg[COL_LTP] = row.fg[COL_CHG] = row.fg[COL_PCT] = colour
        for c in (COL_VOLUME, COL_HIGH, COL_LOW):
            row.fg[c] = None

    def _format_pair(self, row: _Row, k: int) -> bool:
        """Re-format one strategy cell when its inputs changed; True when it did."""
        pair = (row.symbol, self.strategies[k])
        slot = self._slots.get(pair)
        pos = self._positions.get(pair)
        key: tuple[object, ...] = (
            self._heard,
            None if slot is None else (slot.armed, slot.failed, slot.last_signal, slot.last_signal_time,
                                       slot.trades_today),
            None if pos is None else (pos.side, pos.qty, pos.entry_price),
        )
        if row.pair_keys[k] == key:
            return False
        row.pair_keys[k] = key
        if not self._heard:
            state, tip = cells.DASH, "waiting for the engine's first snapshot"
        elif slot is None:
            state, tip = "not configured", f"the engine does not run {pair[1]} on {pair[0]}"
        else:
            state = "● ARMED" if slot.armed else "○ off"
            tip = f"{pair[1]} on {pair[0]}: {'armed' if slot.armed else 'disarmed'}, {slot.trades_today} trade(s) today"
            if slot.failed:
                state = "⚠ " + state
                tip += f"\nFAILED: {slot.failed}"
        parts = [state] if not self._heard else [state, cells.position_brief(pos)]
        sig = cells.signal_brief(slot.last_signal, slot.last_signal_time) if slot is not None else ""
        if sig:
            parts.append(sig)
            tip += f"\nlast signal: {slot.last_signal if slot else ''}"
        tip += "\ndouble-click to " + ("disarm" if slot is not None and slot.armed else "arm")
        armed = slot is not None and slot.armed
        c = len(QUOTE_COLUMNS) + k
        row.texts[c] = "   ".join(parts)
        row.tips[c] = tip
        row.bg[c] = self._colours["armed_bg"] if armed else None
        row.fg[c] = (self._colours["failed"] if slot is not None and slot.failed else
                     self._colours["armed_text"] if armed else None if pos is not None else self._colours["dim"])
        return True

    # ---- theme ---------------------------------------------------------------------------
    def set_palette(self, palette: DeskPalette) -> None:
        """Re-colour (repaints every row once)."""
        self._colours = {name: QColor(getattr(palette, name)) for name in
                         ("text", "dim", "up", "down", "armed_bg", "armed_text", "failed")}
        for row in self._rows:
            self._format_row(row)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))

    # ---- QAbstractTableModel -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(QUOTE_COLUMNS) + len(self.strategies)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> object:
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY:
            return QUOTE_COLUMNS[section] if section < len(QUOTE_COLUMNS) else self.strategy_of_column(section)
        return None

    def data(self, index: Index, role: int = DISPLAY) -> object:
        # Called for every visible cell and role on each repaint: look up (a row's newest quote
        # is formatted once, on its first look).
        row = self._rows[index.row()]
        if row.unformatted:
            self._format_quote(row, row.quote)  # type: ignore[arg-type]  # set with the flag
        if role == DISPLAY:
            return row.texts[index.column()]
        if role == FOREGROUND:
            return row.fg[index.column()]
        if role == BACKGROUND:
            return row.bg[index.column()]
        if role == ALIGNMENT:
            c = index.column()
            return ALIGN_RIGHT if COL_SYMBOL < c < len(QUOTE_COLUMNS) else ALIGN_LEFT
        if role == FONT:
            return self._bold if index.column() in (COL_SYMBOL, COL_LTP) else None
        if role == TOOLTIP:
            c = index.column()
            return row.tips[c] if c >= len(QUOTE_COLUMNS) else self._quote_tip(row) if c != COL_SYMBOL else None
        return None

    @staticmethod
    def _quote_tip(row: _Row) -> str | None:
        q = row.quote
        if q is None:
            return "no quote yet"
        base = "previous close" if q.prev_close is not None else "today's open (no previous close)"
        return f"{row.symbol} at {q.time:%H:%M:%S}: change against {base} {cells.price(q.prev_close or q.open)}"
