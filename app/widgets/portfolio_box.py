"""The risk panel's portfolio box: how entries are sized, each portfolio limit with its use and
what would trip it, the book's tail risk, the strategies cooling down.

Each limit is a row: its name, "used of limit", a bar (ok / warn from 70 % / danger from 90 %)
and what is left before it trips and what happens then. A limit that is off is not shown; the
rows are rebuilt only when the set of limits changes (a setting changed), otherwise only their
figures change.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QProgressBar

from app.models.palette import DeskPalette
from app.theme import restyle
from app.widgets.progress import BAR_MAX, fraction_bp, level_colour, set_bar_value
from core.automation.snapshot import Gauge, PortfolioView
from core.risk.limits import format_inr


class PortfolioBox(QGroupBox):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__("Portfolio risk")
        self.setStyleSheet("QGroupBox { font-size:15px; font-weight:bold } QLabel { font-size:14px }")
        self._grid = QGridLayout(self)
        self._grid.setVerticalSpacing(6)
        self.sizing_label = QLabel("—")
        self.tail_label = QLabel("tail risk: waiting for 30 bars of history")
        self.cooldown_label = QLabel("")
        for label in (self.sizing_label, self.tail_label, self.cooldown_label):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._rows: dict[str, tuple[QLabel, QProgressBar, QLabel]] = {}
        self._names: tuple[str, ...] = ()
        self._layout_rows(())

    def show_view(self, view: PortfolioView | None, palette: DeskPalette) -> None:
        if view is None:
            return
        self.sizing_label.setText(f"Sizing: {view.sizing}")
        names = tuple(g.name for g in view.gauges)
        if names != self._names:
            self._layout_rows(view.gauges)
        for gauge in view.gauges:
            self._show(gauge, palette)
        if view.var99 is None:
            self.tail_label.setText("Tail risk (15 min): waiting for 30 bars of history, or no position open")
        else:
            stress = f"; worst stress {view.worst_stress[0]}: {format_inr(view.worst_stress[1])}" \
                if view.worst_stress else ""
            self.tail_label.setText(f"Tail risk (15 min): VaR 95% {format_inr(view.var95 or Decimal(0))}, "
                                    f"VaR 99% {format_inr(view.var99)}, CVaR 99% "
                                    f"{format_inr(view.cvar99 or Decimal(0))}{stress}")
        self.cooldown_label.setText("Cooling down: " + ", ".join(view.cooldowns) if view.cooldowns else "")
        level = {"soft": palette.warn, "daily_loss": palette.danger, "hard": palette.danger}.get(view.drawdown_level)
        restyle(self.sizing_label, f"color:{level}; font-weight:bold" if level else "")

    def row_text(self, name: str) -> tuple[str, str]:
        """The figures and the trip text of the row ``name`` (for tests and tooltips)."""
        figures, _bar, trips = self._rows[name]
        return figures.text(), trips.text()

    def _layout_rows(self, gauges: tuple[Gauge, ...]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget not in (self.sizing_label, self.tail_label, self.cooldown_label):
                widget.hide()  # gone from this paint on, not only once the loop deletes it
                widget.deleteLater()
        self._rows.clear()
        self._grid.addWidget(self.sizing_label, 0, 0, 1, 3)
        row = 1
        for gauge in gauges:
            name, figures, trips = QLabel(gauge.name), QLabel(), QLabel()
            figures.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            trips.setWordWrap(True)
            bar = QProgressBar()
            bar.setRange(0, BAR_MAX)
            bar.setTextVisible(False)
            bar.setMaximumHeight(12)
            self._grid.addWidget(name, row, 0)
            self._grid.addWidget(figures, row, 1)
            self._grid.addWidget(bar, row, 2)
            self._grid.addWidget(trips, row + 1, 0, 1, 3)
            self._rows[gauge.name] = (figures, bar, trips)
            row += 2
        if not gauges:
            none = QLabel("No portfolio limit is set (docs/risk.md): entries are checked by the limits above.")
            none.setWordWrap(True)
            self._grid.addWidget(none, row, 0, 1, 3)
            row += 1
        self._grid.addWidget(self.tail_label, row, 0, 1, 3)
        self._grid.addWidget(self.cooldown_label, row + 1, 0, 1, 3)
        self._names = tuple(g.name for g in gauges)

    def _show(self, gauge: Gauge, palette: DeskPalette) -> None:
        figures, bar, trips = self._rows[gauge.name]
        figures.setText(f"{format_inr(gauge.used)} of {format_inr(gauge.limit)}" if gauge.limit > 0
                        else f"{format_inr(gauge.used)} (no limit)")
        bar.setVisible(gauge.limit > 0)
        set_bar_value(bar, fraction_bp(gauge.fraction))
        colour = level_colour(gauge.fraction, palette)
        restyle(bar, f"QProgressBar {{ border:1px solid {palette.border}; border-radius:3px; "
                     f"background:{palette.panel_bg} }} QProgressBar::chunk {{ background:{colour} }}")
        trips.setText(gauge.trips)
        restyle(trips, f"color:{palette.dim}; font-size:12px")

