"""The Kite ticker path end to end: the real KiteTicker against the replica's WebSocket.

Twisted's reactor runs once per process, so the scenario runs in a child process
(``kite_ticker_child.py``) under a machine time zone far from India: tick times must still be
the exchange's, in Asia/Kolkata.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHILD = Path(__file__).with_name("kite_ticker_child.py")


@pytest.fixture(scope="module")
def findings() -> dict[str, Any]:
    env = {**os.environ, "TZ": "America/New_York", "NO_PROXY": "127.0.0.1,localhost"}
    proc = subprocess.run([sys.executable, str(CHILD)], capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_trades_at_the_exchange_arrive_as_ticks_on_the_grid_with_ist_times(findings: dict[str, Any]) -> None:
    assert findings["connected"] and findings["subscribed_full"]
    assert findings["ticks"] == [
        ["INFY", 1500.05, 0.0, "2026-12-03T10:15:30+05:30"],  # first sight of the day's volume: none of it ours
        ["TCS", 3999.95, 0.0, "2026-12-03T10:15:30+05:30"],
        ["INFY", 1500.1, 3.0, "2026-12-03T10:15:30+05:30"],  # the volume traded since the last tick
    ]


def test_a_fill_reaches_the_broker_by_postback_without_polling(findings: dict[str, Any]) -> None:
    assert findings["postback_fills"] == [[10, 1500.1]]
    assert findings["rest_calls_before_fill"] == []


def test_a_disconnect_in_the_middle_of_a_fill_loses_nothing_polling_recovers_it(findings: dict[str, Any]) -> None:
    assert findings["reconnected"] and findings["disconnects"] == 1
    assert findings["drain_after_drop"] == []  # its postbacks were lost with the socket
    assert findings["poll_after_drop"] == [[10, 1499.0]]  # the order book still has it
    assert findings["ticks_after_reconnect"] == [["TCS", 4001.0]]  # resubscribed: data flows again
