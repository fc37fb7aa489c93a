"""LiveGroupBox: a group box whose title (a count, a P&L) changes often without re-laying-out the window.

``QGroupBox.setTitle`` always calls ``updateGeometry``; the layout request climbs through every
parent layout to the main window, and the whole window is laid out and repainted: under a tick
storm the positions panel's titles did that six times a second. A LiveGroupBox keeps the title Qt
knows (its geometry) fixed and paints the live title over it, so a new title repaints the box
alone. Like ``LiveLabel``, the fixed title is a sample of the widest expected text, re-set (one
relayout) only when a live title is longer.
"""

from __future__ import annotations

from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QGroupBox, QStyle, QStyleOptionGroupBox, QStylePainter, QWidget


class LiveGroupBox(QGroupBox):
    """A QGroupBox with a cheap :meth:`set_live_title` (module docstring)."""

    def __init__(self, sample: str, parent: QWidget | None = None) -> None:
        super().__init__(sample, parent)
        self._live = ""

    def set_live_title(self, text: str) -> None:
        """Show ``text`` as the title; only the box repaints."""
        if text == self._live:
            return
        self._live = text
        if len(text) > len(self.title()):
            self.setTitle(text)  # a wider sample: one relayout, then cheap again
        self.update()

    def live_title(self) -> str:
        """The title shown."""
        return self._live

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        option = QStyleOptionGroupBox()
        self.initStyleOption(option)
        option.text = self._live
        painter.drawComplexControl(QStyle.ComplexControl.CC_GroupBox, option)
