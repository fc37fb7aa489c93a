"""Logging in to the broker again from a running window.

Kite's access token can end before its 06:00 expiry (revoked, or a login elsewhere). The
engine then holds new entries ("log in again", exits only) and the snapshot says so. This
control shows an amber "Log in to Kite" button while the hold lasts, runs the login once by
itself when the hold first appears (the trader may be looking elsewhere), and hands the new
token to the automation service, which gives it to the session on the engine's thread (the REST
client, the ticker's socket, the broker watch). It is in the Session menu at any time too.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QPushButton, QToolBar

from app.service import AutomationService
from core.automation.broker_watch import SESSION_ENDED
from core.automation.snapshot import Snapshot
from core.errors import AtwError


class BrokerLogin(QObject):
    """See the module docstring. ``relogin`` logs in (a dialog, a browser) and returns the new
    access token, or raises an :class:`~core.errors.AtwError` saying why not."""

    def __init__(self, window: QMainWindow, service: AutomationService, relogin: Callable[[], str],
                 toolbar: QToolBar, menu: QMenu) -> None:
        super().__init__(window)
        self.window, self.service, self.relogin = window, service, relogin
        self.button = QPushButton("Log in to Kite")
        self.button.setToolTip("The Kite session has ended: exits only until you log in again")
        self.button.setStyleSheet("background:#f0a830; color:#1b1b1b; font-weight:bold; padding:3px 14px")
        self.button.clicked.connect(self.log_in)
        self.button_action = toolbar.addWidget(self.button)
        self.button_action.setVisible(False)
        self.action = QAction("Log in to Kite again", window)
        self.action.triggered.connect(self.log_in)
        menu.addAction(self.action)
        self.session_ended = False
        self.logins = 0  # logins handed to the service
        self._prompted = False
        self._busy = False

    def show(self, snap: Snapshot) -> None:
        """A snapshot in: the button while the session has ended; the login once by itself."""
        self.session_ended = snap.entry_hold == SESSION_ENDED
        self.button_action.setVisible(self.session_ended)
        if self.session_ended and not self._prompted:
            self._prompted = True
            QTimer.singleShot(0, self.log_in)  # from the event loop, not from inside an update
        elif not self.session_ended:
            self._prompted = False

    def log_in(self) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            token = self.relogin()
        except AtwError as exc:
            self.window.statusBar().showMessage(f"ERROR: not logged in to Kite: {exc.message}", 30_000)
            return
        finally:
            self._busy = False
        self.logins += 1
        self.service.renew_session(token)
        self.window.statusBar().showMessage("logged in to Kite again: the session goes on", 15_000)
