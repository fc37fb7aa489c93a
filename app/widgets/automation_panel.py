"""The automation panel: the instrument x strategy arm grid, the kill switch, state and countdown.

It only displays state: a click posts a command (Arm / Disarm / Kill) to the service, and the
grid changes when a snapshot from the engine says the pair is armed, never on the click itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.theme import MODE_COLOURS
from core.automation.events import Arm, Command, Disarm, Kill
from core.automation.snapshot import Snapshot

ARMED_STYLE = "background:#1f7a3a; color:white; font-weight:bold"
FAILED_STYLE = "background:#7a1f1f; color:white"
IDLE_STYLE = ""
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
        self._armed: dict[tuple[str, str], bool] = {pair: False for pair in pairs}
        symbols = list(dict.fromkeys(s for s, _ in pairs))
        strategies = list(dict.fromkeys(st for _, st in pairs))

        self.mode_label = QLabel(f"MODE: {mode.upper()}")
        back, fore = MODE_COLOURS.get(mode, MODE_COLOURS["live"])
        self.mode_label.setStyleSheet(f"font-size:16px; font-weight:bold; padding:4px; background:{back}; color:{fore}")
        self.state_label = QLabel("STATE: -")
        self.state_label.setStyleSheet("font-size:16px; font-weight:bold; padding:4px")
        self.cutoff_label = QLabel("cutoff: -")
        self.kill_button = QPushButton("KILL SWITCH  (F12)")
        self.kill_button.setMinimumHeight(48)
        self.kill_button.setStyleSheet("background:#b00020; color:white; font-size:18px; font-weight:bold")
        self.kill_button.clicked.connect(lambda: self.kill("kill switch button"))

        grid = QGridLayout()
        for c, strategy in enumerate(strategies, start=1):
            grid.addWidget(QLabel(strategy), 0, c, alignment=Qt.AlignmentFlag.AlignCenter)
        self.buttons: dict[tuple[str, str], QPushButton] = {}
        for r, symbol in enumerate(symbols, start=1):
            grid.addWidget(QLabel(symbol), r, 0)
            for c, strategy in enumerate(strategies, start=1):
                if (symbol, strategy) not in self._armed:
                    continue
                button = QPushButton("arm")
                button.setObjectName(f"arm:{symbol}:{strategy}")
                button.clicked.connect(lambda _=False, key=(symbol, strategy): self._toggle(key))
                grid.addWidget(button, r, c)
                self.buttons[(symbol, strategy)] = button

        top = QHBoxLayout()
        for widget in (self.mode_label, self.state_label, self.cutoff_label):
            top.addWidget(widget)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addWidget(self.kill_button)
        layout.addStretch(1)  # the grid and the switch stay compact at the top of a tall dock

    def kill(self, why: str) -> None:
        """The kill switch: no confirmation, it is the path that matters when it matters."""
        self._post(Kill(why))

    def show_snapshot(self, snap: Snapshot) -> None:
        armed = {(s.symbol, s.strategy): s for s in snap.slots}
        for key, button in self.buttons.items():
            view = armed.get(key)
            on = bool(view and view.armed)
            self._armed[key] = on
            failed = view.failed if view is not None and not on else ""
            # the pre-arm check's verdict stays on the button until the next attempt
            button.setText("ARMED" if on else ("✗ check failed" if failed else "arm"))
            button.setStyleSheet(ARMED_STYLE if on else (FAILED_STYLE if failed else IDLE_STYLE))
            button.setToolTip(f"pre-arm check failed: {failed}" if failed else
                              ("armed: pre-arm checks passed; click to disarm" if on else "click to arm"))
        state = snap.state
        reason = f" ({snap.halt_reason})" if snap.halt_reason else ""
        self.state_label.setText(f"STATE: {state.upper()}{reason}")
        self.state_label.setStyleSheet("font-size:16px; font-weight:bold; padding:4px; " + STATE_STYLES.get(state, ""))
        left = snap.cutoff_in
        if left is None:
            self.cutoff_label.setText("cutoff: market closed")
        else:
            minutes, seconds = divmod(int(left.total_seconds()), 60)
            self.cutoff_label.setText(f"cutoff in {minutes // 60:d}:{minutes % 60:02d}:{seconds:02d}")

    def _toggle(self, key: tuple[str, str]) -> None:
        self._post(Disarm(*key) if self._armed.get(key) else Arm(*key))
