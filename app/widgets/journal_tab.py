"""The journal tab: a live tail of the execution journal, filters, and one decision's whole trace.

A QTimer schedules polls; each poll reads the followed file incrementally from its last offset
on a worker (:mod:`app.widgets.background`), keeps only complete lines, and moves on to the same
mode's next day file when the writer rotates (as ``atw journal tail -f`` does). Rows are appended
in one batch per poll and the model keeps the newest ``max_rows``. A line that is not a journal
record becomes a marked row naming its file and line; the tail goes on.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models.one_call_per_cell import OneCallPerCell
from app.models.palette import desk_palette
from app.theme import restyle
from app.widgets.background import Background
from core.errors import JournalCorrupt
from core.journal.reader import IST, decode_line, journal_files, parse_name
from core.journal.records import KNOWN_TYPES, Record

NOT_A_RECORD = "not a record"
COLUMNS = ("seq", "time (IST)", "type", "trace id", "symbol", "summary")
_FIRST_KEYS = ("side", "qty", "price", "status", "purpose", "reason", "accepted", "client_order_id", "fill_id")
_READ_LIMIT = 8 << 20  # bytes per poll: a long file is caught up over a few polls, the UI stays live
_TYPE_TONES = {"signal": "accent", "risk_check": "warn", "fill": "up", "alert": "down", "state": "warn"}
# signal -> risk check -> order intent -> ack -> fills -> exit: the order a trace reads in
TRACE_ORDER = ("signal", "risk_check", "order_intent", "order_ack", "order_update", "fill")

Source = Path | str | Callable[[], Path | str | None]


def theme(dark: bool) -> dict[str, str]:
    """Named colours from the desk palette (app/models/palette.py) plus the tab's own."""
    desk = desk_palette(dark)
    extra = ({"bg": "#16191d", "accent": "#58a6ff", "highlight": "#264f78", "bad_bg": "#4a1d1d"} if dark else
             {"bg": "#ffffff", "accent": "#0969da", "highlight": "#b6d7ff", "bad_bg": "#ffe0dc"})
    return {"text": desk.text, "muted": desk.dim, "up": desk.up, "down": desk.down, "warn": desk.warn,
            "panel": desk.panel_bg, "grid": desk.border, **extra}


# -- rows and the follower (plain Python: runs on the worker) -------------------------------------

@dataclass(frozen=True, slots=True)
class JournalRow:
    """One line of a journal file, decoded (or marked as not a record).

    A row keeps its line's bytes, not its decoded payload: the tail holds tens of thousands of
    rows and shows a screenful, so ``payload`` and ``summary`` are decoded again when read (a
    few microseconds) instead of being kept for every row (kilobytes each)."""

    file: str
    line: int
    seq: int | None
    ts: str
    time: str  # IST clock time, milliseconds
    type: str
    trace_id: str
    symbol: str
    raw: bytes  # the line as written
    error: str = ""  # set on a line that is not a journal record

    @property
    def bad(self) -> bool:
        return bool(self.error)

    @property
    def payload(self) -> tuple[tuple[str, str], ...]:
        """The payload as key=value texts in display order (symbol first, then what matters)."""
        if self.error:
            return (("line", self.raw[:120].decode("utf-8", "replace")),)
        return payload_pairs(decode_line(self.raw).payload)

    @property
    def summary(self) -> str:
        """One line for the table: the payload's pairs, long values cut."""
        if self.error:
            return f"{self.error}  {self.raw[:120].decode('utf-8', 'replace')!r}"
        return "  ".join(f"{k}={v if len(v) <= 48 else v[:45] + '...'}" for k, v in self.payload if k != "symbol")


@dataclass(frozen=True)
class TailBatch:
    """What one poll found."""

    folder: str
    file: str
    rows: tuple[JournalRow, ...]
    more: bool  # bytes are left to read now (a long file being caught up)
    restarted: bool  # the source folder changed: the rows replace what is shown


def _text(value: Any) -> str:
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def _ist(ts: str) -> str:
    try:
        return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(IST).strftime("%H:%M:%S.%f")[:-3]
    except ValueError:
        return ts


def payload_pairs(p: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A payload as texts: symbol first, then the keys that matter, then the rest sorted."""
    keys = [k for k in _FIRST_KEYS if k in p] + sorted(k for k in p if k not in _FIRST_KEYS and k != "symbol")
    pairs = tuple((k, _text(p[k])) for k in keys)
    return ((("symbol", _text(p["symbol"])),) if "symbol" in p else ()) + pairs


def record_row(rec: Record, raw: bytes, file: str, line: int) -> JournalRow:
    """A record (decoded from ``raw``) as a row."""
    symbol = _text(rec.payload["symbol"]) if "symbol" in rec.payload else ""
    return JournalRow(file, line, rec.seq, rec.ts, _ist(rec.ts), rec.type, rec.trace_id, symbol, bytes(raw))


def bad_row(raw: bytes, file: str, line: int, why: str) -> JournalRow:
    error = JournalCorrupt(f"not a journal record ({why})", where=f"{file}:{line}")
    return JournalRow(file, line, None, "", "", NOT_A_RECORD, "", "", bytes(raw[:120]), str(error))


class JournalFollower:
    """Incremental reader of the newest journal file in a folder, following day rotation.

    Not thread-safe: one poll at a time (the tab's Background runs one job at a time).
    """

    def __init__(self, folder: Path, mode: str | None = None) -> None:
        self.folder, self.mode = folder, mode
        self.current: Path | None = None
        self.offset = 0
        self.line = 0
        self.carry = b""

    def poll(self) -> tuple[list[JournalRow], bool]:
        """New complete lines as rows, and whether more bytes are waiting."""
        if self.current is None:
            files = self._files()
            if not files:
                return [], False
            self.current = files[-1]
        try:
            size = os.path.getsize(self.current)
        except FileNotFoundError:
            size = 0
        if size < self.offset:  # cut back (a torn tail moved aside on recovery)
            self.offset, self.carry = size, b""
        if size > self.offset:
            with open(self.current, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(min(size - self.offset, _READ_LIMIT))
            self.offset += len(data)
            *complete, self.carry = (self.carry + data).split(b"\n")
            return self._rows(complete), self.offset < size
        later = [p for p in self._files() if _day(p) > _day(self.current)]
        if later and not self.carry:  # the writer rotated to a new day
            self.current, self.offset, self.line = later[0], 0, 0
            return self.poll()
        return [], False

    def _files(self) -> list[Path]:
        # journal_files() takes the home that holds "journal/"; a replay's is <home>/replays/<run>
        return journal_files(self.folder.parent, mode=self.mode) if self.folder.name == "journal" else []

    def _rows(self, lines: list[bytes]) -> list[JournalRow]:
        rows: list[JournalRow] = []
        name = self.current.name if self.current else ""
        for raw in lines:
            self.line += 1
            if not raw.strip():
                continue
            try:
                rec = decode_line(raw)
            except msgspec.DecodeError as exc:  # ValidationError included
                rows.append(bad_row(raw, name, self.line, str(exc)))
                continue
            if rec.type not in KNOWN_TYPES:
                rows.append(bad_row(raw, name, self.line, f"unknown record type {rec.type!r}"))
                continue
            rows.append(record_row(rec, raw, name, self.line))
        return rows


def _day(path: Path) -> str:
    named = parse_name(path)
    return named[0] if named else ""


# -- the model and the filter ---------------------------------------------------------------------

class JournalModel(OneCallPerCell, QAbstractTableModel):
    """The tail's rows, oldest first, at most ``max_rows`` (the oldest are dropped)."""

    def __init__(self, max_rows: int, colors: dict[str, str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.max_rows = max_rows
        self.rows: list[JournalRow] = []
        self._colors = colors
        self._mono = QFont("monospace")
        self._mono.setStyleHint(QFont.StyleHint.Monospace)

    def append(self, rows: Sequence[JournalRow]) -> None:
        """Append a batch (one insert), then drop the oldest beyond ``max_rows`` (one remove)."""
        rows = list(rows)[-self.max_rows:]
        if not rows:
            return
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()
        excess = len(self.rows) - self.max_rows
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            del self.rows[:excess]
            self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def set_colors(self, colors: dict[str, str]) -> None:
        self._colors = colors
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        c = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if r.bad:
                return (f"{r.file}:{r.line}", "", NOT_A_RECORD, "", "", r.summary)[c]
            return (str(r.seq), r.time, r.type, r.trace_id or "-", r.symbol, r.summary)[c]
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.bad:
                return QColor(self._colors["down"])
            if c == 2 and r.type in _TYPE_TONES:
                return QColor(self._colors[_TYPE_TONES[r.type]])
            if c in (3, 5):
                return QColor(self._colors["muted"]) if c == 3 else None
            return None
        if role == Qt.ItemDataRole.BackgroundRole and r.bad:
            return QColor(self._colors["bad_bg"])
        if role == Qt.ItemDataRole.TextAlignmentRole and c == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.error or "\n".join(f"{k} = {v}" for k, v in r.payload)
        if role == Qt.ItemDataRole.FontRole and c in (3, 5):
            return self._mono
        if role == Qt.ItemDataRole.UserRole:
            return r
        return None


class JournalFilter(QSortFilterProxyModel):
    """Trace id (substring), instrument and record type; a bad line shows unless a filter is set."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.trace = ""
        self.symbol = ""
        self.type = ""

    def set_filters(self, trace: str, symbol: str, type_: str) -> None:
        self.beginFilterChange()
        self.trace, self.symbol, self.type = trace.strip().lower(), symbol, type_
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        r = self.sourceModel().rows[source_row]  # type: ignore[attr-defined]
        if self.type and r.type != self.type:
            return False
        if self.symbol and r.symbol != self.symbol:
            return False
        return not self.trace or self.trace in r.trace_id.lower()


class _ElideLeft(QStyledItemDelegate):
    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideLeft  # type: ignore[attr-defined]


# -- the tab --------------------------------------------------------------------------------------

class JournalTab(QWidget):
    """Live journal tail with filters and a trace panel.

    ``source``: a journal folder (``<home>/journal`` or a replay's ``<home>/replays/<run>/journal``)
    or a callable returning the folder to follow now (checked at each poll; a new folder starts
    the tail afresh). ``mode``: follow only that mode's files (None: the newest file of any mode).
    """

    appended = Signal(int)  # rows added by one poll
    followed = Signal(str)  # the file now followed
    failed = Signal(str)  # a poll failed: the error text (the tail keeps polling)

    def __init__(self, source: Source, parent: QWidget | None = None, *, mode: str | None = None,
                 max_rows: int = 20_000, poll_ms: int = 250, dark: bool = True, start: bool = True) -> None:
        super().__init__(parent)
        self._source = source
        self._mode = mode
        self._follower: JournalFollower | None = None
        self._colors = theme(dark)
        self._jobs = Background(self)
        self._polling = False
        self._symbols: set[str] = set()

        self.model = JournalModel(max_rows, self._colors, self)
        self.proxy = JournalFilter(self)
        self.proxy.setSourceModel(self.model)
        self.trace_edit = QLineEdit()
        self.trace_edit.setPlaceholderText("trace id contains…")
        self.trace_edit.setClearButtonEnabled(True)
        self.symbol_box = QComboBox()
        self.symbol_box.addItem("all instruments", "")
        self.symbol_box.setMinimumWidth(150)
        self.type_box = QComboBox()
        self.type_box.addItem("all types", "")
        for t in sorted(KNOWN_TYPES, key=lambda t: (TRACE_ORDER.index(t) if t in TRACE_ORDER else 99, t)):
            self.type_box.addItem(t, t)
        self.type_box.addItem(NOT_A_RECORD, NOT_A_RECORD)
        self.status = QLabel("")
        self.count_label = QLabel("")

        bar = QHBoxLayout()
        for label, widget in (("Trace", self.trace_edit), ("Instrument", self.symbol_box), ("Type", self.type_box)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.status)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(21)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((64, 96, 104, 250, 104)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.view.setColumnWidth(column, width)
        self._elide_left = _ElideLeft(self.view)  # a trace id differs at its end (the bar time)
        self.view.setItemDelegateForColumn(3, self._elide_left)

        self.trace_title = QLabel("Click a record to see its whole trace")
        self.trace_title.setWordWrap(True)
        self.trace_title.setStyleSheet("font-weight:bold; padding:4px 0 2px 0")
        self.trace_title.setMinimumHeight(44)
        self.trace_tree = QTreeWidget()
        self.trace_tree.setColumnCount(2)
        self.trace_tree.setHeaderLabels(["record", "detail"])
        self.trace_tree.setColumnWidth(0, 150)
        self.trace_tree.setAlternatingRowColors(True)
        side = QWidget()
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(self.trace_title)
        sv.addWidget(self.trace_tree, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(side)
        split.setSizes([960, 440])

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

        self.trace_edit.textChanged.connect(self._filter)
        self.symbol_box.currentIndexChanged.connect(self._filter)
        self.type_box.currentIndexChanged.connect(self._filter)
        self.view.selectionModel().currentRowChanged.connect(self._chosen)
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll_now)
        self.set_theme(dark)
        if start:
            self.start()

    # -- public -------------------------------------------------------------------------------

    def start(self) -> None:
        """Follow the journal: poll now and every ``poll_ms``."""
        self._timer.start()
        self.poll_now()

    def stop(self) -> None:
        self._timer.stop()

    def shutdown(self) -> None:
        """Stop polling and background work (before the window closes)."""
        self._timer.stop()
        self._jobs.shutdown()

    def poll_now(self) -> None:
        """Read what was appended since the last poll (on the worker); skipped while one runs."""
        if self._polling:
            return
        self._polling = True
        self._jobs.run(self._poll_job, self._apply, self._poll_failed)

    def set_filters(self, trace: str = "", symbol: str = "", type_: str = "") -> None:
        """Set the three filters at once (as the trader would in the bar)."""
        self.trace_edit.setText(trace)
        self.symbol_box.setCurrentIndex(max(0, self.symbol_box.findData(symbol)))
        self.type_box.setCurrentIndex(max(0, self.type_box.findData(type_)))

    def shown_rows(self) -> list[JournalRow]:
        """The rows the filters let through, in order."""
        return [self.proxy.index(i, 0).data(Qt.ItemDataRole.UserRole) for i in range(self.proxy.rowCount())]

    def show_trace(self, row: JournalRow) -> list[JournalRow]:
        """Fill the side panel with every record sharing ``row``'s trace id, in journal order."""
        if row.bad:
            members = [row]
            self.trace_title.setText(f"{row.file}:{row.line} is not a journal record")
        elif row.trace_id:
            members = [r for r in self.model.rows if r.trace_id == row.trace_id and not r.bad]
            types = " → ".join(dict.fromkeys(r.type for r in members))
            self.trace_title.setText(f"Trace {row.trace_id}\n{len(members)} records: {types}")
        else:
            members = [row]
            self.trace_title.setText(f"{row.type} (no trace id: the record alone)")
        self.trace_tree.clear()
        bold = QFont()
        bold.setBold(True)
        for r in members:
            head = QTreeWidgetItem([f"#{r.seq}  {r.time}" if not r.bad else f"line {r.line}", r.type])
            head.setFont(1, bold)
            if r.type in _TYPE_TONES:
                head.setForeground(1, QColor(self._colors[_TYPE_TONES[r.type]]))
            for key, value in r.payload:
                QTreeWidgetItem(head, [key, value])
            if r.bad:
                QTreeWidgetItem(head, ["error", r.error])
            self.trace_tree.addTopLevelItem(head)
            head.setSelected(r is row)
        self.trace_tree.expandAll()
        return members

    def trace_shown(self) -> list[tuple[str, str, dict[str, str]]]:
        """The side panel as (record label, type, payload) per record, top to bottom."""
        out = []
        for i in range(self.trace_tree.topLevelItemCount()):
            item = self.trace_tree.topLevelItem(i)
            payload = {item.child(j).text(0): item.child(j).text(1) for j in range(item.childCount())}
            out.append((item.text(0), item.text(1), payload))
        return out

    def set_theme(self, dark: bool) -> None:
        """Switch the dark or light palette."""
        c = self._colors = theme(dark)
        pal = self.palette()
        for role, key in ((QPalette.ColorRole.Window, "bg"), (QPalette.ColorRole.Base, "panel"),
                          (QPalette.ColorRole.AlternateBase, "bg"), (QPalette.ColorRole.WindowText, "text"),
                          (QPalette.ColorRole.Text, "text"), (QPalette.ColorRole.Button, "panel"),
                          (QPalette.ColorRole.ButtonText, "text"), (QPalette.ColorRole.Highlight, "highlight"),
                          (QPalette.ColorRole.HighlightedText, "text"), (QPalette.ColorRole.ToolTipBase, "panel"),
                          (QPalette.ColorRole.ToolTipText, "text"), (QPalette.ColorRole.PlaceholderText, "muted")):
            pal.setColor(role, QColor(c[key]))
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.model.set_colors(c)
        self.status.setStyleSheet(f"color:{c['muted']}")
        # a styled label does not follow the parent's palette: name its colour
        self.trace_title.setStyleSheet(f"font-weight:bold; padding:4px 0 2px 0; color:{c['text']}")

    # -- polling ------------------------------------------------------------------------------

    def _folder(self) -> Path | None:
        found = self._source() if callable(self._source) else self._source
        return Path(found) if found is not None else None

    def _poll_job(self) -> TailBatch:
        """Runs on the worker: the follower is only ever touched here, one poll at a time."""
        folder = self._folder()
        if folder is None:
            restarted, self._follower = self._follower is not None, None
            return TailBatch("", "", (), False, restarted)
        restarted = self._follower is None or self._follower.folder != folder
        if restarted:
            self._follower = JournalFollower(folder, self._mode)
        assert self._follower is not None
        rows, more = self._follower.poll()
        current = self._follower.current
        return TailBatch(str(folder), str(current) if current else "", tuple(rows), more, restarted)

    def _apply(self, batch: TailBatch) -> None:
        self._polling = False
        if batch.restarted:
            self.model.clear()
            self._symbols.clear()
            self._reset_symbols()
        if batch.file and batch.file != self.status.toolTip():
            self.status.setToolTip(batch.file)
            self.followed.emit(batch.file)
        follow = self.view.verticalScrollBar().value() >= self.view.verticalScrollBar().maximum() - 2
        if batch.rows:
            self.model.append(batch.rows)
            new = {r.symbol for r in batch.rows if r.symbol} - self._symbols
            if new:
                self._symbols |= new
                self._reset_symbols()
            if follow:
                self.view.scrollToBottom()
        self._show_status(batch)
        if batch.rows:
            self.appended.emit(len(batch.rows))
        if batch.more:
            self.poll_now()

    def _poll_failed(self, text: str) -> None:
        self._polling = False
        self.status.setText(text.splitlines()[0])
        self.status.setStyleSheet(f"color:{self._colors['down']}")
        self.failed.emit(text)

    def _show_status(self, batch: TailBatch) -> None:
        restyle(self.status, f"color:{self._colors['muted']}")
        if not batch.folder:
            self.status.setText("no journal folder yet")
        elif not batch.file:
            self.status.setText(f"waiting for a journal in {batch.folder}")
        else:
            self.status.setText(f"following {Path(batch.file).name}")
        bad = sum(1 for r in self.model.rows if r.bad) if self.model.rows else 0
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        text = f"{shown:,} of {total:,} records" if shown != total else f"{total:,} records"
        self.count_label.setText(text + (f" · {bad} not a record" if bad else ""))

    def _reset_symbols(self) -> None:
        chosen = self.symbol_box.currentData()
        self.symbol_box.blockSignals(True)
        self.symbol_box.clear()
        self.symbol_box.addItem("all instruments", "")
        for s in sorted(self._symbols):
            self.symbol_box.addItem(s, s)
        self.symbol_box.setCurrentIndex(max(0, self.symbol_box.findData(chosen)))
        self.symbol_box.blockSignals(False)

    def _filter(self) -> None:
        self.proxy.set_filters(self.trace_edit.text(), self.symbol_box.currentData() or "",
                               self.type_box.currentData() or "")
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,} records" if shown != total else f"{total:,} records")

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_trace(current.data(Qt.ItemDataRole.UserRole))
