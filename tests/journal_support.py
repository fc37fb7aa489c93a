"""Helpers for the journal tests: a ticking clock (no pandas import) and record payloads."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

UTC = dt.timezone.utc
DAY_START = dt.datetime(2026, 11, 20, 3, 45, tzinfo=UTC)  # 09:15 IST on Friday 2026-11-20


class TickClock:
    """A clock that moves ``step`` forward on every reading (thread-safe)."""

    def __init__(self, start: dt.datetime = DAY_START, step: dt.timedelta = dt.timedelta(milliseconds=1)) -> None:
        self._now, self._step, self._lock = start, step, threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            self._now += self._step
            return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when


def fill(i: int, **extra: Any) -> dict[str, Any]:
    return {"client_order_id": f"atw-{i:06d}", "fill_id": f"F{i:06d}", "symbol": "RELIANCE", "strategy": "ema_cross",
            "side": "BUY", "qty": 10, "price": "1399.90", "time": "2026-11-20T04:00:00Z", "purpose": "entry",
            "position_id": f"p-{i}", **extra}


def intent(i: int) -> dict[str, Any]:
    return {"client_order_id": f"atw-{i:06d}", "symbol": "RELIANCE", "strategy": "ema_cross", "side": "BUY",
            "qty": 10, "order_type": "MARKET", "purpose": "entry", "position_id": f"p-{i}"}


def write_mixed(home: Path, n: int, mode: str = "paper") -> Path:
    """A journal of ``n`` records cycling through signal, risk check, intent, ack and fill."""
    from core.journal.writer import JournalWriter

    with JournalWriter(TickClock(), mode, home=home) as writer:
        for i in range(n):
            kind = i % 5
            if kind == 0:
                writer.append("signal", {"symbol": "RELIANCE", "side": "BUY", "confidence": 0.7}, f"t{i // 5}")
            elif kind == 1:
                writer.append("risk_check", {"accepted": True, "reason": ""}, f"t{i // 5}")
            elif kind == 2:
                writer.append("order_intent", intent(i // 5), f"t{i // 5}")
            elif kind == 3:
                writer.append("order_ack", {"client_order_id": f"atw-{i // 5:06d}", "broker_order_id": f"B{i}",
                                            "status": "OPEN"}, f"t{i // 5}")
            else:
                writer.append("fill", fill(i // 5), f"t{i // 5}")
        return writer.path
