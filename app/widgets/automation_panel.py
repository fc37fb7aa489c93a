"""The automation panel: the instrument x strategy arm grid, the kill switch, state and countdown.

It only displays state: a click posts a command (Arm / Disarm / Kill) to the service, and the
grid changes when a snapshot from the engine says the pair is armed, never on the click itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.models.arm_grid_model import ArmGridModel
from app.theme import MODE_COLOURS
from app.widgets.live_label import LiveLabel
from core.automation.events import Arm, Command, Disarm, Kill
from core.automation.snapshot import Snapshot

STATE_STYLES = {
    "active": "background:#1f7a3a; color:white",
    "reducing": "background:#b7791f; color:black",
    "halted": "background:#b00020; color:white",
}


class AutomationPanel(QWidget):
    """Arm grid + kill switch over the pairs the trader watches."""

    def __init__(self, post: Callable[[Command], None], pairs: Sequence[tuple[str, str]], mode: str) -> None:
        super().__init__()
        self._post = post
        self.grid = ArmGridModel(pairs)

        self.mode_label = QLabel(f"MODE: {mode.upper()}")
        back, fore = MODE_COLOURS.get(mode, MODE_COLOURS["live"])
        self.mode_label.setStyleSheet(f"font-size:16px; font-weight:bold; padding:4px; background:{back}; color:{fore}")
        self.state_label = QLabel("STATE: -")
        self.state_label.setStyleSheet("font-size:16px; font-weight:bold; padding:4px")
        self._state_shown = ""
        self.cutoff_label = LiveLabel("cutoff: market closed  ", "cutoff: -")
        self.kill_button = QPushButton("KILL SWITCH  (F12)")
        self.kill_button.setMinimumHeight(48)
        self.kill_button.setStyleSheet("background:#b00020; color:white; font-size:18px; font-weight:bold")
        self.kill_button.clicked.connect(lambda: self.kill("kill switch button"))

        self.view = QTableView()
        self.view.setModel(self.grid)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.clicked.connect(self._clicked)

        top = QHBoxLayout()
        for widget in (self.mode_label, self.state_label, self.cutoff_label):
            top.addWidget(widget)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.kill_button)

    def kill(self, why: str) -> None:
        """The kill switch: no confirmation, it is the path that matters when it matters."""
        self._post(Kill(why))

    def cell_text(self, symbol: str, strategy: str) -> str:
        cell = self.grid.cell(symbol, strategy)
        return "" if cell is None else cell.text

    def click(self, symbol: str, strategy: str) -> None:
        """What a click on the pair's cell does (for keyboard paths and tests)."""
        self._clicked(self.grid.index_of(symbol, strategy))

    def show_snapshot(self, snap: Snapshot) -> None:
        self.grid.apply(snap.slots)
        state = snap.state
        reason = f" ({snap.halt_reason})" if snap.halt_reason else ""
        text = f"STATE: {state.upper()}{reason}"
        if text != self._state_shown:  # restyling is costly: only when the state changes
            self._state_shown = text
            self.state_label.setText(text)
            self.state_label.setStyleSheet("font-size:16px; font-weight:bold; padding:4px; "
                                           + STATE_STYLES.get(state, ""))
        left = snap.cutoff_in
        if left is None:
            self.cutoff_label.setText("cutoff: market closed")
        else:
            minutes, seconds = divmod(int(left.total_seconds()), 60)
            self.cutoff_label.setText(f"cutoff in {minutes // 60:d}:{minutes % 60:02d}:{seconds:02d}")

    def _clicked(self, index: QModelIndex) -> None:
        pair = self.grid.pair(index)
        if pair is not None:
            self._post(Disarm(*pair) if self.grid.armed(*pair) else Arm(*pair))
