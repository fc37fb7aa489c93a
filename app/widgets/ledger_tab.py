"""The ledger review tab: days and their net P&L after charges, a day by strategy and mode, its
trades, the equity curve across days, and CSV export.

Every number comes from the same core calls ``atw ledger`` makes (``Ledger.days``,
``Ledger.day_summary``, ``Ledger.trades_frame``, ``Ledger.export_trades`` + ``write_trades_csv``),
run in the background (:mod:`app.widgets.background`) and handed back as frozen rows; the tab
only lays them out. Money is Decimal from the ledger and shown as the CLI shows it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.palette import desk_palette
from app.widgets.background import Background
from core.ledger.modes import ALL, MODES, SIM
from core.paths import atw_home

LEDGER_FILE = "ledger.sqlite"  # as core.ledger.repository.LEDGER_FILE
CENT = Decimal("0.01")

# The desk's shared colours (app/models/palette.py) plus what only this tab draws.
_EXTRA: dict[bool, dict[str, Any]] = {
    True: {"bg": "#16191d", "accent": "#58a6ff", "highlight": "#264f78", "pos_day": "#1d4d2b",
           "neg_day": "#5a1f1f", "modes": ["#58a6ff", "#d29922", "#bc8cff", "#39c5cf", "#f778ba", "#e6e6e6"]},
    False: {"bg": "#ffffff", "accent": "#0969da", "highlight": "#b6d7ff", "pos_day": "#c9f2d4",
            "neg_day": "#ffd3d0", "modes": ["#0969da", "#9a6700", "#8250df", "#1b7c83", "#bf3989", "#1f2328"]},
}


def theme(dark: bool) -> dict[str, Any]:
    """The tab's named colours: text, muted, pos, neg, panel, grid, bg, accent, highlight, ..."""
    desk = desk_palette(dark)
    return {"text": desk.text, "muted": desk.dim, "pos": desk.up, "neg": desk.down, "panel": desk.panel_bg,
            "grid": desk.border, **_EXTRA[dark]}


# -- plain data, built in the background ----------------------------------------------------------

@dataclass(frozen=True)
class DayLine:
    """One day x mode (for sim: of one run), as ``atw ledger days`` lists it, with its ALL summary."""

    day: dt.date
    mode: str
    run: int | None
    trades: int
    wins: int
    losses: int
    win_rate: float | None
    gross: Decimal
    charges: Decimal
    net: Decimal


@dataclass(frozen=True)
class RunInfo:
    """A simulator run, for the run chooser."""

    id: int
    label: str


@dataclass(frozen=True)
class Overview:
    """What the days list, the calendar and the equity curve show."""

    path: str
    exists: bool
    days: tuple[DayLine, ...]
    runs: tuple[RunInfo, ...]


@dataclass(frozen=True)
class SummaryLine:
    """One row of ``atw ledger day``: a strategy (or ALL) of one mode on one day."""

    mode: str
    run: int | None
    strategy: str
    trades: int
    wins: int
    losses: int
    win_rate: float | None
    points: Decimal
    gross: Decimal
    charges: Decimal
    net: Decimal
    max_drawdown: Decimal
    best: Decimal | None
    worst: Decimal | None
    rule_breaks: int


@dataclass(frozen=True)
class TradeLine:
    """One trade leg of the ledger (exact: prices and money as Decimal)."""

    mode: str
    run: int | None
    symbol: str
    strategy: str
    side: str
    qty: int
    entry_time: str  # ISO with offset (IST)
    entry_price: Decimal
    exit_time: str
    exit_price: Decimal
    points: Decimal
    gross: Decimal
    charges: Decimal
    net: Decimal
    exit_reason: str
    position_id: str | None
    trace_id: str | None
    detail: str  # charge components, stop, signal time: the row's tooltip


@dataclass(frozen=True)
class DayDetail:
    day: dt.date
    summary: tuple[SummaryLine, ...]
    trades: tuple[TradeLine, ...]


def _open(path: Path) -> Any:
    """The ledger at ``path``, read-only when the file cannot be written (as ``atw ledger`` does)."""
    from core.ledger.repository import Ledger

    return Ledger.open(path, readonly=not os.access(path, os.W_OK))


def load_overview(path: Path, mode: str | None, run: int | None) -> Overview:
    """Days (``Ledger.days``) with each one's ALL summary row, and the simulator runs."""
    if not path.is_file():
        return Overview(str(path), False, (), ())
    with _open(path) as ledger:
        rows = ledger.days(mode, run)
        alls: dict[tuple[dt.date, str, int | None], dict[str, Any]] = {}
        for day in sorted({r.day for r in rows}):
            for s in ledger.day_summary(day, mode, run):
                if s["strategy"] == ALL:
                    alls[(s["day"], s["mode"], s["sim_run_id"])] = s
        runs = ledger.sim_runs()
    lines = []
    for r in rows:
        s = alls.get((r.day, r.mode, r.sim_run_id), {})
        lines.append(DayLine(r.day, r.mode, r.sim_run_id, r.trades, int(s.get("wins", 0)), int(s.get("losses", 0)),
                             s.get("win_rate"), s.get("gross", Decimal(0)), s.get("charges", Decimal(0)), r.net))
    infos = tuple(
        RunInfo(int(x["id"]), f"run {x['id']}  {','.join(x['strategies'])}  {x['first_day']}..{x['last_day']}")
        for x in reversed(runs)
    )
    return Overview(str(path), True, tuple(lines), infos)


def _exact(value: float) -> Decimal:
    """The ledger frame's floats are the shortest form of the stored decimal: recover it exactly."""
    return Decimal(repr(float(value)))


def load_day(path: Path, day: dt.date, mode: str | None, run: int | None) -> DayDetail:
    """``Ledger.day_summary`` and ``Ledger.trades_frame`` of one day."""
    from core.simulator.costs import COMPONENTS

    with _open(path) as ledger:
        summary = ledger.day_summary(day, mode, run)
        frame = ledger.trades_frame(day, day, mode, run)
    lines = tuple(
        SummaryLine(s["mode"], s["sim_run_id"], s["strategy"], s["trades"], s["wins"], s["losses"], s["win_rate"],
                    s["points"], s["gross"], s["charges"], s["net"], s["max_drawdown"], s["best"], s["worst"],
                    s["rule_breaks"])
        for s in summary
    )
    cols = {c: frame[c].tolist() for c in frame.columns}
    trades = []
    for i in range(len(frame)):
        def col(name: str, i: int = i) -> Any:
            return cols[name][i] if name in cols else None
        parts = [f"{c} {_exact(col(c)).quantize(CENT):,.2f}" for c in COMPONENTS if col(c) is not None]
        stop = col("initial_stop")
        signal = col("signal_time")
        tip = [f"charges: {', '.join(parts)}" if parts else ""]
        if stop is not None and stop == stop:  # NaN: no stop
            tip.append(f"initial stop {_exact(stop)}")
        if signal is not None and not _nat(signal):
            tip.append(f"signal at {signal.isoformat()}")
        run_id = col("sim_run_id")
        trades.append(TradeLine(
            str(col("mode")), None if run_id is None or _nat(run_id) else int(run_id), str(col("symbol")),
            str(col("strategy")), str(col("side")), int(col("qty")), col("entry_time").isoformat(),
            _exact(col("entry_price")), col("exit_time").isoformat(), _exact(col("exit_price")), _exact(col("points")),
            _exact(col("gross_pnl")).quantize(CENT), _exact(col("charges")).quantize(CENT),
            _exact(col("net_pnl")).quantize(CENT), str(col("exit_reason")), _text(col("position_id")),
            _text(col("trace_id")), "\n".join(t for t in tip if t),
        ))
    return DayDetail(day, lines, tuple(trades))


def export_csv(path: Path, out: Path, start: dt.date, end: dt.date, mode: str | None, run: int | None) -> tuple[str, int]:
    """What ``atw ledger export --from START --to END --out OUT`` writes; returns (file, trades)."""
    from core.simulator.output import write_trades_csv

    with _open(path) as ledger:
        frame = ledger.export_trades(start, end, mode, run)
    write_trades_csv(frame, out)
    return str(out), len(frame)


def _nat(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN / NaT / pd.NA compare unequal (pd.NA raises)
    except TypeError:
        return True


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


# -- formatting (as core/ledger/cli.py prints) ----------------------------------------------------

def money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def rate(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def price(value: Decimal) -> str:
    """At least 2 decimals, more only when the price has them (tick 0.05 vs 0.0025)."""
    return f"{value:,.2f}" if value == value.quantize(CENT) else f"{value:,}"


def tone(value: Decimal | None) -> str | None:
    if value is None or value == 0:
        return None
    return "pos" if value > 0 else "neg"


def _clock(iso: str) -> str:
    return iso[11:19]


# -- a read-only table of prepared rows -----------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """Display texts, a colour tone per cell ("pos", "neg", "muted" or None), a tooltip and a key."""

    texts: tuple[str, ...]
    tones: tuple[str | None, ...] = ()
    tip: str = ""
    key: Any = None
    bold: bool = False


class RowsModel(QAbstractTableModel):
    """Rows of text; numeric columns right-aligned; P&L cells coloured from the theme."""

    def __init__(self, headers: Sequence[str], left: int, colors: dict[str, Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = tuple(headers)
        self._left = left  # the first ``left`` columns are text, the rest numbers
        self._rows: list[Row] = []
        self._colors = colors
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def set_colors(self, colors: dict[str, Any]) -> None:
        self._colors = colors
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self._headers) - 1))

    def row(self, i: int) -> Row:
        return self._rows[i]

    def texts(self) -> list[tuple[str, ...]]:
        """Every row's display texts (what the trader reads)."""
        return [r.texts for r in self._rows]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self._headers[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self._align(section)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        c = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.texts[c]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._align(c)
        if role == Qt.ItemDataRole.ForegroundRole:
            t = row.tones[c] if c < len(row.tones) else None
            return QColor(self._colors[t]) if t else None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if row.bold else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tip or None
        if role == Qt.ItemDataRole.UserRole:
            return row.key
        return None

    def _align(self, column: int) -> int:
        side = Qt.AlignmentFlag.AlignLeft if column < self._left else Qt.AlignmentFlag.AlignRight
        return int(side | Qt.AlignmentFlag.AlignVCenter)


def _table(model: RowsModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.setWordWrap(False)
    return view


DAY_HEADERS = ("day", "mode", "run", "trades", "wins", "win%", "gross", "charges", "net")
SUMMARY_HEADERS = ("mode", "strategy", "trades", "wins", "losses", "win%", "points", "gross", "charges",
                   "net", "max DD", "best", "worst", "breaks")
TRADE_HEADERS = ("entry", "exit", "symbol", "strategy", "mode", "side", "qty", "entry px", "exit px", "points",
                 "gross", "charges", "net", "exit reason", "position / trace")


def day_row(d: DayLine) -> Row:
    texts = (d.day.isoformat(), d.mode, "-" if d.run is None else str(d.run), str(d.trades), str(d.wins),
             rate(d.win_rate), money(d.gross), money(d.charges), money(d.net))
    tones = (None, None, "muted", None, None, None, tone(d.gross), "muted", tone(d.net))
    return Row(texts, tones, key=d)


def summary_row(s: SummaryLine) -> Row:
    texts = (s.mode if s.run is None else f"{s.mode} #{s.run}", s.strategy, str(s.trades), str(s.wins), str(s.losses),
             rate(s.win_rate), f"{s.points:,.2f}", money(s.gross), money(s.charges), money(s.net),
             money(s.max_drawdown), money(s.best), money(s.worst), str(s.rule_breaks))
    tones = (None, None, None, None, None, None, tone(s.points), tone(s.gross), "muted", tone(s.net),
             "muted", tone(s.best), tone(s.worst), "neg" if s.rule_breaks else None)
    return Row(texts, tones, key=s, bold=s.strategy == ALL)


def trade_row(t: TradeLine) -> Row:
    ids = " / ".join(x for x in (t.position_id, t.trace_id) if x) or "-"
    texts = (_clock(t.entry_time), _clock(t.exit_time), t.symbol, t.strategy, t.mode, t.side, str(t.qty),
             price(t.entry_price), price(t.exit_price), price(t.points), money(t.gross), money(t.charges),
             money(t.net), t.exit_reason, ids)
    tones = (None, None, None, None, None, "pos" if t.side == "LONG" else "neg", None, None, None, tone(t.points),
             tone(t.gross), "muted", tone(t.net), None, "muted")
    tip = f"entry {t.entry_time}\nexit {t.exit_time}\n{t.detail}".rstrip()
    return Row(texts, tones, tip=tip, key=t)


# -- the tab --------------------------------------------------------------------------------------

class LedgerTab(QWidget):
    """Review the ledger: days, a day's summary and trades, the equity curve; export CSV.

    ``ledger_path``: the ledger file, or None for ``ATW_HOME/ledger.sqlite`` (resolved at each
    refresh). Call :meth:`refresh` after a run or at the cutoff.
    """

    loaded = Signal()  # the days list (and calendar, curve, totals) shows the ledger's answer
    day_loaded = Signal(str)  # ISO day whose summary and trades are shown
    exported = Signal(str, int)  # file, trades written
    failed = Signal(str)  # a ledger read or export failed: the error text

    def __init__(self, ledger_path: Path | str | None = None, parent: QWidget | None = None, *,
                 dark: bool = True) -> None:
        super().__init__(parent)
        self._ledger_path = Path(ledger_path) if ledger_path is not None else None
        self._colors = theme(dark)
        self._jobs = Background(self)
        self._overview = Overview("", False, (), ())
        self._shown: tuple[DayLine, ...] = ()
        self._selected_day: dt.date | None = None
        self._range_pinned = False
        self._quiet = False  # programmatic widget changes must not trigger reloads

        self.mode_box = QComboBox()
        self.mode_box.addItem("all modes", None)
        for m in MODES:
            self.mode_box.addItem(m, m)
        self.run_box = QComboBox()
        self.run_box.addItem("latest run per day", None)
        self.run_box.setMinimumWidth(260)
        self.from_edit, self.to_edit = QDateEdit(), QDateEdit()
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self._range_edited)
        self.refresh_button = QPushButton("Refresh")
        self.export_button = QPushButton("Export CSV…")
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.totals = QLabel("")
        self.totals.setTextFormat(Qt.TextFormat.RichText)

        bar = QHBoxLayout()
        for label, widget in (("Mode", self.mode_box), ("Run", self.run_box), ("From", self.from_edit),
                              ("To", self.to_edit)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)
        bar.addStretch(1)
        bar.addWidget(self.status)

        self.days_model = RowsModel(DAY_HEADERS, 3, self._colors, self)
        self.summary_model = RowsModel(SUMMARY_HEADERS, 2, self._colors, self)
        self.trades_model = RowsModel(TRADE_HEADERS, 6, self._colors, self)
        self.days_view = _table(self.days_model)
        self.summary_view = _table(self.summary_model)
        self.trades_view = _table(self.trades_model)
        self.calendar = QCalendarWidget()
        self.calendar.setGridVisible(False)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.calendar.setMaximumHeight(230)
        self.day_title = QLabel("")
        self.day_title.setStyleSheet("font-weight:bold; font-size:14px; padding:2px 0")
        self.trades_title = QLabel("")

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.calendar)
        lv.addWidget(self.days_view, 1)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.day_title)
        rv.addWidget(self.summary_view)
        rv.addWidget(self.trades_title)
        rv.addWidget(self.trades_view, 5)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(0, 0)
        top.setStretchFactor(1, 1)
        top.setSizes([540, 860])

        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        self.plot.setMinimumHeight(170)
        self.plot.setLabel("left", "net ₹")
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=True, y=False)
        self._zero = pg.InfiniteLine(pos=0, angle=0)
        self.plot.addItem(self._zero)
        self._curves: dict[str, tuple[pg.BarGraphItem, pg.PlotDataItem]] = {}
        self.curve_legend = QLabel("")
        self.curve_legend.setTextFormat(Qt.TextFormat.RichText)
        curve = QWidget()
        cv = QVBoxLayout(curve)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addWidget(self.curve_legend)
        cv.addWidget(self.plot, 1)

        content = QSplitter(Qt.Orientation.Vertical)
        content.addWidget(top)
        content.addWidget(curve)
        content.setSizes([620, 230])
        self.empty = QLabel("")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(content)
        self.pages.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.totals)
        layout.addWidget(self.pages, 1)

        self.mode_box.currentIndexChanged.connect(self._filter_changed)
        self.run_box.currentIndexChanged.connect(self._filter_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self._ask_export)
        self.days_view.selectionModel().currentRowChanged.connect(self._day_chosen)
        self.calendar.clicked.connect(self._calendar_clicked)
        self.run_box.setEnabled(False)
        self.set_theme(dark)

    # -- public -------------------------------------------------------------------------------

    @property
    def ledger_path(self) -> Path:
        return self._ledger_path if self._ledger_path is not None else atw_home() / LEDGER_FILE

    def mode(self) -> str | None:
        """The mode filter (None: every mode)."""
        return self.mode_box.currentData()

    def run(self) -> int | None:
        """The simulator run chosen (None: the latest run per day); only with mode sim."""
        return self.run_box.currentData() if self.mode() == SIM else None

    def set_filter(self, mode: str | None, run: int | None = None) -> None:
        """Choose the mode (None: all) and, for sim, the run; reloads."""
        self._quiet = True
        try:
            self.mode_box.setCurrentIndex(max(0, self.mode_box.findData(mode)))
            if run is not None and self.run_box.findData(run) < 0:
                self.run_box.addItem(f"run {run}", run)
            self.run_box.setCurrentIndex(max(0, self.run_box.findData(run)))
            self.run_box.setEnabled(mode == SIM)
        finally:
            self._quiet = False
        self.refresh()

    def refresh(self) -> None:
        """Reload the days (and the chosen day) from the ledger, in the background."""
        self.status.setText("loading…")
        self._jobs.run(partial(load_overview, self.ledger_path, self.mode(), self.run()), self._show_overview,
                       self._show_error, key="overview")

    def shown_days(self) -> tuple[DayLine, ...]:
        """The day rows in the list (the filter and the From/To range applied)."""
        return self._shown

    def select_day(self, day: dt.date) -> None:
        """Show ``day`` (its first row in the days list)."""
        for i, d in enumerate(self._shown):
            if d.day == day:
                self.days_view.selectRow(i)
                return

    def export_csv(self, out: Path | str) -> None:
        """Write the shown range and filter as ``atw ledger export`` does (background); emits exported."""
        if not self._shown:
            self._show_error("nothing to export: no days in the range shown")
            return
        start, end = self._range()
        self.status.setText(f"exporting to {out}…")
        self._jobs.run(partial(export_csv, self.ledger_path, Path(out), start, end, self.mode(), self.run()),
                       self._exported, self._show_error, key="export")

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
        for model in (self.days_model, self.summary_model, self.trades_model):
            model.set_colors(c)
        self.plot.setBackground(c["bg"])
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setPen(c["grid"])
            self.plot.getAxis(axis).setTextPen(c["muted"])
        self.empty.setStyleSheet(f"color:{c['muted']}; font-size:15px")
        self._paint_shown()

    def shutdown(self) -> None:
        """Stop background work (before the window closes)."""
        self._jobs.shutdown()

    # -- loading ------------------------------------------------------------------------------

    def _filter_changed(self) -> None:
        self.run_box.setEnabled(self.mode() == SIM)
        if not self._quiet:
            self.refresh()

    def _show_overview(self, ov: Overview) -> None:
        self._overview = ov
        self.status.setStyleSheet("")
        self._quiet = True
        try:
            chosen = self.run_box.currentData()
            self.run_box.clear()
            self.run_box.addItem("latest run per day", None)
            for r in ov.runs:
                self.run_box.addItem(r.label, r.id)
            self.run_box.setCurrentIndex(max(0, self.run_box.findData(chosen)))
            if ov.days and not self._range_pinned:
                self.from_edit.setDate(_qdate(ov.days[0].day))
                self.to_edit.setDate(_qdate(max(d.day for d in ov.days)))
        finally:
            self._quiet = False
        self.status.setText(f"{Path(ov.path).name}: {len(ov.days)} day row(s)" if ov.exists else "")
        self._apply_range()
        self.loaded.emit()

    def _range_edited(self) -> None:
        if self._quiet:
            return
        self._range_pinned = True
        self._apply_range()

    def _range(self) -> tuple[dt.date, dt.date]:
        return self.from_edit.date().toPython(), self.to_edit.date().toPython()  # type: ignore[return-value]

    def _apply_range(self) -> None:
        ov = self._overview
        if ov.days:
            start, end = self._range()
            self._shown = tuple(d for d in ov.days if start <= d.day <= end)
        else:
            self._shown = ()
        if not self._shown:
            self._show_empty(ov)
        else:
            self.pages.setCurrentIndex(0)
        self.days_model.set_rows([day_row(d) for d in self._shown])
        self.days_view.resizeColumnsToContents()
        self._paint_shown()
        if not self._shown:
            self.summary_model.set_rows([])
            self.trades_model.set_rows([])
            return
        days = [d.day for d in self._shown]
        want = self._selected_day if self._selected_day in days else days[-1]
        self._selected_day = None  # let the selection below load it again (the ledger may have changed)
        row = days.index(want)
        self.days_view.selectRow(row)
        self.days_view.scrollTo(self.days_model.index(row, 0))

    def _show_empty(self, ov: Overview) -> None:
        if not ov.exists:
            text = (f"No ledger yet ({ov.path}).\n\nRun a simulation (atw sim --data FILE --strategy NAME) or a "
                    "replay, or trade a session: its days, trades and net P&L after charges appear here.")
        elif ov.days:
            text = "No recorded days between the From and To dates. Widen the range to see them."
        else:
            which = f" in mode {self.mode()}" if self.mode() else ""
            text = f"No days in the ledger{which} yet.\n\nRun a simulation or a replay, or choose another mode."
        self.empty.setText(text)
        self.pages.setCurrentIndex(1)
        self.totals.setText("")
        self.day_title.setText("")

    def _day_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        line: DayLine = self.days_model.row(current.row()).key
        self.calendar.setSelectedDate(_qdate(line.day))
        if line.day == self._selected_day:
            return
        self._selected_day = line.day
        self.day_title.setText(f"{line.day:%A %d %b %Y} — by strategy and mode")
        self._jobs.run(partial(load_day, self.ledger_path, line.day, self.mode(), self.run()), self._show_day,
                       self._show_error, key="day")

    def _calendar_clicked(self, date: QDate) -> None:
        self.select_day(date.toPython())  # type: ignore[arg-type]

    def _show_day(self, detail: DayDetail) -> None:
        self.summary_model.set_rows([summary_row(s) for s in detail.summary])
        self.trades_model.set_rows([trade_row(t) for t in detail.trades])
        self.summary_view.resizeColumnsToContents()
        rows = min(max(len(detail.summary), 3), 9)  # fit the day's blocks without a scrollbar when possible
        header = self.summary_view.horizontalHeader().height()
        self.summary_view.setFixedHeight(header + rows * self.summary_view.verticalHeader().defaultSectionSize() + 20)
        self.trades_view.resizeColumnsToContents()
        net = sum((t.net for t in detail.trades), Decimal(0))
        self.trades_title.setText(f"Trades on {detail.day} ({len(detail.trades)} leg(s), net {money(net)}) — "
                                  "hover a row for its charges, stop and signal time")
        self.day_loaded.emit(detail.day.isoformat())

    def _exported(self, result: tuple[str, int]) -> None:
        out, n = result
        start, end = self._range()
        self.status.setText(f"wrote {out}: {n:,} trade(s) from {start} to {end}")
        self.exported.emit(out, n)

    def _show_error(self, text: str) -> None:
        self.status.setText(text.splitlines()[0])
        self.status.setToolTip(text)
        self.status.setStyleSheet(f"color:{self._colors['neg']}")
        self.failed.emit(text)

    def _ask_export(self) -> None:
        start, end = self._range()
        mode = self.mode() or "all"
        name, _ = QFileDialog.getSaveFileName(self, "Export trades as CSV", f"trades-{mode}-{start}-{end}.csv",
                                              "CSV files (*.csv)")
        if name:
            self.export_csv(name)

    # -- painting -----------------------------------------------------------------------------

    def _paint_shown(self) -> None:
        """Totals, calendar colours and the equity curve of the shown days."""
        if not hasattr(self, "_shown"):
            return
        c = self._colors
        shown = self._shown
        self._paint_calendar(shown)
        self._paint_curve(shown)
        if not shown:
            return
        trades = sum(d.trades for d in shown)
        wins = sum(d.wins for d in shown)
        gross = sum((d.gross for d in shown), Decimal(0))
        charges = sum((d.charges for d in shown), Decimal(0))
        net = sum((d.net for d in shown), Decimal(0))
        net_color = c["pos"] if net > 0 else c["neg"] if net < 0 else c["text"]
        win = f"{100 * wins / trades:.1f}%" if trades else "-"
        self.totals.setText(
            f"<span style='color:{c['muted']}'>{len(shown)} day(s) · {trades:,} trades · {wins:,} wins ({win}) · "
            f"gross {money(gross)} · charges {money(charges)} ·</span> "
            f"<b style='color:{net_color}; font-size:15px'>net after charges ₹ {money(net)}</b>"
        )

    def _paint_calendar(self, shown: Sequence[DayLine]) -> None:
        self.calendar.setDateTextFormat(QDate(), QTextCharFormat())  # clears every date's format
        by_day: dict[dt.date, Decimal] = {}
        for d in shown:
            by_day[d.day] = by_day.get(d.day, Decimal(0)) + d.net
        for day, net in by_day.items():
            fmt = QTextCharFormat()
            fmt.setBackground(QColor(self._colors["pos_day" if net >= 0 else "neg_day"]))
            fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setToolTip(f"{day}: net {money(net)}")
            self.calendar.setDateTextFormat(_qdate(day), fmt)
        if shown:
            self.calendar.setDateRange(_qdate(shown[0].day), _qdate(max(by_day)))

    def _paint_curve(self, shown: Sequence[DayLine]) -> None:
        """Cumulative net per mode (line) over the daily net (bars). Plot items are made once per
        mode and then only updated or hidden: discarded graphics items would be left to the
        cyclic garbage collector, which may run on a worker thread and must not delete Qt objects."""
        c = self._colors
        self._zero.setPen(pg.mkPen(c["grid"], width=1))
        modes = list(dict.fromkeys(d.mode for d in shown))
        width = 0.8 * 86400 / max(1, len(modes))
        legend = []
        for mode, (bars, line) in self._curves.items():
            bars.setVisible(mode in modes)
            line.setVisible(mode in modes)
        for k, mode in enumerate(modes):
            days = [d for d in shown if d.mode == mode]
            xs = [_epoch(d.day) for d in days]
            nets = [float(d.net) for d in days]  # drawing only; the figures shown stay Decimal
            cum, total = [], Decimal(0)
            for d in days:
                total += d.net
                cum.append(float(total))
            bars, line = self._curve_items(mode)
            offset = (k - (len(modes) - 1) / 2) * width
            bars.setOpts(x=[x + offset for x in xs], height=nets, width=width * 0.9, pen=pg.mkPen(None),
                         brushes=[pg.mkBrush(c["pos"] if n >= 0 else c["neg"]) for n in nets])
            color = c["modes"][MODES.index(mode) % len(c["modes"])] if mode in MODES else c["accent"]
            line.setData(xs, cum)
            line.setPen(pg.mkPen(color, width=2))
            line.setSymbolBrush(color)
            legend.append(f"<span style='color:{color}'>━ {mode}</span>")
        self.curve_legend.setText(
            f"<span style='color:{c['muted']}'>Equity: cumulative net after charges by day (line) and daily net "
            f"(bars)</span>&nbsp;&nbsp;" + "&nbsp;&nbsp;".join(legend))
        if shown:
            self.plot.enableAutoRange()

    def _curve_items(self, mode: str) -> tuple[pg.BarGraphItem, pg.PlotDataItem]:
        if mode not in self._curves:
            bars = pg.BarGraphItem(x=[], height=[], width=1.0)
            bars.setOpacity(0.55)
            line = pg.PlotDataItem([], [], symbol="o", symbolSize=5, symbolPen=None)
            self.plot.addItem(bars)
            self.plot.addItem(line)
            self._curves[mode] = (bars, line)
        return self._curves[mode]


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _epoch(day: dt.date) -> float:
    """Seconds of ``day`` 00:00 UTC: the date axis runs with utcOffset=0, so it labels the day itself."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()

