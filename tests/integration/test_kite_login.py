"""Logging in to Kite: the redirect caught on 127.0.0.1, the session opened with the real client,
the secret and the token kept in the OS keyring only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import keyring
import pytest
import requests
from keyring.backends.fail import Keyring as NoKeyring
from kiteconnect import KiteConnect

from core.clock import IST
from core.errors import BrokerError, ConfigError
from core.execution.kite_session import (
    RequestTokenCatcher,
    TokenStore,
    login_url,
    open_session,
    request_token_from,
)
from tests.integration.kite_fixtures import KiteRig
from tests.integration.memory_keyring import MemoryKeyring

NOW = dt.datetime(2026, 12, 3, 8, 50, tzinfo=IST)


@pytest.fixture
def vault() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    store = MemoryKeyring()
    keyring.set_keyring(store)
    try:
        yield store
    finally:
        keyring.set_keyring(previous)


def test_the_login_redirect_is_caught_and_the_session_kept_in_the_keyring(rig: KiteRig, vault: MemoryKeyring) -> None:
    catcher = RequestTokenCatcher()
    assert requests.get(catcher.url + "favicon.ico", timeout=5).status_code == 404  # the browser's extras
    minted = rig.replica.mint_request_token()
    page = requests.get(f"{catcher.url}?action=login&type=login&status=success&request_token={minted}", timeout=5)
    assert "Logged in" in page.text and catcher.wait(5) == minted
    store = TokenStore(rig.replica.api_key)
    store.save_secret(rig.replica.api_secret)
    kite = KiteConnect(rig.replica.api_key, root=rig.replica.root)
    session = open_session(kite, store, minted, NOW)
    assert kite.profile()["user_id"] == rig.book.user_id  # the client now carries the new token
    assert store.session(NOW) == session and store.session(NOW + dt.timedelta(hours=20)) == session
    assert store.session(dt.datetime(2026, 12, 4, 6, 0, tzinfo=IST)) is None  # Kite's 06:00 expiry
    assert set(vault.items) == {("autotrade-workstation/kite", f"{rig.replica.api_key}:api_secret"),
                                ("autotrade-workstation/kite", f"{rig.replica.api_key}:access_token")}
    assert login_url("abc") == "https://kite.zerodha.com/connect/login?api_key=abc&v=3"


def test_a_pasted_redirect_or_token_is_read_and_a_failed_login_is_said(rig: KiteRig, vault: MemoryKeyring) -> None:
    assert request_token_from("https://127.0.0.1/?action=login&status=success&request_token=abc123") == "abc123"
    assert request_token_from("  abc123 ") == "abc123"
    with pytest.raises(BrokerError, match="did not succeed"):
        request_token_from("http://127.0.0.1:5000/?status=cancelled")
    store = TokenStore(rig.replica.api_key)
    store.save_secret(rig.replica.api_secret)
    with pytest.raises(BrokerError, match="Kite refused the login: TokenException"):
        open_session(KiteConnect(rig.replica.api_key, root=rig.replica.root), store, "stale0token", NOW)
    assert store.session(NOW) is None


def test_without_an_os_keyring_nothing_is_stored_anywhere_and_the_trader_is_told_why() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        with pytest.raises(ConfigError, match="never writes it to a file"):
            TokenStore("k").save_session("t0ken", NOW)
    finally:
        keyring.set_keyring(previous)
