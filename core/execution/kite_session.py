"""Logging in to Kite Connect and keeping the session: the access token lives in the OS keyring only.

The flow (kite-wire-spec §4): the trader opens Kite's login page (:func:`login_url`), logs in,
and Kite redirects the browser to the app's registered redirect URL with a ``request_token``.
:class:`RequestTokenCatcher` is a one-shot listener on 127.0.0.1 for that redirect (register
``http://127.0.0.1:<port>/`` as the app's redirect URL); a trader on another machine can paste
the redirected address or the token instead (:func:`request_token_from`). The token is exchanged
for an access token with ``generate_session`` (the API secret, which also lives in the keyring,
signs the exchange).

**Where secrets go**: the API secret and the access token are written with the ``keyring``
library to the operating system's credential store (Keychain, Windows Credential Locker, Secret
Service/KWallet) and nowhere else: never a file, a log line or the journal. Without a usable
keyring the session refuses to store them (:class:`~core.errors.ConfigError` says what to
install) rather than fall back to a file. A token is valid until 06:00 IST the next morning
(a regulatory expiry); one older than the last 06:00 is not offered.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import keyring
from keyring.errors import KeyringError

from core.clock import IST, LiveClock
from core.errors import BrokerError, ConfigError

SERVICE = "autotrade-workstation/kite"
EXPIRY = dt.time(6, 0)  # IST: every Kite access token ends at the next 06:00


def login_url(api_key: str) -> str:
    """Kite's login page for the app (the client's own address; its ``root`` does not apply)."""
    return f"https://kite.zerodha.com/connect/login?api_key={api_key}&v=3"


def request_token_from(text: str) -> str:
    """The request token from what the trader pasted: the redirected address, or the token itself."""
    text = text.strip()
    if "request_token=" in text or "status=" in text:
        query = parse_qs(urlsplit(text).query)
        status = query.get("status", ["success"])[-1]
        if status != "success":
            raise BrokerError(f"Kite's login did not succeed (status={status})", where="login")
        text = query.get("request_token", [""])[-1]
    if not text.isalnum():
        raise BrokerError("that is not a Kite request token (expected letters and digits, or the "
                          "address Kite redirected to)", where="login")
    return text


def last_expiry(now: dt.datetime) -> dt.datetime:
    """The most recent 06:00 IST at or before ``now``: tokens issued before it have expired."""
    local = now.astimezone(IST)
    at = dt.datetime.combine(local.date(), EXPIRY, IST)
    return at if local >= at else at - dt.timedelta(days=1)


@dataclass(frozen=True)
class StoredSession:
    access_token: str
    issued_at: dt.datetime


class TokenStore:
    """The API secret and today's access token of one API key, in the OS keyring."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def save_secret(self, api_secret: str) -> None:
        self._set("api_secret", api_secret)

    def secret(self) -> str | None:
        return self._get("api_secret")

    def save_session(self, access_token: str, issued_at: dt.datetime) -> None:
        self._set("access_token", f"{issued_at.astimezone(IST).isoformat()} {access_token}")

    def session(self, now: dt.datetime) -> StoredSession | None:
        """Today's session, or None (none stored, or issued before the last 06:00 IST expiry)."""
        raw = self._get("access_token")
        if not raw or " " not in raw:
            return None
        issued_text, token = raw.split(" ", 1)
        issued = dt.datetime.fromisoformat(issued_text)
        if issued < last_expiry(now):
            return None
        return StoredSession(token, issued)

    def forget_session(self) -> None:
        try:
            keyring.delete_password(SERVICE, f"{self.api_key}:access_token")
        except KeyringError:
            pass  # nothing stored: nothing to forget

    def _set(self, what: str, value: str) -> None:
        try:
            keyring.set_password(SERVICE, f"{self.api_key}:{what}", value)
        except KeyringError as exc:
            raise ConfigError(f"cannot store the Kite {what.replace('_', ' ')} in the OS keyring ({exc}); "
                              "install or unlock one (macOS Keychain, Windows Credential Locker, GNOME "
                              "Keyring or KWallet): atw never writes it to a file", where="keyring") from None

    def _get(self, what: str) -> str | None:
        try:
            return keyring.get_password(SERVICE, f"{self.api_key}:{what}")
        except KeyringError as exc:
            raise ConfigError(f"cannot read the OS keyring ({exc})", where="keyring") from None


def open_session(kite: Any, store: TokenStore, request_token: str, now: dt.datetime) -> StoredSession:
    """Exchange a request token for an access token (signed with the stored secret), put it in the
    client and the keyring. ``kite`` is a ``KiteConnect``."""
    secret = store.secret()
    if not secret:
        raise ConfigError("no Kite API secret in the keyring: save it first (atw kite-login --save-secret)",
                          where="keyring")
    from kiteconnect import exceptions as kex

    try:
        data = kite.generate_session(request_token, api_secret=secret)
    except kex.KiteException as exc:
        raise BrokerError(f"Kite refused the login: {type(exc).__name__}: {exc}", where="login") from None
    token = str(data["access_token"])
    kite.set_access_token(token)
    store.save_session(token, now)
    return StoredSession(token, now)


class RequestTokenCatcher:
    """A one-shot HTTP listener on 127.0.0.1 for Kite's login redirect (register its :attr:`url`
    as the app's redirect URL). :meth:`wait` returns the request token."""

    def __init__(self, port: int = 0) -> None:
        self._token: str | None = None
        self._error: str | None = None
        self._done = threading.Event()
        catcher = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class's name
                return  # the request line carries the token: never logged

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if "request_token=" not in self.path and "status=" not in self.path:
                    self.send_error(404)  # the browser's favicon and the like: keep waiting
                    return
                try:
                    token = request_token_from(self.path)
                    catcher._token, text = token, "Logged in to Kite. You can close this window."
                except BrokerError as exc:
                    catcher._error, text = exc.message, f"Kite login failed: {exc.message}"
                body = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                catcher._done.set()

        self._server = HTTPServer(("127.0.0.1", port), _Handler)
        self._thread = threading.Thread(target=self._serve, name="kite-login-catcher", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def _serve(self) -> None:
        while not self._done.is_set():
            self._server.handle_request()
        self._server.server_close()

    def poll(self) -> str | None:
        """The request token once the redirect came (a UI's timer asks), else None."""
        if not self._done.is_set():
            return None
        if self._error or not self._token:
            raise BrokerError(self._error or "the redirect carried no request token", where="login")
        return self._token

    def wait(self, timeout_s: float = 300.0) -> str:
        if not self._done.wait(timeout_s):
            raise BrokerError(f"no login redirect within {timeout_s:.0f} s", where="login")
        if self._error or not self._token:
            raise BrokerError(self._error or "the redirect carried no request token", where="login")
        return self._token


Ask = Callable[[str, RequestTokenCatcher], str]  # (login URL, catcher) -> request token


def session_token(kite: Any, api_key: str, *, ask: Ask, kite_root: str | None = None,
                  redirect_port: int = 0, now: dt.datetime | None = None, again: bool = False) -> str:
    """Today's access token: from the keyring, or from a new login. Against the replica
    (``kite_root``) its login page redirects at once; against Kite, ``ask`` shows the trader the
    login URL (a browser, a dialog) and returns the request token, caught by the catcher or pasted.
    The API secret is read from the keyring, or once from ``$ATW_KITE_API_SECRET`` into it.
    ``again``: Kite refused the stored token (it was revoked before its expiry): forget it, log in."""
    store = TokenStore(api_key)
    now = now or LiveClock().now()
    if again:
        store.forget_session()
    stored = store.session(now)
    if stored is not None:
        kite.set_access_token(stored.access_token)
        return stored.access_token
    if not store.secret():
        secret = os.environ.get("ATW_KITE_API_SECRET")
        if not secret:
            raise ConfigError("no Kite API secret in the keyring: set $ATW_KITE_API_SECRET once (it is moved "
                              "to the keyring)", where="keyring")
        store.save_secret(secret)
    catcher = RequestTokenCatcher(port=redirect_port)
    if kite_root:
        import requests

        url = f"{kite_root}/connect/login?api_key={api_key}&v=3&redirect_url={catcher.url}"
        requests.get(url, timeout=10, proxies={"http": None, "https": None})
        request_token = catcher.wait(30)
    else:
        request_token = ask(login_url(api_key), catcher)
    return open_session(kite, store, request_token, now).access_token
