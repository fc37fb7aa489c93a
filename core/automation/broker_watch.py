"""BrokerWatch: on the engine's thread, keeps the engine honest about a real broker.

Called by the live loop on every turn (:func:`core.automation.live.run_live`); cheap unless
something is due:

- **Session** (:func:`watch_session`, for a paper session on Kite's data too): once the broker
  says its access token is no longer valid (Kite's ``TokenException``), or the ticker's handshake
  is refused (403), the engine is held (:meth:`Engine.hold_entries`: REDUCING, exits only, no
  arming) with "log in again"; when a new session works (:meth:`session_renewed`), it is
  released.
- **Reconciliation**: at start and every ``every_s`` (a minute by default), the broker's updates
  are taken in first (a poll of its order book), then its positions and working orders are
  compared with the engine's (:mod:`core.execution.reconcile`). A difference is believed only
  when a second look, right after another poll, still shows it (a fill racing the comparison is
  not a difference). Orphan orders tagged as ours are cancelled. While the books disagree the
  engine is held and every check is journaled; when they agree again it is released.
- **The account**, with each reconciliation: Kite's free equity margin and the holdings
  (delivery) are read and journaled (an ``account`` note); when Kite's free margin is below what
  the automation's RMS believes it has (margin used outside atw: another terminal, a manual
  trade), the trader is alerted once, and again only after it has recovered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from core.automation.engine import Engine
from core.errors import BrokerError
from core.execution.reconcile import Reconciliation, orphan_orders, position_gaps

RECONCILE_EVERY_S = 60.0
SESSION_ENDED = "the Kite session has ended: log in again (exits only until then)"
UNRECONCILED = "the broker's books differ from ours"


def watch_session(engine: Engine, broker: Any, feed: Any) -> bool:
    """Hold the engine while Kite refuses the session's token (its REST calls or its ticker), and
    release it when both work again; True while the session has ended."""
    ended = bool(getattr(broker, "session_expired", False) or getattr(feed, "token_refused", False))
    if ended:
        engine.hold_entries(SESSION_ENDED)
    elif engine.entry_hold == SESSION_ENDED:
        engine.release_entries("the Kite session is back")
    return ended


class BrokerWatch:
    """See the module docstring. ``broker`` is a :class:`~core.execution.kite_broker.KiteBroker`;
    ``feed`` its session's ticker, when there is one."""

    def __init__(self, engine: Engine, broker: Any, *, feed: Any = None, every_s: float = RECONCILE_EVERY_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.broker = broker
        self.feed = feed
        self.every_s = every_s
        self._monotonic = monotonic
        self._next = 0.0  # reconcile on the first turn
        self.last: Reconciliation | None = None
        self.checks = 0
        self.margin_short = False  # Kite's free margin was below the RMS's at the last look

    def turn(self) -> None:
        """One look: the session, and the books when a reconciliation is due."""
        if watch_session(self.engine, self.broker, self.feed):
            return
        if self._monotonic() >= self._next:
            self.reconcile()

    def session_renewed(self) -> None:
        """A new access token is in the broker's client (the trader logged in again)."""
        self.broker.session_expired = False
        self._next = 0.0  # and the books are compared again at once

    def reconcile(self) -> Reconciliation | None:
        """Compare now (after taking in the broker's updates); None when the broker could not say."""
        self._next = self._monotonic() + self.every_s
        try:
            first = self._compare()
            result = self._compare() if not first.clean else first
        except BrokerError as exc:
            self.engine.alert("warning", f"reconciliation skipped: {exc}")
            return None
        self.checks += 1
        self.last = result
        self.engine.note("reconcile", clean=result.clean, detail=result.summary())
        for order in result.orphans:
            try:
                self.broker.gateway.cancel_order(str(order.get("variety") or "regular"), str(order["order_id"]))
            except BrokerError as exc:
                self.engine.alert("error", f"could not cancel orphan order {order['order_id']}: {exc}")
        if result.gaps:
            self.engine.hold_entries(f"{UNRECONCILED}: {result.summary()}")
            self.engine.kill_triggers.on_mismatch(result.summary())
        elif self.engine.entry_hold.startswith(UNRECONCILED):
            self.engine.release_entries("the broker's books agree with ours again")
        self._account()
        return result

    def _account(self) -> None:
        """Kite's free margin and holdings, journaled; an alert when Kite has less margin free than
        the RMS counts on."""
        gateway = self.broker.gateway
        try:
            free = float(gateway.margins()["equity"]["net"])
            holdings = gateway.holdings()
        except (BrokerError, KeyError, TypeError, ValueError) as exc:
            self.engine.alert("warning", f"the account could not be read: {exc}")
            return
        ours = float(self.engine.risk.rms.snapshot().available)
        value = sum(float(h.get("last_price") or 0) * int(h.get("quantity") or 0) for h in holdings)
        self.engine.note("account", kite_free_margin=f"{free:.2f}", rms_available=f"{ours:.2f}",
                         holdings=len(holdings), holdings_value=f"{value:.2f}")
        short = free < ours - 1.0  # a rupee of rounding is not a difference
        if short and not self.margin_short:
            self.engine.alert("warning", f"Kite's free margin Rs {free:,.2f} is below the automation's "
                                         f"Rs {ours:,.2f}: margin is used outside atw (arming asks Kite itself)")
        self.margin_short = short

    def _compare(self) -> Reconciliation:
        for event in self.broker.poll():
            self.engine.handle(event)
        engine = self.engine
        ours: dict[str, int] = {}
        for slot in engine.slots.values():
            pos = slot.manager.position
            if pos is not None:
                ours[slot.symbol] = ours.get(slot.symbol, 0) + pos.side * pos.qty
        gateway = self.broker.gateway
        gaps = position_gaps(ours, gateway.positions().get("net", []), product=self.broker.product,
                             symbols={s.symbol for s in engine.slots.values()})
        working = [o.client_order_id for o in engine.orders.working()]
        return Reconciliation(tuple(gaps), tuple(orphan_orders(gateway.orders(), working)))
