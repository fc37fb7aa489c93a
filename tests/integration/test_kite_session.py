"""A live session end to end against the loopback Kite replica, with the real kiteconnect client.

The scenario (``kite_session_child.py``, a process of its own for Twisted's reactor) plays one
demo session through the replica's WebSocket; the engine trades ``ema_cross`` with a stop and
a trailing stop through KiteBroker, journals under mode ``live`` and writes the ledger. Here:
what Zerodha's side saw and what our journal and ledger say must be the same day.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.execution.kite_wire import kite_tag

CHILD = Path(__file__).with_name("kite_session_child.py")


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("kite-live")
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "ATW_HOME": str(home)}
    proc = subprocess.run([sys.executable, str(CHILD), str(home)], capture_output=True, text=True, timeout=300,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["failure"] == [], found["failure"]
    found["home"], found["stderr"] = home, proc.stderr
    return found


def test_the_session_trades_at_kite_and_ends_flat_after_the_cutoff(day: dict[str, Any]) -> None:
    assert day["flat"] and day["state"] == "halted"
    reasons = {t[5] for t in day["ledger_trades"]}
    assert len(day["ledger_trades"]) >= 8
    assert {"reverse", "stop"} <= reasons and reasons <= {"reverse", "stop", "trail", "cutoff"}
    kinds = {(o["order_type"], o["status"]) for o in day["replica_orders"]}
    assert ("SL-M", "COMPLETE") in kinds  # protective stops rested at Kite and fired there
    assert ("SL-M", "CANCELLED") in kinds  # and were cancelled at Kite before a market exit


def test_every_order_at_kite_is_one_of_ours_sent_once_and_the_ledger_holds_its_kite_id(day: dict[str, Any]) -> None:
    at_kite = {o["order_id"]: o for o in day["replica_orders"]}
    ours = {coid: broker_id for coid, broker_id, _status in day["ledger_orders"] if broker_id is not None}
    assert sorted(ours.values()) == sorted(at_kite)  # one ledger order per Kite order, none twice
    for coid, broker_id in ours.items():
        assert at_kite[broker_id]["tag"] == kite_tag(coid)
    never_sent = [coid for coid, broker_id, status in day["ledger_orders"] if broker_id is None]
    assert all(coid.endswith("|X1") for coid in never_sent)  # market exits a filled stop made unnecessary


def test_the_ledgers_gross_pnl_is_the_cash_of_kites_fills_to_the_paisa(day: dict[str, Any]) -> None:
    cash = sum((Decimal(repr(t["average_price"])) * t["quantity"] * (1 if t["transaction_type"] == "SELL" else -1)
                for t in day["replica_trades"]), Decimal(0))
    gross = sum((Decimal(t[6]) / 100 for t in day["ledger_trades"]), Decimal(0))  # money is stored in paise
    assert gross == cash
    assert all(t[8] and t[9] == f"t|{t[8]}" for t in day["ledger_trades"])  # position id and journal trace


def test_a_trades_journal_trace_runs_from_signal_to_kites_fill(day: dict[str, Any]) -> None:
    reverse = next(t for t in day["ledger_trades"] if t[5] == "reverse")
    trace = [r for r in day["journal"] if r["trace"] == reverse[9]]
    types = [r["type"] for r in trace]
    assert types[:5] == ["signal", "risk_check", "order_intent", "order_ack", "fill"]
    assert types[-2:] == ["order_ack", "fill"] and "order_update" in types  # the stop cancelled first
    at_kite = {o["order_id"]: o for o in day["replica_orders"]}
    trades = {t["trade_id"]: t for t in day["replica_trades"]}
    for rec in trace:
        p = rec["payload"]
        if rec["type"] == "order_ack":
            assert at_kite[p["broker_order_id"]]["tag"] == kite_tag(p["client_order_id"])
        if rec["type"] == "fill":
            kite_trade = trades[p["fill_id"].removeprefix("kite:")]
            assert Decimal(p["price"]) == Decimal(repr(kite_trade["average_price"])) and p["qty"] == kite_trade["quantity"]


def test_the_access_token_is_in_no_file_no_log_and_no_journal_record(day: dict[str, Any]) -> None:
    token = day["access_token"]
    files = [p for p in Path(day["home"]).rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files) and any(p.name == "ledger.sqlite" for p in files)
    for path in files:
        assert token.encode() not in path.read_bytes(), path
    assert token not in day["stderr"]  # the client's and our log lines
    assert token not in json.dumps(day["journal"])
