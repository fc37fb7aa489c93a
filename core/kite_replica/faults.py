"""Faults the replica injects on request, and the per-second request limits it enforces.

Limits are counted as Kite counts them (kite-wire-spec §9): per **calendar second of the
server's clock** for each endpoint class (orders 10/s and 400/min, quotes 1/s, historical 3/s,
every other endpoint 10/s); an excess answers HTTP 429 with a ``NetworkException`` envelope.
Every request the limiter let through is kept (class, server time) so a test can prove a
client never went past the limits.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

LIMITS_PER_SECOND = {"orders": 10, "quote": 1, "historical": 3, "other": 10}
ORDERS_PER_MINUTE = 400


@dataclass
class Failure:
    """One scripted answer: an HTTP status with an error envelope (``error_type`` is required)."""

    status: int
    error_type: str
    message: str


@dataclass
class Faults:
    """What goes wrong next. Each counter is consumed one request at a time."""

    latency_s: float = 0.0
    failures: list[Failure] = field(default_factory=list)  # answered before the request is looked at
    drop_responses: int = 0  # requests processed but answered by a dropped connection
    storm_429: int = 0  # requests answered 429 whatever the limits say
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail_next(self, count: int = 1, status: int = 503, error_type: str = "NetworkException",
                  message: str = "Gateway timed out") -> None:
        with self._lock:
            self.failures.extend(Failure(status, error_type, message) for _ in range(count))

    def take_failure(self) -> Failure | None:
        with self._lock:
            if self.storm_429 > 0:
                self.storm_429 -= 1
                return Failure(429, "NetworkException", "Too many requests")
            return self.failures.pop(0) if self.failures else None

    def take_drop(self) -> bool:
        with self._lock:
            if self.drop_responses > 0:
                self.drop_responses -= 1
                return True
            return False


class RequestLimiter:
    """Per-calendar-second counts per endpoint class on the server's clock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._per_second: Counter[tuple[str, int]] = Counter()
        self._orders_per_minute: Counter[int] = Counter()
        self.accepted: list[tuple[str, float]] = []  # (class, server time) of every request let through

    def admit(self, kind: str) -> bool:
        now = self._clock()
        second, minute = int(now), int(now // 60)
        with self._lock:
            if self._per_second[(kind, second)] >= LIMITS_PER_SECOND[kind]:
                return False
            if kind == "orders" and self._orders_per_minute[minute] >= ORDERS_PER_MINUTE:
                return False
            self._per_second[(kind, second)] += 1
            if kind == "orders":
                self._orders_per_minute[minute] += 1
            self.accepted.append((kind, now))
            return True

    def most_in_one_second(self, kind: str) -> int:
        """The most requests of a class the server let through in any one calendar second."""
        with self._lock:
            counts = Counter(int(t) for k, t in self.accepted if k == kind)
        return max(counts.values(), default=0)
