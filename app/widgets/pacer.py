"""Pacer: lets a panel repaint at most ``hz`` times a second, and never holds the last one back."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Pacer:
    """Paces a panel's ``show`` (which applies whatever the panel is holding).

    :meth:`offer` shows at once when the interval since the last show has passed. Otherwise the
    change is held for a later offer (the window paints offers in its update steps, with the
    engine held: the cheap place to paint), and a one-shot timer shows it one interval after its
    turn came if no offer has by then, so a held change appears even when no further update
    comes. :meth:`show_now` shows at once whatever the interval (a row that opens or closes)."""

    def __init__(self, hz: float, show: Callable[[], None], parent: QObject) -> None:
        self.interval = 1.0 / hz
        self._show = show
        self._shown_at = -float("inf")
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.show_now())

    def offer(self, now: float | None = None) -> None:
        """Something is held: show it now if its turn has come, else when it comes.
        ``now``: a monotonic time, for tests."""
        now = time.monotonic() if now is None else now
        wait = self._shown_at + self.interval - now
        if wait <= 0:
            self.show_now(now)
        elif not self._timer.isActive():
            self._timer.start(int((wait + self.interval) * 1000) + 1)

    def show_now(self, now: float | None = None) -> None:
        self._timer.stop()
        self._shown_at = time.monotonic() if now is None else now
        self._show()
