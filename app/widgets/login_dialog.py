"""The Kite login dialog: the login page in the browser, the redirect caught on 127.0.0.1, or pasted."""

from __future__ import annotations

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import BrokerError
from core.execution.kite_session import RequestTokenCatcher, request_token_from


class LoginDialog(QDialog):
    """Shows Kite's login URL, opens it, and closes with the request token (:attr:`token`) when
    the redirect arrives or the trader pastes the address they were sent to."""

    def __init__(self, url: str, catcher: RequestTokenCatcher, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Log in to Kite")
        self.url, self.catcher, self.token = url, catcher, ""
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Log in to Zerodha Kite in your browser. When Kite sends you back, this window "
                                f"closes by itself (redirect URL {catcher.url})."))
        self.open_button = QPushButton("Open Kite login")
        self.open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(url)))
        layout.addWidget(self.open_button)
        layout.addWidget(QLabel("Or paste the address Kite sent you to (or its request token):"))
        self.paste = QLineEdit()
        self.paste.returnPressed.connect(self._pasted)
        layout.addWidget(self.paste)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #e5484d;")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._timer = QTimer(self, interval=200)
        self._timer.timeout.connect(self._check_redirect)
        self._timer.start()

    def _check_redirect(self) -> None:
        try:
            token = self.catcher.poll()
        except BrokerError as exc:
            self.error.setText(exc.message)
            return
        if token:
            self.token = token
            self.accept()

    def _pasted(self) -> None:
        try:
            self.token = request_token_from(self.paste.text())
        except BrokerError as exc:
            self.error.setText(exc.message)
            return
        self.accept()


def ask_in_dialog(parent: QWidget | None = None):  # type: ignore[no-untyped-def]
    """A ``session_token`` ``ask`` that shows :class:`LoginDialog`."""

    def ask(url: str, catcher: RequestTokenCatcher) -> str:
        dialog = LoginDialog(url, catcher, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.token:
            raise BrokerError("the Kite login was cancelled", where="login")
        return dialog.token

    return ask
