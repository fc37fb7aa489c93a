"""Automatic kill triggers: the kill switch pulled by rules over the engine's own telemetry.

Each rule is a setting (``docs/risk.md``; 0 switches it off) and, when it fires, the engine is
killed exactly as by the trader's F12 — working orders cancelled, every position flattened,
HALTED until a human resets it — after a ``kill_trigger`` note with the rule and its evidence:

- ``kill_rejects``: that many orders rejected within ``kill_rejects_window_s`` seconds (a broker
  or RMS refusing everything: something is wrong with the account or the orders);
- ``kill_orders_per_min``: more orders sent in a minute than this (a runaway loop);
- ``kill_stale_s``: positions open and no tick for this many seconds (flying blind);
- ``kill_on_mismatch``: positions open and the broker's books confirmed different from ours.

Times are the market clock's.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from typing import TYPE_CHECKING, Any

from core.instants import utc_text

NOT_SENT = "not sent:"  # how KiteBroker words an order it decided not to send

if TYPE_CHECKING:
    from core.automation.engine import Engine


class KillTriggers:
    """See the module docstring."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._rejects: deque[tuple[dt.datetime, str, str]] = deque()
        self._sent: deque[dt.datetime] = deque()
        self.fired = ""  # the rule that fired, until the lock is lifted

    def on_reject(self, when: dt.datetime, client_order_id: str, message: str) -> None:
        limits = self.engine.risk.limits
        if limits.kill_rejects <= 0 or message.startswith(NOT_SENT):
            return  # the broker adapter's own "not sent" (the stop closed it first) is no sign of trouble
        self._rejects.append((when, client_order_id, message))
        window = dt.timedelta(seconds=limits.kill_rejects_window_s)
        while self._rejects and self._rejects[0][0] <= when - window:
            self._rejects.popleft()
        if len(self._rejects) >= limits.kill_rejects:
            evidence = [{"time": utc_text(t), "client_order_id": c, "message": m} for t, c, m in self._rejects]
            self._fire("kill_rejects", f"{len(self._rejects)} orders rejected within "
                                       f"{limits.kill_rejects_window_s} s", evidence)

    def on_sent(self, when: dt.datetime) -> None:
        limits = self.engine.risk.limits
        if limits.kill_orders_per_min <= 0:
            return
        self._sent.append(when)
        while self._sent and self._sent[0] <= when - dt.timedelta(minutes=1):
            self._sent.popleft()
        if len(self._sent) > limits.kill_orders_per_min:
            self._fire("kill_orders_per_min", f"{len(self._sent)} orders sent in a minute (limit "
                                              f"{limits.kill_orders_per_min})",
                       {"first": utc_text(self._sent[0]), "last": utc_text(when), "orders": len(self._sent)})

    def on_feed(self, silent_s: float | None) -> None:
        """The feed's silence now (None: it never ticked), checked while positions are open."""
        limits = self.engine.risk.limits
        if limits.kill_stale_s <= 0 or silent_s is None or silent_s < limits.kill_stale_s:
            return
        held = self._held()
        if held:
            self._fire("kill_stale_s", f"no tick for {silent_s:.0f} s with {len(held)} position(s) open",
                       {"silent_s": round(silent_s, 1), "positions": held})

    def on_mismatch(self, summary: str) -> None:
        """The broker's books were confirmed different from ours."""
        if not self.engine.risk.limits.kill_on_mismatch:
            return
        held = self._held()
        if held:
            self._fire("kill_on_mismatch", f"the broker's positions differ from ours: {summary}",
                       {"difference": summary, "positions": held})

    def reset(self) -> None:
        self.fired = ""
        self._rejects.clear()
        self._sent.clear()

    def _held(self) -> list[str]:
        return sorted(f"{s.symbol}:{s.strategy.name}" for s in self.engine.slots.values()
                      if s.manager.position is not None)

    def _fire(self, rule: str, why: str, evidence: Any) -> None:
        if self.fired or self.engine.halt_reason == "kill":
            return
        self.fired = rule
        self.engine.note("kill_trigger", rule=rule, why=why, evidence=evidence)
        self.engine.kill(f"{rule}: {why}")
