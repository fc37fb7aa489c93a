"""LiveLabel: a label whose text changes many times a second without re-laying-out the window.

A new text makes a ``QLabel`` invalidate its parent's layout, which invalidates the next one up,
all the way to the main window: on a 15 Hz update the whole desk was re-laid out and repainted
(1.1 megapixels) for a changed price. A LiveLabel is sized once for the widest text it will show
(``sample``) and kept at that size, and Qt stops propagating geometry changes at a fixed-size
widget. It re-measures itself when its font or style sheet changes, and grows (never shrinks) for
a text wider than its sample, so nothing is ever cut off.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QWidget


class LiveLabel(QLabel):
    """A fixed-size label sized for ``sample`` (its widest expected text)."""

    def __init__(self, sample: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._sample = sample
        self._pinning = False
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._pin()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        # Measuring shapes the text (costly at 15 Hz); samples are written with the widest digits,
        # so a text no longer than its sample fits and only a longer one is measured.
        if not self._pinning and len(text) > len(self._sample) and \
                self.fontMetrics().horizontalAdvance(text) > self.contentsRect().width():
            self.set_sample(text)

    def setContentsMargins(self, *margins: object) -> None:  # noqa: N802 - Qt's name
        super().setContentsMargins(*margins)  # type: ignore[arg-type]
        self._pin()

    def set_sample(self, sample: str) -> None:
        """Re-size for a new widest text."""
        self._sample = sample
        self._pin()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange) and not self._pinning:
            self._pin()

    def _pin(self) -> None:
        self._pinning = True
        try:
            shown = self.text()
            self.setText(self._sample)
            self.ensurePolished()
            hint = self.sizeHint()
            self.setText(shown)
            self.setFixedSize(hint)
        finally:
            self._pinning = False
