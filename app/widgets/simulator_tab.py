"""The simulator tab: choose data, strategies and settings, run ``atw sim`` in the background, study
the result (metrics, equity and drawdown, trades, per-strategy breakdown) and compare two runs.

The tab only displays: the run (loading, simulating, saving to the ledger) happens in a
:class:`~app.widgets.sim_worker.SimWorker` on a thread pool, and its result arrives as an
immutable :class:`~app.widgets.sim_worker.SimRun`. Every figure shown is the core report's
value; the equity curve is the trades' cumulative net P&L by exit time.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QDate, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.models.trades_model import RAW_ROLE, SIM_TRADE_COLUMNS, Kind, TradesModel, format_value
from app.widgets.progress import set_bar_value
from app.widgets.sim_worker import LoadWorker, SimRun, SimSettings, SimWorker
from core.clock import IST, LiveClock, nse_calendar
from core.errors import AtwError
from core.market.loader import LoadResult
from core.simulator.run import ENGINES
from core.strategies import REGISTRY
from core.strategies.filters import COMMON_PARAMS
from core.strategies.priority import MODES

MAX_RUNS = 10
SESSION_OPEN_MIN = 9 * 60 + 15  # 09:15 IST, minutes after midnight
SESSION_MINUTES = 375  # 09:15-15:30

PALETTES: dict[str, dict[str, str]] = {
    "dark": {
        "plot_bg": "#181a1f", "axis": "#a0a4ab", "grid": "#3a3d44", "positive": "#3fb950",
        "negative": "#f85149", "equity": "#58a6ff", "compare_a": "#58a6ff", "compare_b": "#f0883e",
        "drawdown": "#f85149", "drawdown_fill": "#f8514955", "error": "#ff7b72",
    },
    "light": {
        "plot_bg": "#ffffff", "axis": "#3c3f44", "grid": "#d0d3d8", "positive": "#1a7f37",
        "negative": "#cf222e", "equity": "#0969da", "compare_a": "#0969da", "compare_b": "#bc4c00",
        "drawdown": "#cf222e", "drawdown_fill": "#cf222e44", "error": "#cf222e",
    },
}

#: The metrics table: report key, label, kind (how it is formatted).
METRIC_ROWS: tuple[tuple[str, str, Kind], ...] = (
    ("net_pnl", "Net P&L", "money"),
    ("gross_pnl", "Gross P&L", "money"),
    ("charges", "Charges", "money"),
    ("trades", "Trades", "int"),
    ("legs", "Legs (rows)", "int"),
    ("wins", "Wins", "int"),
    ("losses", "Losses", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("expectancy", "Expectancy / trade", "money"),
    ("avg_win", "Average win", "money"),
    ("avg_loss", "Average loss", "money"),
    ("best", "Best trade", "money"),
    ("worst", "Worst trade", "money"),
    ("worst_day_pnl", "Worst day", "money"),
    ("refusals", "Entries refused by risk", "int"),
    ("max_drawdown_rupees", "Max drawdown (₹)", "money"),
    ("max_drawdown", "Max drawdown (daily)", "pct"),
    ("total_return", "Total return", "pct"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("calmar", "Calmar", "ratio"),
    ("total_points", "Total points", "points"),
    ("days", "Sessions", "int"),
    ("days_traded", "Sessions traded", "int"),
    ("avg_hold_minutes", "Avg hold (min)", "points"),
    ("max_concurrent", "Max concurrent", "int"),
    ("bars", "Bars", "int"),
)

#: The per-strategy / per-symbol breakdown columns.
BREAKDOWN_COLUMNS: tuple[tuple[str, str, Kind], ...] = (
    ("trades", "Trades", "int"),
    ("win_rate", "Win rate", "pct"),
    ("net_pnl", "Net P&L", "money"),
    ("gross_pnl", "Gross", "money"),
    ("charges", "Charges", "money"),
    ("profit_factor", "PF", "ratio"),
    ("expectancy", "Expectancy", "money"),
    ("max_drawdown_rupees", "Max DD ₹", "money"),
    ("sharpe", "Sharpe", "ratio"),
)

COMPARE_KEYS = tuple(key for key, _, _ in METRIC_ROWS if key not in ("legs", "bars", "total_points"))

#: P&L figures coloured by their sign (charges or a drawdown in green would mislead).
SIGNED_PNL = frozenset({"net_pnl", "gross_pnl", "expectancy", "avg_win", "avg_loss", "best", "worst",
                        "worst_day_pnl"})
SIGN_ROLE = RAW_ROLE + 1  # True on cells coloured by the sign of their RAW_ROLE value


@dataclass(frozen=True)
class TradeRef:
    """The trade the trader clicked, enough to draw it on a chart (times in Asia/Kolkata)."""

    symbol: str
    strategy: str
    side: str
    entry_time: pd.Timestamp
    entry_price: float
    exit_time: pd.Timestamp
    exit_price: float


# -- pure helpers ---------------------------------------------------------------------------------


def run_days(*runs: SimRun) -> list[dt.date]:
    """The NSE sessions the runs' reports cover (first_day..last_day), merged and sorted."""
    days: set[dt.date] = set()
    for run in runs:
        first, last = run.report.get("first_day"), run.report.get("last_day")
        if first and last:
            sessions = nse_calendar().sessions(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
            days.update(sess.day for sess in sessions)
    return sorted(days)


def session_x(times: pd.Series, days: Sequence[dt.date]) -> np.ndarray:
    """Times on a trading-time axis: session k spans [k, k+1], 09:15 to 15:30 IST (nights removed)."""
    ist = pd.to_datetime(times).dt.tz_convert(IST)
    ordinals = np.array([d.toordinal() for d in days], dtype=np.int64)
    day_ord = np.array([d.toordinal() for d in ist.dt.date], dtype=np.int64)
    index = np.searchsorted(ordinals, day_ord).astype(float)
    minutes = (ist.dt.hour * 60 + ist.dt.minute + ist.dt.second / 60.0).to_numpy(dtype=float) - SESSION_OPEN_MIN
    return index + np.clip(minutes / SESSION_MINUTES, 0.0, 1.0)


def equity_curve(trades: pd.DataFrame, days: Sequence[dt.date]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, equity, drawdown): trading-time position (:func:`session_x`), cumulative net P&L, and
    its fall from the running peak.

    Trades are taken in exit order (entry order among equal exits), the order the core's
    metrics use; the curve starts at 0 at the first entry, so ``-drawdown.min()`` is the
    report's ``max_drawdown_rupees``.
    """
    if len(trades) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    ordered = trades.sort_values(["exit_time", "entry_time"], kind="stable")
    first = ordered["entry_time"].iloc[[int(np.argmin(ordered["entry_time"].to_numpy()))]]
    x = np.concatenate((session_x(first, days), session_x(ordered["exit_time"], days)))
    equity = np.concatenate(([0.0], np.cumsum(ordered["net_pnl"].to_numpy(dtype=float))))
    return x, equity, equity - np.maximum.accumulate(equity)


class SessionAxis(pg.AxisItem):
    """Bottom axis of :func:`session_x` positions: session dates, and hours when zoomed in."""

    def __init__(self, orientation: str = "bottom") -> None:
        super().__init__(orientation)
        self._days: list[dt.date] = []

    def set_days(self, days: Sequence[dt.date]) -> None:
        self._days = list(days)
        self.picture = None
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        if not self._days or maxVal <= minVal:
            return []
        per_day = size / (maxVal - minVal)
        step = next((s for s in (1, 2, 5, 10, 20, 50, 100, 250, 500) if s * per_day >= 64), 1000)
        lo, hi = max(0, int(np.floor(minVal))), min(len(self._days) - 1, int(np.ceil(maxVal)))
        ticks: list[tuple[float, list[float]]] = [(float(step), [float(k) for k in range(lo, hi + 1) if k % step == 0])]
        if per_day >= 420:
            hours = [k + (h * 60 - SESSION_OPEN_MIN) / SESSION_MINUTES for k in range(lo, hi + 1) for h in range(10, 16)]
            ticks.append((60 / SESSION_MINUTES, [x for x in hours if minVal <= x <= maxVal]))
        return ticks

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            k = int(np.floor(v + 1e-9))
            frac = v - k
            if frac < 1e-6 and 0 <= k < len(self._days):
                out.append(f"{self._days[k]:%b %d}")
            else:
                minutes = SESSION_OPEN_MIN + round(frac * SESSION_MINUTES)
                out.append(f"{minutes // 60:02d}:{minutes % 60:02d}")
        return out


class RupeeAxis(pg.AxisItem):
    """Left axis with thousands separators."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{v * scale:,.0f}" if spacing * scale >= 1 else f"{v * scale:,.2f}" for v in values]


def metric_difference(a: Any, b: Any, kind: Kind) -> Any:
    """``b - a`` without float noise for money (Decimal of each report value); None if either is."""
    if a is None or b is None:
        return None
    if kind == "money":
        return Decimal(repr(float(b))) - Decimal(repr(float(a)))
    if kind == "int":
        return int(b) - int(a)
    return float(b) - float(a)


def format_difference(diff: Any, kind: Kind) -> str:
    if diff is None:
        return ""
    if kind == "pct":
        return f"{diff * 100:+.2f} pp"
    if kind == "money":
        return f"{diff:+,.2f}"
    if kind == "int":
        return f"{diff:+,d}"
    if kind == "ratio":
        return f"{diff:+.3f}"
    return f"{diff:+.2f}"


def _item(text: str, raw: Any = None, numeric: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setData(RAW_ROLE, raw)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    align = Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft
    item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    return item


def _readonly_table(rows: int, headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(rows, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(22)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    return table


def _time_plot(title: str, axis_color: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(axisItems={"bottom": SessionAxis("bottom"), "left": RupeeAxis("left")})
    plot.setTitle(title, color=axis_color, size="10pt")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    left = plot.getAxis("left")
    left.setWidth(64)
    left.enableAutoSIPrefix(False)
    return plot


# -- the tab --------------------------------------------------------------------------------------


class SimulatorTab(QWidget):
    """Run the simulator over bar files and study or compare the runs.

    ``files``: the bar files to start with (default: the bundled demo data).
    """

    run_finished = Signal(object)  # SimRun
    run_failed = Signal(str)  # the core's error text, as shown in the tab
    run_cancelled = Signal()
    trade_selected = Signal(object)  # TradeRef

    def __init__(self, files: Sequence[str | Path] | None = None, *, dark: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._worker: SimWorker | None = None
        self._loader: LoadWorker | None = None
        self._loaded: LoadResult | None = None
        self._loaded_files: tuple[str, ...] = ()
        self._runs: deque[SimRun] = deque(maxlen=MAX_RUNS)
        self._shown: SimRun | None = None
        self._count = 0
        self._palette = PALETTES["dark" if dark else "light"]
        self._build_inputs()
        self._build_results()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._inputs_scroll)
        splitter.addWidget(self._results)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 1040])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self.set_theme(dark)
        if files is None:
            from core.cli import demo_files

            try:
                files = demo_files()
            except AtwError as exc:  # a broken install: say so in the tab, start empty
                self._show_error(str(exc))
                return
        self.set_files([str(f) for f in files])

    # -- building -------------------------------------------------------------------------------

    def _build_inputs(self) -> None:
        panel = QWidget()
        box = QVBoxLayout(panel)
        box.setContentsMargins(2, 2, 6, 2)

        files_group = QGroupBox("Data files")
        self.files_list = QListWidget()
        self.files_list.setMaximumHeight(74)
        self.files_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        add, remove, demo = QPushButton("Add…"), QPushButton("Remove"), QPushButton("Demo data")
        add.clicked.connect(self._add_files)
        remove.clicked.connect(self._remove_files)
        demo.clicked.connect(self._use_demo)
        buttons = QHBoxLayout()
        for b in (add, remove, demo):
            buttons.addWidget(b)
        fl = QVBoxLayout(files_group)
        fl.addWidget(self.files_list)
        fl.addLayout(buttons)
        box.addWidget(files_group)

        lists = QHBoxLayout()
        inst_group, strat_group = QGroupBox("Instruments"), QGroupBox("Strategies")
        self.instruments_list = QListWidget()
        self.strategies_list = QListWidget()
        for name in sorted(REGISTRY):
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setToolTip(_strategy_help(name))
            self.strategies_list.addItem(item)
        for group, widget in ((inst_group, self.instruments_list), (strat_group, self.strategies_list)):
            widget.setMaximumHeight(96)
            QVBoxLayout(group).addWidget(widget)
            lists.addWidget(group)
        box.addLayout(lists)

        form_group = QGroupBox("Settings")
        form = QFormLayout(form_group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.from_check, self.from_date = QCheckBox("from"), QDateEdit()
        self.to_check, self.to_date = QCheckBox("to"), QDateEdit()
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
            form.addRow(check, edit)
        self.params_edit = QPlainTextEdit()
        self.params_edit.setPlaceholderText("key=value, one per line\nfast=9\nema_cross.slow=21")
        self.params_edit.setToolTip("\n\n".join(_strategy_help(n) for n in sorted(REGISTRY)))
        self.params_edit.setMaximumHeight(72)
        form.addRow("Parameters", self.params_edit)
        self.qty_spin = QSpinBox()
        self.qty_spin.setRange(1, 10_000_000)
        self.qty_spin.setValue(50)
        self.capital_spin = QDoubleSpinBox()
        self.capital_spin.setRange(1.0, 1e12)
        self.capital_spin.setDecimals(2)
        self.capital_spin.setGroupSeparatorShown(True)
        self.capital_spin.setValue(1_000_000.0)
        self.costs_combo = _combo(("zerodha", "none"))
        self.slippage_combo = _combo(("1tick", "0", "2tick", "2bps"), editable=True)
        self.engine_combo = _combo(ENGINES)
        self.priority_combo = _combo(MODES)
        for label, widget in (("Qty / entry", self.qty_spin), ("Capital ₹", self.capital_spin),
                              ("Costs", self.costs_combo), ("Slippage", self.slippage_combo),
                              ("Engine", self.engine_combo), ("Priority", self.priority_combo)):
            form.addRow(label, widget)
        self.risk_edit = QPlainTextEdit()
        self.risk_edit.setPlaceholderText("risk settings, key=value, one per line (docs/risk.md)\n"
                                          "sizing=risk\nrisk_per_trade_pct=0.25\nheat_cap_pct=1\ndd_hard_pct=1.5")
        self.risk_edit.setToolTip("With risk settings the whole portfolio runs through the live engine, sized and "
                                  "checked as live: run once with them and once without, then compare the two "
                                  "runs (worst day, max drawdown, entries refused). Empty: the strategies alone.")
        self.risk_edit.setMaximumHeight(72)
        form.addRow("Risk", self.risk_edit)
        self.ledger_check = QCheckBox("Save the run to the ledger")
        self.ledger_check.setChecked(True)
        form.addRow(self.ledger_check)
        box.addWidget(form_group)

        self.run_button = QPushButton("Run")
        self.run_button.setMinimumHeight(32)
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setMinimumHeight(32)
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.start_run)
        self.cancel_button.clicked.connect(self.cancel_run)
        actions = QHBoxLayout()
        actions.addWidget(self.run_button, 2)
        actions.addWidget(self.cancel_button, 1)
        box.addLayout(actions)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        set_bar_value(self.progress_bar, 0)
        self.progress_bar.setFormat("%p %")
        box.addWidget(self.progress_bar)
        self.status_label = QLabel("Ready.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.status_label)
        box.addStretch(1)

        self._inputs_scroll = QScrollArea()
        self._inputs_scroll.setWidget(panel)
        self._inputs_scroll.setWidgetResizable(True)
        self._inputs_scroll.setMinimumWidth(360)
        self._inputs_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def _build_results(self) -> None:
        self._results = QWidget()
        outer = QVBoxLayout(self._results)
        outer.setContentsMargins(2, 2, 2, 2)
        head = QHBoxLayout()
        head.addWidget(QLabel("Run:"))
        self.run_combo = QComboBox()
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.run_combo.currentIndexChanged.connect(self._show_picked)
        head.addWidget(self.run_combo)
        self.run_note = QLabel("")
        self.run_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        head.addWidget(self.run_note, 1)
        outer.addLayout(head)

        self.results_tabs = QTabWidget()
        outer.addWidget(self.results_tabs, 1)

        # summary: metrics | equity + drawdown + breakdown
        self.metrics_table = _readonly_table(len(METRIC_ROWS), ("Metric", "Value"))
        for r, (key, label, _) in enumerate(METRIC_ROWS):
            self.metrics_table.setItem(r, 0, _item(label, key, numeric=False))
        header = self.metrics_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.metrics_table.setMinimumWidth(280)
        self.metrics_table.setMaximumWidth(340)

        self.equity_plot = _time_plot("Equity: cumulative net P&L (₹) by exit time", self._palette["axis"])
        self.drawdown_plot = _time_plot("Drawdown from peak (₹)", self._palette["axis"])
        self.drawdown_plot.setXLink(self.equity_plot)
        self.equity_curve = self.equity_plot.plot([], [], stepMode=None)
        self.drawdown_curve = self.drawdown_plot.plot([], [], fillLevel=0)

        self.breakdown_combo = _combo(("by strategy", "by symbol"))
        self.breakdown_combo.currentIndexChanged.connect(lambda _=0: self._show_breakdown())
        self.breakdown_table = _readonly_table(0, ("Name", *[t for _, t, _ in BREAKDOWN_COLUMNS]))
        self.breakdown_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.breakdown_table.horizontalHeader().setStretchLastSection(True)
        bd = QWidget()
        bdl = QVBoxLayout(bd)
        bdl.setContentsMargins(0, 0, 0, 0)
        bdh = QHBoxLayout()
        bdh.addWidget(QLabel("Breakdown"))
        bdh.addWidget(self.breakdown_combo)
        bdh.addStretch(1)
        bdl.addLayout(bdh)
        bdl.addWidget(self.breakdown_table)

        charts = QSplitter(Qt.Orientation.Vertical)
        charts.addWidget(self.equity_plot)
        charts.addWidget(self.drawdown_plot)
        charts.addWidget(bd)
        charts.setSizes([430, 200, 140])
        summary = QSplitter(Qt.Orientation.Horizontal)
        summary.addWidget(self.metrics_table)
        summary.addWidget(charts)
        summary.setStretchFactor(1, 1)
        self.results_tabs.addTab(summary, "Summary")

        # trades
        self.trades_model = TradesModel(SIM_TRADE_COLUMNS, self)
        self.trades_view = QTableView()
        self.trades_view.setModel(self.trades_model)
        self.trades_view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # trades.csv order
        self.trades_view.setSortingEnabled(True)
        self.trades_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trades_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.trades_view.setAlternatingRowColors(True)
        self.trades_view.verticalHeader().setDefaultSectionSize(22)
        self.trades_view.verticalHeader().setVisible(False)
        self.trades_view.horizontalHeader().setStretchLastSection(True)
        self.trades_view.horizontalHeader().setResizeContentsPrecision(200)  # rows sampled to size columns
        self.trades_view.selectionModel().currentRowChanged.connect(self._trade_row_changed)
        self.results_tabs.addTab(self.trades_view, "Trades")

        # compare
        self.compare_a = QComboBox()
        self.compare_b = QComboBox()
        for combo in (self.compare_a, self.compare_b):
            combo.setMinimumWidth(300)
            combo.currentIndexChanged.connect(lambda _=0: self._show_compare())
        pick = QHBoxLayout()
        self.compare_label_a, self.compare_label_b = QLabel("■ A"), QLabel("■ B")  # the curves' colours
        pick.addWidget(self.compare_label_a)
        pick.addWidget(self.compare_a, 1)
        pick.addWidget(self.compare_label_b)
        pick.addWidget(self.compare_b, 1)
        self.compare_table = _readonly_table(len(COMPARE_KEYS), ("Metric", "A", "B", "B − A"))
        labels = {key: label for key, label, _ in METRIC_ROWS}
        for r, key in enumerate(COMPARE_KEYS):
            self.compare_table.setItem(r, 0, _item(labels[key], key, numeric=False))
        ch = self.compare_table.horizontalHeader()
        ch.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        ch.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.compare_table.setMinimumWidth(460)
        self.compare_table.setMaximumWidth(560)
        self.compare_plot = _time_plot("Equity A and B (₹)", self._palette["axis"])
        self.compare_curve_a = self.compare_plot.plot([], [], name="A")
        self.compare_curve_b = self.compare_plot.plot([], [], name="B")
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(self.compare_table)
        body.addWidget(self.compare_plot)
        body.setStretchFactor(1, 1)
        compare = QWidget()
        cl = QVBoxLayout(compare)
        cl.setContentsMargins(0, 4, 0, 0)
        cl.addLayout(pick)
        cl.addWidget(body, 1)
        self.results_tabs.addTab(compare, "Compare")

    # -- theme ----------------------------------------------------------------------------------

    def set_theme(self, dark: bool) -> None:
        """Switch the plots' and P&L colours to the dark or light palette."""
        p = self._palette = PALETTES["dark" if dark else "light"]
        for plot in (self.equity_plot, self.drawdown_plot, self.compare_plot):
            plot.setBackground(p["plot_bg"])
            plot.getPlotItem().titleLabel.setText(plot.getPlotItem().titleLabel.text, color=p["axis"])
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(p["grid"]))
                axis.setTextPen(pg.mkPen(p["axis"]))
        self.equity_curve.setPen(pg.mkPen(p["equity"], width=2))
        self.drawdown_curve.setPen(pg.mkPen(p["drawdown"], width=1))
        self.drawdown_curve.setBrush(pg.mkBrush(p["drawdown_fill"]))
        self.compare_curve_a.setPen(pg.mkPen(p["compare_a"], width=2))
        self.compare_curve_b.setPen(pg.mkPen(p["compare_b"], width=2))
        self.compare_label_a.setStyleSheet(f"color:{p['compare_a']}; font-weight:bold")
        self.compare_label_b.setStyleSheet(f"color:{p['compare_b']}; font-weight:bold")
        self.trades_model.set_colors(p["positive"], p["negative"])
        self._color_money_items()

    def _money_color(self, value: Any) -> QColor | None:
        if value is None or not isinstance(value, (int, float, Decimal)) or value == 0:
            return None
        return QColor(self._palette["positive" if value > 0 else "negative"])

    def _color_money_items(self) -> None:
        for table in (self.metrics_table, self.breakdown_table, self.compare_table):
            for r in range(table.rowCount()):
                for c in range(1, table.columnCount()):
                    item = table.item(r, c)
                    if item is not None and item.data(SIGN_ROLE):
                        color = self._money_color(item.data(RAW_ROLE))
                        if color is not None:
                            item.setForeground(color)

    # -- inputs ---------------------------------------------------------------------------------

    def files(self) -> list[str]:
        """The chosen bar files (full paths)."""
        return [self.files_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.files_list.count())]

    def set_files(self, files: Sequence[str]) -> None:
        """Use these bar files; their instruments are listed once loaded (in the background)."""
        self.files_list.clear()
        for f in dict.fromkeys(files):
            item = QListWidgetItem(Path(f).name)
            item.setData(Qt.ItemDataRole.UserRole, f)
            item.setToolTip(f)
            self.files_list.addItem(item)
        self._scan_files()

    def _add_files(self) -> None:
        chosen, _ = QFileDialog.getOpenFileNames(self, "Add bar files", "", "Bar files (*.csv *.parquet *.txt);;All files (*)")
        if chosen:
            self.set_files([*self.files(), *chosen])

    def _remove_files(self) -> None:
        doomed = {i.data(Qt.ItemDataRole.UserRole) for i in self.files_list.selectedItems()}
        self.set_files([f for f in self.files() if f not in doomed])

    def _use_demo(self) -> None:
        from core.cli import demo_files

        self.set_files([str(f) for f in demo_files()])

    def _scan_files(self) -> None:
        files = tuple(self.files())
        self.instruments_list.clear()
        if not files:
            self._show_error("Add at least one bar file.")
            return
        self.instruments_list.addItem("loading…")
        loader = LoadWorker(files)
        loader.signals.finished.connect(lambda data, f=files: self._files_loaded(f, data))
        loader.signals.failed.connect(lambda text, f=files: self._files_failed(f, text))
        self._loader = loader
        self._pool.start(loader)

    def _files_loaded(self, files: tuple[str, ...], data: LoadResult) -> None:
        if files != tuple(self.files()):
            return  # the list changed while loading; a newer scan is on its way
        self._loaded, self._loaded_files = data, files
        self.instruments_list.clear()
        for symbol in data.symbols:
            item = QListWidgetItem(symbol)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.instruments_list.addItem(item)
        days = [d for s in data.series for d in (s.days[0], s.days[-1]) if len(s)]
        if days:
            for edit in (self.from_date, self.to_date):
                edit.setDateRange(QDate(min(days)), QDate(max(days)))
            self.from_date.setDate(QDate(min(days)))
            self.to_date.setDate(QDate(max(days)))
        if self._worker is None:
            self._set_status(f"Loaded {len(data.series)} instruments, {sum(len(s) for s in data.series):,} bars.")

    def _files_failed(self, files: tuple[str, ...], text: str) -> None:
        if files != tuple(self.files()):
            return
        self.instruments_list.clear()
        self._loaded, self._loaded_files = None, ()
        self._show_error(text)

    def settings(self) -> SimSettings:
        """The run the inputs describe (validated by the core when it runs)."""
        symbols: tuple[str, ...] | None = None
        if self._loaded is not None and self._loaded_files == tuple(self.files()):
            symbols = tuple(
                self.instruments_list.item(i).text() for i in range(self.instruments_list.count())
                if self.instruments_list.item(i).checkState() == Qt.CheckState.Checked
            )
            if len(symbols) == len(self._loaded.symbols):
                symbols = None  # all of them: the same run as `atw sim` over these files
        lines = [ln.strip() for ln in self.params_edit.toPlainText().splitlines()]
        slippage = self.slippage_combo.currentText().strip()
        return SimSettings(
            files=tuple(self.files()),
            strategies=tuple(
                self.strategies_list.item(i).text() for i in range(self.strategies_list.count())
                if self.strategies_list.item(i).checkState() == Qt.CheckState.Checked
            ),
            symbols=symbols,
            sets=tuple(ln for ln in lines if ln and not ln.startswith("#")),
            qty=self.qty_spin.value(),
            capital=self.capital_spin.value(),
            costs=self.costs_combo.currentText(),
            slippage=slippage or None,
            engine=self.engine_combo.currentText(),
            priority=self.priority_combo.currentText(),
            start=self.from_date.date().toPython() if self.from_check.isChecked() else None,
            end=self.to_date.date().toPython() if self.to_check.isChecked() else None,
            save_to_ledger=self.ledger_check.isChecked(),
            risk=tuple(ln.strip() for ln in self.risk_edit.toPlainText().splitlines()
                       if ln.strip() and not ln.strip().startswith("#")),
        )

    # -- running --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start_run(self) -> None:
        """Run the simulator with the current inputs in the background."""
        if self._worker is not None:
            return
        settings = self.settings()
        self._count += 1
        now = LiveClock().now()
        engine = "event+risk" if settings.risk else settings.engine
        label = f"#{self._count} {now:%H:%M:%S}  {'+'.join(settings.strategies) or '-'}  {engine}"
        worker = SimWorker(settings, label)
        worker.signals.progress.connect(self._on_progress)
        worker.signals.phase.connect(lambda text: self._set_status(f"{text.capitalize()}…"))
        worker.signals.finished.connect(self._on_finished)
        worker.signals.failed.connect(self._on_failed)
        worker.signals.cancelled.connect(self._on_cancelled)
        self._worker = worker
        set_bar_value(self.progress_bar, 0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._set_status("Starting…")
        self._pool.start(worker)

    def cancel_run(self) -> None:
        """Stop the running simulation at its next step."""
        if self._worker is not None:
            self._worker.cancel()
            self.cancel_button.setEnabled(False)
            self._set_status("Cancelling…")

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel any run and wait for the background jobs (call before the window closes)."""
        if self._worker is not None:
            self._worker.cancel()
        return self._pool.waitForDone(timeout_ms)

    def _on_progress(self, done: int, total: int) -> None:
        set_bar_value(self.progress_bar, done * 1000 // max(total, 1))

    def _finish(self) -> None:
        self._worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_failed(self, text: str) -> None:
        self._finish()
        set_bar_value(self.progress_bar, 0)
        self._show_error(text)
        self.run_failed.emit(text)

    def _on_cancelled(self) -> None:
        self._finish()
        self._set_status("Cancelled. Ready for another run.")
        self.run_cancelled.emit()

    def _on_finished(self, run: SimRun) -> None:
        self._finish()
        self._runs.append(run)
        self._refresh_run_lists()
        self.run_combo.setCurrentIndex(0)  # newest first
        self._show_run(run)
        r = run.report
        text = (f"{run.label}: {r['trades']:,} trades, net {format_value(r['net_pnl'], 'money')} "
                f"in {r['elapsed_s']:.2f} s.")
        if run.ledger_run is not None:
            text += f" Saved as ledger run {run.ledger_run}."
        if run.ledger_error:
            self._show_error(f"{text}\nNot saved to the ledger: {run.ledger_error}")
        else:
            self._set_status(text)
        self.run_finished.emit(run)

    def _set_status(self, text: str) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.setText(text)

    def _show_error(self, text: str) -> None:
        self.status_label.setStyleSheet(f"color:{self._palette['error']}; font-weight:bold")
        self.status_label.setText(text)

    # -- results --------------------------------------------------------------------------------

    def runs(self) -> tuple[SimRun, ...]:
        """The kept runs, oldest first (at most ``MAX_RUNS``)."""
        return tuple(self._runs)

    def shown_run(self) -> SimRun | None:
        return self._shown

    def bars_for(self, symbol: str) -> pd.DataFrame:
        """The bars of ``symbol`` (the shown run's series, else the loaded files'), to chart a trade."""
        if self._shown is not None:
            try:
                return self._shown.bars_for(symbol)
            except KeyError:
                pass
        if self._loaded is not None and symbol in self._loaded.symbols:
            return self._loaded.get(symbol).frame
        raise KeyError(f"no bars of {symbol} loaded")

    def _refresh_run_lists(self) -> None:
        newest_first = list(reversed(self._runs))
        for combo in (self.run_combo, self.compare_a, self.compare_b):
            combo.blockSignals(True)
            combo.clear()
            for run in newest_first:
                combo.addItem(f"{run.label}   net {format_value(run.report['net_pnl'], 'money')}", run)
            combo.blockSignals(False)
        self.compare_b.setCurrentIndex(0)
        self.compare_a.setCurrentIndex(1 if len(newest_first) > 1 else 0)
        self._show_compare()

    def _show_picked(self, index: int) -> None:
        run = self.run_combo.itemData(index)
        if run is not None and run is not self._shown:
            self._show_run(run)

    def _show_run(self, run: SimRun) -> None:
        self._shown = run
        r = run.report
        for row, (key, _, kind) in enumerate(METRIC_ROWS):
            value = r.get(key)
            item = _item(format_value(value, kind) if value is not None else "–", value)
            item.setData(SIGN_ROLE, key in SIGNED_PNL)
            self.metrics_table.setItem(row, 1, item)
        days = run_days(run)
        for plot in (self.equity_plot, self.drawdown_plot):
            plot.getAxis("bottom").set_days(days)
        x, equity, drawdown = equity_curve(run.trades, days)
        self.equity_curve.setData(x, equity)
        self.drawdown_curve.setData(x, drawdown)
        self.equity_plot.enableAutoRange()
        self.drawdown_plot.enableAutoRange()
        self.trades_model.set_frame(run.trades)
        self.trades_view.resizeColumnsToContents()
        self._show_breakdown()
        s = run.settings
        parts = [f"{len(run.series)} instruments", f"{s.costs} costs", f"slippage {s.slippage or '0'}",
                 f"qty {s.qty}", f"priority {s.priority}"]
        if s.start or s.end:
            parts.append(f"{s.start or '…'} → {s.end or '…'}")
        if run.ledger_run is not None:
            parts.append(f"ledger run {run.ledger_run}")
        self.run_note.setText("   ·   ".join(parts))
        self.run_note.setToolTip("The same run from the command line:\natw " + " ".join(s.cli_argv()))
        self._color_money_items()

    def _show_breakdown(self) -> None:
        run = self._shown
        key = "per_strategy" if self.breakdown_combo.currentIndex() == 0 else "per_symbol"
        groups: dict[str, dict[str, Any]] = run.report.get(key, {}) if run is not None else {}
        self.breakdown_table.setHorizontalHeaderItem(0, QTableWidgetItem("Strategy" if key == "per_strategy" else "Symbol"))
        self.breakdown_table.setRowCount(len(groups))
        for row, (name, metrics) in enumerate(groups.items()):
            self.breakdown_table.setItem(row, 0, _item(name, name, numeric=False))
            for col, (mkey, _, kind) in enumerate(BREAKDOWN_COLUMNS, start=1):
                value = metrics.get(mkey)
                item = _item(format_value(value, kind) if value is not None else "–", value)
                item.setData(SIGN_ROLE, mkey in SIGNED_PNL)
                self.breakdown_table.setItem(row, col, item)
        self._color_money_items()

    def _show_compare(self) -> None:
        a: SimRun | None = self.compare_a.currentData()
        b: SimRun | None = self.compare_b.currentData()
        kinds = {key: kind for key, _, kind in METRIC_ROWS}
        for row, key in enumerate(COMPARE_KEYS):
            kind = kinds[key]
            va = a.report.get(key) if a is not None else None
            vb = b.report.get(key) if b is not None else None
            diff = metric_difference(va, vb, kind)
            for col, (value, text) in enumerate(
                ((va, format_value(va, kind)), (vb, format_value(vb, kind)), (diff, format_difference(diff, kind))),
                start=1,
            ):
                item = _item(text if value is not None or col == 3 else "–", value)
                item.setData(SIGN_ROLE, key in SIGNED_PNL)
                self.compare_table.setItem(row, col, item)
        days = run_days(*[r for r in (a, b) if r is not None])
        self.compare_plot.getAxis("bottom").set_days(days)
        for run, curve in ((a, self.compare_curve_a), (b, self.compare_curve_b)):
            if run is None:
                curve.setData([], [])
            else:
                x, equity, _ = equity_curve(run.trades, days)
                curve.setData(x, equity)
        self.compare_plot.enableAutoRange()
        self._color_money_items()

    def _trade_row_changed(self, current: Any, _previous: Any = None) -> None:
        if not current.isValid():
            return
        row = self.trades_model.row(current.row())
        self.trade_selected.emit(TradeRef(
            symbol=str(row["symbol"]), strategy=str(row["strategy"]), side=str(row["side"]),
            entry_time=pd.Timestamp(row["entry_time"]).tz_convert(IST), entry_price=float(row["entry_price"]),
            exit_time=pd.Timestamp(row["exit_time"]).tz_convert(IST), exit_price=float(row["exit_price"]),
        ))


def _combo(items: Sequence[str], editable: bool = False) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(items))
    combo.setEditable(editable)
    return combo


def _strategy_help(name: str) -> str:
    cls = REGISTRY[name]
    keys = ", ".join([*cls.PARAMS, *COMMON_PARAMS])
    return f"{name}: {cls.summary}\nparameters: {keys}"


__all__ = ["METRIC_ROWS", "PALETTES", "SimulatorTab", "TradeRef", "equity_curve", "metric_difference"]
