"""The risk panel: trading state and why, margin (RMS), day P&L against the loss limit, limits.

It only displays state, except for one deliberate act: "Reset lock…" (enabled only while a kill
switch or a daily loss lock holds) asks for confirmation, then posts ``ResetLock('trader')``.
Bars run 0..10,000 (basis points of the limit), so ``bar.value()`` is exact to 0.01 %.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.models.palette import desk_palette
from app.theme import restyle
from app.widgets.live_label import LiveLabel
from app.widgets.portfolio_box import PortfolioBox
from app.widgets.progress import BAR_MAX, fraction_bp, level_colour, set_bar_value
from core.automation.events import Command, ResetLock
from core.automation.snapshot import Alert, Snapshot
from core.risk.limits import format_inr
from core.risk.state import LOCK_NAMES, LOCKS

_REASONS = {
    "kill": "Kill switch: every working order cancelled, every position flattened. "
            "Trading is locked until a human resets it.",
    "loss": "Daily loss limit reached: no new entries, open positions keep their stops. "
            "Locked until a human resets it.",
    "drawdown": "Hard drawdown level reached: every position flattened, trading halted. "
                "Locked until a human resets it.",
    "cutoff": "Past today's cutoff: no new entries; open positions are closed at the cutoff.",
}
_PLAIN = {
    "active": "Trading normally: entries allowed within the limits below.",
    "reducing": "Reducing: exits only, no new entries.",
    "halted": "Halted: no orders go out.",
}


def reason_text(state: str, halt_reason: str) -> str:
    """The trading state's reason in words."""
    return _REASONS.get(halt_reason) or _PLAIN.get(state, state)


def _countdown(left: dt.timedelta | None) -> str:
    if left is None:
        return "no session today"
    if left <= dt.timedelta(0):
        return "cutoff passed"
    minutes = int(left.total_seconds()) // 60
    return f"cutoff in {minutes // 60} h {minutes % 60:02d} min"



class RiskPanel(QWidget):
    """Trading state, RMS margin, day P&L vs the daily loss limit, open positions vs their cap."""

    def __init__(self, post: Callable[[Command], None], confirm: Callable[[str], bool] | None = None, *,
                 dark: bool = True) -> None:
        super().__init__()
        self._post = post
        self._confirm = confirm or self._ask
        self._palette = desk_palette(dark)
        self._snap: Snapshot | None = None
        self.loss_used: Decimal | None = None  # share of the daily loss limit used (None: limit off)

        self.state_label = QLabel("—")
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state_label.setMinimumWidth(260)
        self.reason_label = QLabel("waiting for the engine's first snapshot")
        self.reason_label.setWordWrap(True)
        self.session_label = LiveLabel("canary · paper-replay broker · cutoff in 9 h 59 min · as of 23:59:59")
        self.reset_button = QPushButton("Reset lock…")
        self.reset_button.setMinimumHeight(40)
        self.reset_button.setEnabled(False)
        self.reset_button.setToolTip("Lift the kill switch, the daily loss lock or the drawdown lock (asks first). "
                                     "Pairs stay disarmed: arm again deliberately.")
        self.reset_button.clicked.connect(self.reset_lock)

        words = QVBoxLayout()
        words.addWidget(self.reason_label)
        words.addWidget(self.session_label)
        self._state_row = state_row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        state_row.addWidget(self.state_label)
        state_row.addLayout(words, 1)
        state_row.addWidget(self.reset_button)

        # value labels change on every snapshot: fixed-size LiveLabels, so a new figure does not
        # re-lay-out the panel
        self.capital_label, self.cash_label, self.blocked_label = _rupees(), _rupees(), _rupees()
        self.used_label, self.available_label = _rupees(), _rupees()
        self.utilisation_bar, self.utilisation_text = self._bar(), QLabel()
        margin = self._group("Margin (RMS)", [
            ("Capital", self.capital_label), ("Cash", self.cash_label),
            ("Blocked by working orders", self.blocked_label), ("Used by positions", self.used_label),
            ("Available", self.available_label)], ("Utilisation", self.utilisation_bar, self.utilisation_text))

        self.realised_label, self.unrealised_label, self.day_pnl_label = _rupees(), _rupees(), _rupees()
        self.charges_label, self.loss_limit_label = _rupees(), _rupees()
        self.loss_bar, self.loss_text = self._bar(), QLabel()
        pnl = self._group("Day P&&L", [
            ("Realised", self.realised_label), ("Charges", self.charges_label), ("Unrealised", self.unrealised_label),
            ("Day P&L, net", self.day_pnl_label), ("Daily loss limit", self.loss_limit_label)],
            ("Loss limit used", self.loss_bar, self.loss_text))

        self.positions_label, self.per_trade_label = LiveLabel("9999 of 9999"), _rupees()
        self.order_value_label, self.rate_label = _rupees(), LiveLabel("9999 / s, 99999 / min")
        self.positions_bar, self.positions_text = self._bar(), QLabel()
        limits = self._group("Limits", [
            ("Open positions", self.positions_label), ("Max loss per trade", self.per_trade_label),
            ("Max order value", self.order_value_label), ("Order rate", self.rate_label)],
            ("Position slots used", self.positions_bar, self.positions_text))

        self.alerts_list = QListWidget()
        self.alerts_list.setWordWrap(True)
        self._alerts_shown: tuple[Alert, ...] = ()
        alerts = QGroupBox("Recent alerts (newest first)")
        alerts.setStyleSheet("QGroupBox { font-size:15px; font-weight:bold } QListWidget { font-size:14px;"
                             " font-weight:normal }")
        QVBoxLayout(alerts).addWidget(self.alerts_list)

        self.portfolio = PortfolioBox()
        self._boxes = boxes = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        for box in (margin, pnl, limits, self.portfolio):
            boxes.addWidget(box, 1)
        self._box_widgets = (margin, pnl, limits, self.portfolio)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addLayout(state_row)
        layout.addLayout(boxes)
        layout.addWidget(alerts, 1)
        self._scroll = QScrollArea()  # a short dock scrolls rather than squeezing the figures
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._scroll)
        self.set_theme(dark)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Side by side when wide; stacked in a narrow dock (numbers must never be clipped)."""
        super().resizeEvent(event)
        side_by_side = sum(b.minimumSizeHint().width() for b in self._box_widgets) + 40
        direction = (QBoxLayout.Direction.LeftToRight if event.size().width() >= side_by_side
                     else QBoxLayout.Direction.TopToBottom)
        if self._boxes.direction() != direction:
            self._boxes.setDirection(direction)
            self._state_row.setDirection(direction)

    # ---- input from the engine -----------------------------------------------------------
    def apply_snapshot(self, snap: Snapshot) -> None:
        """Show the snapshot's risk picture."""
        self._snap = snap
        p = self._palette
        rms, limits = snap.rms, snap.limits
        self.state_label.setText(snap.state.upper())
        self.reason_label.setText(reason_text(snap.state, snap.halt_reason))
        self.session_label.setText(f"{snap.mode} · {snap.broker} broker · {_countdown(snap.cutoff_in)}"
                                   f" · as of {snap.time:%H:%M:%S}")
        self.reset_button.setEnabled(snap.halt_reason in LOCKS)
        self._paint_state()

        self.capital_label.setText(format_inr(rms.capital))
        self.cash_label.setText(format_inr(rms.cash))
        self.blocked_label.setText(format_inr(rms.blocked))
        self.used_label.setText(format_inr(rms.used))
        self.available_label.setText(format_inr(rms.available))
        self._fill(self.utilisation_bar, self.utilisation_text, rms.utilisation, f"{rms.utilisation * 100:.2f} % of funds")

        day = snap.realised - snap.day_charges + snap.unrealised  # what the daily loss limit acts on
        self.realised_label.setText(format_inr(snap.realised))
        self.charges_label.setText(format_inr(-snap.day_charges) if snap.day_charges else format_inr(Decimal(0)))
        self.unrealised_label.setText(format_inr(snap.unrealised))
        self.day_pnl_label.setText(format_inr(day))
        for label, value in ((self.realised_label, snap.realised), (self.unrealised_label, snap.unrealised),
                             (self.day_pnl_label, day)):
            colour = p.up if value > 0 else p.down if value < 0 else p.text
            restyle(label, f"color:{colour}; font-weight:bold")
        loss = max(-day, Decimal(0))
        loss_limit = min((x for x in (limits.daily_loss_limit, limits.pct_of_capital(limits.daily_loss_pct)) if x > 0),
                         default=Decimal(0))  # the rupee limit or the % of capital, the tighter
        if loss_limit > 0:
            self.loss_used = loss / loss_limit
            self.loss_limit_label.setText(format_inr(loss_limit))
            self.loss_bar.setEnabled(True)
            self._fill(self.loss_bar, self.loss_text, self.loss_used,
                       f"{format_inr(loss)} of {format_inr(loss_limit)}"
                       f"  ({self.loss_used * 100:.1f} %)")
        else:
            self.loss_used = None
            self.loss_limit_label.setText("off")
            self.loss_bar.setEnabled(False)
            set_bar_value(self.loss_bar, 0)
            self.loss_bar.setFormat("daily loss limit off")
            self.loss_text.setText("daily loss limit off")

        n = len(snap.positions)
        cap = limits.max_open_positions
        self.positions_label.setText(f"{n} of {cap}")
        self._fill(self.positions_bar, self.positions_text, Decimal(n) / Decimal(cap), f"{n} / {cap} open")
        self.per_trade_label.setText(self._rupees_or_off(limits.max_loss_per_trade))
        self.order_value_label.setText(self._rupees_or_off(limits.max_order_value))
        self.rate_label.setText(f"{limits.orders_per_second} / s, {limits.orders_per_minute} / min")
        self.portfolio.show_view(snap.portfolio, p)
        if snap.alerts != self._alerts_shown:
            self._show_alerts(snap.alerts)

    def _show_alerts(self, alerts: tuple[Alert, ...]) -> None:
        self._alerts_shown = alerts
        p = self._palette
        colours = {"warning": p.warn, "error": p.down, "critical": p.down}
        self.alerts_list.clear()
        for a in reversed(alerts):
            item = QListWidgetItem(f"{a.time:%H:%M:%S}   {a.level.upper():<8}   {a.text}")
            item.setForeground(QColor(colours.get(a.level, p.text)))
            self.alerts_list.addItem(item)

    # ---- the one act ---------------------------------------------------------------------
    def reset_lock(self) -> ResetLock | None:
        """Ask, then post ResetLock('trader'); the command, or None when not locked or declined."""
        snap = self._snap
        if snap is None or snap.halt_reason not in LOCKS:
            return None
        what = LOCK_NAMES.get(snap.halt_reason, "lock")
        if not self._confirm(f"Lift the {what}?\n\nTrading goes back to ACTIVE (HALTED if today's cutoff has "
                             "passed). Every pair stays disarmed until you arm it again."):
            return None
        command = ResetLock("trader")
        self._post(command)
        return command

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Reset lock", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # ---- look ----------------------------------------------------------------------------
    def set_theme(self, dark: bool) -> None:
        """Switch the dark / light colours (and repaint from the last snapshot)."""
        self._palette = desk_palette(dark)
        self._alerts_shown = ()  # re-colour them too
        if self._snap is not None:
            self.apply_snapshot(self._snap)
        else:
            self._paint_state()

    def state_colour(self) -> str:
        """The state badge's background colour (``#rrggbb``)."""
        p = self._palette
        state = self._snap.state if self._snap is not None else ""
        return {"active": p.ok, "reducing": p.warn, "halted": p.danger}.get(state, p.panel_bg)

    def _paint_state(self) -> None:
        p = self._palette
        state = self._snap.state if self._snap is not None else ""
        text = p.warn_text if state == "reducing" else p.badge_text if state else p.dim
        restyle(self.state_label, f"background:{self.state_colour()}; color:{text}; font-size:34px;"
                                       " font-weight:bold; padding:12px 28px; border-radius:6px")
        restyle(self.reason_label, f"font-size:16px; color:{p.text}")
        restyle(self.session_label, f"color:{p.dim}")
        locked = self._snap is not None and self._snap.halt_reason in LOCKS
        restyle(self.reset_button, f"border:2px solid {p.warn}; border-radius:5px; padding:6px 18px; font-weight:bold;"
                                  f" font-size:15px; color:{p.text}" if locked else "padding:6px 18px; font-size:15px")

    @staticmethod
    def _rupees_or_off(value: Decimal) -> str:
        return format_inr(value) if value > 0 else "off"

    def _fill(self, bar: QProgressBar, label: QLabel, fraction: Decimal, text: str) -> None:
        set_bar_value(bar, fraction_bp(fraction))
        bar.setFormat(text)
        label.setText(text)
        p = self._palette
        colour = level_colour(fraction, p)
        restyle(label, f"color:{p.text if colour == p.ok else colour}; font-weight:bold")
        restyle(bar, f"QProgressBar {{ border:1px solid {p.border}; border-radius:4px; background:{p.panel_bg};"
                    f" min-height:16px; max-height:16px }}"
                    f" QProgressBar::chunk {{ background:{colour}; border-radius:3px }}")

    @staticmethod
    def _bar() -> QProgressBar:
        bar = QProgressBar()
        bar.setRange(0, BAR_MAX)
        bar.setTextVisible(False)  # the text sits in a label above: readable on any fill
        return bar

    @staticmethod
    def _group(title: str, rows: list[tuple[str, QLabel]],
               bar: tuple[str, QProgressBar, QLabel]) -> QGroupBox:
        box = QGroupBox(title)
        box.setStyleSheet("QGroupBox { font-size:15px; font-weight:bold } QLabel { font-size:15px }")
        grid = QGridLayout(box)
        grid.setVerticalSpacing(8)
        name, progress, text = bar
        text.setWordWrap(True)  # a narrow dock wraps the figure rather than clipping it
        for r, (caption, label) in enumerate([*rows, (name, text)]):
            grid.addWidget(QLabel(caption), r, 0)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(label, r, 1)
        grid.addWidget(progress, len(rows) + 1, 0, 1, 2)
        return box


def _rupees() -> LiveLabel:
    return LiveLabel("-Rs 99,99,99,999.99")
