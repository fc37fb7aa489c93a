"""Restart in the middle of a trade, against the loopback Kite replica (served from this process).

A live engine (``kite_restart_child.py``) trades until a position is open with its stop working at
Kite, and is killed (SIGKILL). While it is down the market moves on. Restarted, it rebuilds its
book from the journal, finds its orders at Kite by their tags, and reconciles: the same state as
Kite's, and no order is ever sent twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.clock import IST
from core.execution.kite_wire import kite_tag
from core.kite_replica.book import ReplicaBook, instruments_from_master
from core.kite_replica.server import KiteReplica
from core.kite_replica.ticker import ReplicaTicker
from core.market.instruments import default_master
from core.market.loader import load_many
from core.paths import resource
from tests.integration.kite_fixtures import wait_until
from tests.integration.kite_session_child import ticks_of

CHILD = Path(__file__).with_name("kite_restart_child.py")
SYMBOL = "DEMO_TREND"
DAY_FROM = dt.datetime(2025, 1, 21, 10, 0, tzinfo=IST)
DAY_TO = dt.datetime(2025, 1, 21, 15, 6, tzinfo=IST)


class Child:
    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
        self.proc = subprocess.Popen([sys.executable, str(CHILD), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()  # read by a thread: a hung child fails, never hangs
        threading.Thread(target=self._read, daemon=True).start()
        self.expect("ready")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"no {prefix!r} from the child within {timeout} s; it said: "
                                     f"{self.proc.stderr.read()[-3000:]}") from None  # type: ignore[union-attr]
            if not line:
                raise AssertionError(f"the child ended early: {self.proc.stderr.read()[-3000:]}")  # type: ignore[union-attr]
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def finish(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        found = json.loads(self.expect("done ", timeout=60))
        self.proc.wait(30)
        return found


@pytest.mark.parametrize(("outage", "still_open"), [
    (dt.timedelta(minutes=2), True),  # back while the position is open: its stop at Kite is adopted
    (dt.timedelta(minutes=20), False),  # the stop fired at Kite during the outage: its fill is recovered
])
def test_a_restart_mid_trade_rebuilds_the_same_state_and_sends_nothing_twice(
        tmp_path: Path, outage: dt.timedelta, still_open: bool) -> None:
    master = default_master()
    bars = [b for b in load_many([str(resource("demo", f"{SYMBOL}.csv"))]).series[0].bars()
            if DAY_FROM <= b.start < DAY_TO]
    market = [bars[0].start]
    book = ReplicaBook(instruments_from_master(master), now=lambda: market[0])
    replica = KiteReplica(book).start()
    ticker = ReplicaTicker(replica, clock=lambda: market[0].timestamp()).start()
    token = replica.issue_access_token()
    key = f"NSE:{SYMBOL}"
    inst = book.instruments[key]

    def launch(phase: str, warm_until: dt.datetime) -> Child:
        wait_until(lambda: not ticker.connected())  # the killed child's socket is closed first
        child = Child([str(tmp_path), replica.root, ticker.root, replica.api_key, token, phase,
                       warm_until.isoformat(), str(inst.token)])
        wait_until(lambda: ticker.subscribed() == {inst.token: "full"})  # ticks sent before would be lost
        return child

    ticks = list(ticks_of(bars))
    child = launch("start", DAY_FROM)
    killed_at = restarted_at = None
    stop_at_kill: dict[str, Any] | None = None
    try:
        k = 0
        while k < len(ticks):
            when, price, qty = ticks[k]
            market[0] = when
            book.set_price(key, price, qty)
            if killed_at is None or restarted_at is not None:
                try:
                    assert child.expect("took ") == when.isoformat()
                except AssertionError as exc:
                    raise AssertionError(f"at {when} (killed at {killed_at}, restarted at {restarted_at}): "
                                         f"{exc}") from None
            k += 1
            working_stops = [o for o in book.orders() if o["order_type"] == "SL-M" and o["status"] == "TRIGGER PENDING"]
            if killed_at is None and working_stops and k > 60:
                child.kill()  # mid-trade: a position open at Kite, its stop working there
                killed_at, stop_at_kill = when, working_stops[0]
            elif killed_at is not None and restarted_at is None and when >= killed_at + outage:
                restarted_at = when  # the market went on while it was down
                child = launch("restart", when + dt.timedelta(seconds=1))
        found = child.finish()
    finally:
        if child.proc.poll() is None:
            child.kill()
        ticker.stop()
        replica.stop()

    assert killed_at is not None and restarted_at is not None and stop_at_kill is not None
    orders = book.orders()
    tags = [o["tag"] for o in orders]
    assert len(tags) == len(set(tags))  # no client order id ever reached Kite twice
    assert sum(1 for o in orders if o["tag"] == stop_at_kill["tag"]) == 1  # the stop was adopted, not re-sent
    assert found["first_reconcile_clean"] is True  # the book rebuilt from the journal is Kite's
    assert found["last_reconcile_clean"] == [True] and found["entry_hold"] == ""
    stop_now = next(o for o in orders if o["order_id"] == stop_at_kill["order_id"])
    held = found["restored"][f"{SYMBOL}:ema_cross"]
    assert (held != 0) is still_open  # the position as Kite had it when the engine came back
    assert stop_now["status"] in ("COMPLETE", "CANCELLED")  # followed to its end after the restart
    assert found["positions"] == {f"{SYMBOL}:ema_cross": 0} and found["working"] == []
    net = sum(int(row["quantity"]) for row in book.positions()["net"])
    assert net == 0  # flat at Kite too, after the cutoff

    con = sqlite3.connect(tmp_path / "ledger.sqlite")
    gross = sum((Decimal(g) / 100 for (g,) in con.execute("select gross from trades")), Decimal(0))
    cash = sum((Decimal(repr(t["average_price"])) * t["quantity"] * (1 if t["transaction_type"] == "SELL" else -1)
                for t in book.trades()), Decimal(0))
    assert gross == cash  # every fill at Kite, before, during and after the outage, is in the ledger's P&L
    ledger = dict(con.execute("select client_order_id, broker_order_id from orders where broker_order_id is not null"))
    at_kite = {o["order_id"]: o for o in orders}
    assert sorted(ledger.values()) == sorted(at_kite)  # each Kite order once in the ledger, with its id
    assert all(at_kite[broker_id]["tag"] == kite_tag(coid) for coid, broker_id in ledger.items())
