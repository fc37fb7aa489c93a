"""The order-rate throttle, on market-clock instants (never the wall clock).

Two rules, both deterministic for a given sequence of instants:

- per second: orders counted per *calendar* second, as Zerodha's server counts them for SEBI's
  10 orders/s (india-market-facts §5): an order at ``now`` is allowed while fewer than
  ``per_second`` were recorded in ``[floor(now to the second), +1 s)``;
- per minute: a sliding window, fewer than ``per_minute`` recorded in ``(now - 60 s, now]``.

Every order sent counts, exits included; the caller decides what to do with a refusal (an exit
is retried later, never dropped).
"""

from __future__ import annotations

import datetime as dt
from collections import deque

from core.instants import epoch_ns

_SECOND_NS = 1_000_000_000
_MINUTE_NS = 60 * _SECOND_NS
RATE_SECOND = "rate_second"
RATE_MINUTE = "rate_minute"


class OrderRateLimiter:
    """Counts orders sent and says whether one more may go out now."""

    def __init__(self, per_second: int, per_minute: int) -> None:
        if per_second < 1 or per_minute < 1:
            raise ValueError("order rate limits must be at least 1")
        self.per_second = per_second
        self.per_minute = per_minute
        self._sent: deque[int] = deque()  # epoch ns, in recording order

    def would_allow(self, now: dt.datetime) -> str | None:
        """None when an order may be sent at ``now``; else why not (one line)."""
        refusal = self.refusal(now)
        return refusal[1] if refusal else None

    def refusal(self, now: dt.datetime) -> tuple[str, str] | None:
        """None when allowed, else ``(code, reason)``: code ``rate_second`` or ``rate_minute``."""
        t = epoch_ns(now)
        self._forget(t)
        second = t - t % _SECOND_NS
        in_second = sum(1 for s in self._sent if second <= s < second + _SECOND_NS)
        if in_second >= self.per_second:
            return RATE_SECOND, (
                f"{in_second} orders already sent in this second "
                f"(limit {self.per_second}/s); retry from the next second"
            )
        in_minute = sum(1 for s in self._sent if t - _MINUTE_NS < s <= t)
        if in_minute >= self.per_minute:
            return RATE_MINUTE, f"{in_minute} orders sent in the last 60 s (limit {self.per_minute}/min)"
        return None

    def record(self, now: dt.datetime) -> None:
        """Count one order sent at ``now``."""
        t = epoch_ns(now)
        self._forget(t)
        self._sent.append(t)

    def _forget(self, t: int) -> None:
        # Keep anything that a later per-second or per-minute window could still see.
        horizon = t - _MINUTE_NS - _SECOND_NS
        while self._sent and self._sent[0] < horizon:
            self._sent.popleft()
