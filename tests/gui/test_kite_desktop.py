"""The desktop on a Kite session: the login dialog, live's confirmation, and a canary window trading
the loopback replica (a process of its own: Twisted's reactor runs once per process)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import requests
from PySide6.QtWidgets import QInputDialog

from app.sessions import confirm_live
from app.widgets.login_dialog import LoginDialog
from core.execution.kite_session import RequestTokenCatcher
from tests.integration.kite_fixtures import free_port_pair

ROOT = Path(__file__).resolve().parents[2]


def test_the_login_dialog_closes_with_the_token_of_the_redirect_or_of_a_pasted_address(qtbot) -> None:  # type: ignore[no-untyped-def]
    catcher = RequestTokenCatcher()
    dialog = LoginDialog("https://kite.zerodha.com/connect/login?api_key=k&v=3", catcher)
    qtbot.addWidget(dialog)
    dialog.show()
    requests.get(f"{catcher.url}?action=login&status=success&request_token=tok3n", timeout=5,
                 proxies={"http": None, "https": None})
    qtbot.waitUntil(lambda: dialog.token == "tok3n", timeout=5000)
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    pasted = LoginDialog("https://kite.zerodha.com/connect/login?api_key=k&v=3", RequestTokenCatcher())
    qtbot.addWidget(pasted)
    pasted.paste.setText("not a token!")
    pasted.paste.returnPressed.emit()
    assert pasted.token == "" and "not a Kite request token" in pasted.error.text()
    pasted.paste.setText("http://127.0.0.1:5000/?action=login&status=success&request_token=abc123")
    pasted.paste.returnPressed.emit()
    assert pasted.token == "abc123"


def test_live_mode_starts_only_when_the_trader_types_live(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for answer, expected in ((("LIVE", True), True), (("live", True), False), (("LIVE", False), False)):
        monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *_a, _r=answer, **_k: _r))
        assert confirm_live() is expected


def test_a_canary_window_trades_the_replica_with_capped_quantity(tmp_path: Path) -> None:
    port = free_port_pair()
    env = {**os.environ, "ATW_HOME": str(tmp_path), "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "tests.integration.memory_keyring.MemoryKeyring",
           "ATW_KITE_API_SECRET": "replicasecret", "QT_QPA_PLATFORM": "offscreen"}
    replica = subprocess.Popen([sys.executable, "-m", "core.cli", "kite-replica", "--port", str(port),
                                "--speed", "240", "--seconds", "120"], env=env, stdout=subprocess.PIPE, text=True)
    shot = tmp_path / "canary.png"
    try:
        assert replica.stdout is not None and "kite replica: REST" in replica.stdout.readline()
        window = subprocess.run([sys.executable, "-m", "app.main", "--mode", "canary", "--api-key", "atwreplica",
                                 "--kite-root", f"http://127.0.0.1:{port}", "--clock", "feed",
                                 "--arm", "DEMO_TREND:ema_cross", "--set", "qty=50", "--set", "stop=1.5atr",
                                 "--screenshot", str(shot), "--after", "15"],
                                env=env, capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    finally:
        replica.terminate()
        replica.wait(10)
    assert window.returncode == 0, window.stderr[-3000:]
    assert shot.stat().st_size > 50_000  # a real window, rendered
    con = sqlite3.connect(tmp_path / "ledger.sqlite")
    orders = con.execute("select qty, broker_order_id, order_type from orders").fetchall()
    assert orders and all(qty == 1 and broker_id for qty, broker_id, _ in orders)  # 50 asked, canary sent 1
    assert {"MARKET", "SL-M"} <= {kind for _, _, kind in orders}  # the entry and its stop at (the replica of) Kite


def window_child(home: Path, scenario: str) -> dict:  # type: ignore[type-arg]
    """Run a scenario of tests/gui/kite_window_child.py; what it saw."""
    env = {**os.environ, "ATW_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "tests.integration.memory_keyring.MemoryKeyring",
           "ATW_KITE_API_SECRET": "replicasecret", "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.run([sys.executable, str(ROOT / "tests" / "gui" / "kite_window_child.py"),
                            str(free_port_pair()), scenario], env=env, capture_output=True, text=True, timeout=240,
                           cwd=ROOT, check=False)
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_session_ended_mid_run_asks_for_login_in_the_window_and_trading_goes_on(tmp_path: Path) -> None:
    seen = window_child(tmp_path, "relogin")
    assert seen["ticking"], "the window never got a tick from the replica"
    assert seen["held"] and seen["held_state"] == "reducing"  # exits only while logged out
    assert seen["button_shown"] and "logged out" in seen["logged_out_label"]
    assert seen["relogged"], "the window did not log in again"
    assert seen["released"] and seen["ticks_after"]  # the hold lifted; the ticker's new socket streams
    assert seen["button_hidden"]
    assert "logged in to Kite again: the session goes on" in seen["alerts"]
    assert seen["quoted_before_watch"] == ["DEMO_TREND"]  # the armed instrument only, at first
    assert seen["watch_added"] and seen["watched_streams"], "a symbol added to the watch was not streamed"


def test_the_demo_switches_to_a_canary_session_on_kite_inside_the_running_workstation(tmp_path: Path) -> None:
    seen = window_child(tmp_path, "switch")
    assert seen["demo_ticking"] and seen["why_not"] == ""
    assert seen["demo_finished_cleanly"]  # the demo's journal and ledger closed before Kite's session began
    assert seen["kite_ticking"], "the switched window never got a tick from the replica"
    assert (seen["mode"], seen["broker"], seen["badge"]) == ("canary", "kite", "CANARY")
    assert "CANARY" in seen["title"] and seen["switches"] == 1
    assert set(seen["watched"]) == {"DEMO_TREND", "DEMO_VOL", "DEMO_CHOP"} and seen["all_watched_streamed"]
