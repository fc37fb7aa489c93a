"""The Session menu's mode switch: which session to run next (replay, paper, shadow, canary,
live) and, for a Kite session, the API key, the pairs to arm and their settings. Filled from the
session running now; the choice comes back as the desktop's own arguments
(:func:`app.desktop_args.desktop_parser`), so it is checked exactly as ``atw --mode ...`` is."""

from __future__ import annotations

import argparse
import re

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from app.desktop_args import MODES, desktop_parser, session_argv

MODE_HELP = {
    "replay": "the bundled demo day, paper fills; no account needed",
    "paper": "Kite's live data, paper fills; no order reaches Kite",
    "shadow": "Kite's live data; decisions journaled, no order sent",
    "canary": "REAL orders at Kite, every pair capped at the canary quantity",
    "live": "REAL orders at Kite (you will be asked to type LIVE)",
}


def _items(text: str) -> list[str]:
    return [item for item in re.split(r"[,\s]+", text.strip()) if item]


class ModeDialog(QDialog):
    """See the module docstring; :meth:`chosen` is the session asked for."""

    def __init__(self, current: argparse.Namespace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Switch mode")
        form = QFormLayout(self)
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.mode.setCurrentText(current.mode)
        self.help = QLabel()
        self.api_key = QLineEdit(current.api_key or "")
        self.pairs = QLineEdit(", ".join(current.arm))
        self.pairs.setPlaceholderText("INFY:ema_cross, RELIANCE:atr_reversal")
        self.sets = QLineEdit(", ".join(current.set))
        self.sets.setPlaceholderText("qty=50, stop=1.5atr")
        self.canary_qty = QSpinBox()
        self.canary_qty.setRange(1, 1_000_000)
        self.canary_qty.setValue(current.canary_qty)
        self.kite_root = QLineEdit(current.kite_root or "")
        self.kite_root.setPlaceholderText("empty: Kite itself; http://127.0.0.1:PORT: the loopback replica")
        self.clock = QComboBox()
        self.clock.addItems(["wall", "feed"])
        self.clock.setCurrentText(current.clock)
        self.product = QComboBox()
        self.product.addItems(["MIS", "NRML", "CNC"])
        self.product.setCurrentText(current.product)
        self.current = current
        form.addRow("Mode", self.mode)
        form.addRow("", self.help)
        self.kite_fields = [self.api_key, self.pairs, self.sets, self.canary_qty, self.product, self.kite_root,
                            self.clock]
        for label, field in zip(("Kite API key", "Pairs to arm", "Strategy settings", "Canary quantity", "Product",
                                 "Kite root", "Clock"), self.kite_fields, strict=True):
            form.addRow(label, field)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.mode.currentTextChanged.connect(self._mode_changed)
        self._mode_changed(self.mode.currentText())

    def _mode_changed(self, mode: str) -> None:
        self.help.setText(MODE_HELP.get(mode, ""))
        for field in self.kite_fields:
            field.setEnabled(mode != "replay")

    def chosen(self) -> argparse.Namespace:
        """The session asked for, as the desktop's arguments (parsed again: checked as the
        command line's are)."""
        asked = argparse.Namespace(**vars(self.current))
        asked.mode = self.mode.currentText()
        asked.api_key = self.api_key.text().strip()
        asked.arm = _items(self.pairs.text())
        asked.set = _items(self.sets.text())
        asked.canary_qty = self.canary_qty.value()
        asked.kite_root = self.kite_root.text().strip() or None
        asked.clock = self.clock.currentText()
        asked.product = self.product.currentText()
        return desktop_parser().parse_args(session_argv(asked))
