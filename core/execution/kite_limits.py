"""Client-side request limits for Kite Connect: at most N calls in any window, per endpoint class.

Kite counts orders per *calendar second of its own clock* (10 a second, 400 a minute) and reads
per class (quotes 1/s, historical 3/s, everything else 10/s); an excess is a 429. A token
bucket can put 2N calls into one of the server's seconds when the two clocks are not aligned
(a full bucket spent at the end of a second, refilled at its start); a sliding window cannot:
never more than N calls in *any* window of W seconds means never more than N in any calendar
second, whatever the skew. It is written here (not taken from a rate-limit library) because it
is that exact guarantee, with an injected clock and sleep so tests run without waiting, in
thirty lines.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# (calls, window seconds) per endpoint class; margins against the server's limits of 10/s,
# 400/min, 1/s and 3/s: a little slower than allowed so clock jitter never makes a 429.
KITE_LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "orders": ((10, 1.05), (400, 61.0)),
    "quote": ((1, 1.05),),
    "historical": ((3, 1.05),),
    "other": ((10, 1.05),),
}


@dataclass(frozen=True, slots=True)
class Window:
    calls: int
    seconds: float


class SlidingWindowLimiter:
    """Blocks in :meth:`acquire` until a call fits every window; thread-safe."""

    def __init__(self, windows: Sequence[tuple[int, float]], *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.windows = [Window(c, s) for c, s in windows]
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self.waited_s = 0.0  # total time callers spent waiting here

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_at(now)
                if wait <= 0:
                    self._sent.append(now)
                    return
            self.waited_s += wait
            self._sleep(wait)

    def _wait_at(self, now: float) -> float:
        longest = max(w.seconds for w in self.windows)
        while self._sent and self._sent[0] <= now - longest:
            self._sent.popleft()
        wait = 0.0
        for w in self.windows:
            inside = [t for t in self._sent if t > now - w.seconds] if w.seconds < longest else list(self._sent)
            if len(inside) >= w.calls:
                wait = max(wait, inside[-w.calls] + w.seconds - now)
        return wait


def kite_limiters(clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> dict[str, SlidingWindowLimiter]:
    """One limiter per Kite endpoint class."""
    return {kind: SlidingWindowLimiter(windows, clock=clock, sleep=sleep) for kind, windows in KITE_LIMITS.items()}
