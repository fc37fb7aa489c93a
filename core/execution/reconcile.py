"""Reconciliation: the broker's positions and working orders against the engine's.

What is compared, per instrument the engine trades (it has a slot for it):

- **positions**: the broker's net quantity in our product (MIS by default) against the sum of
  the engine's open positions (signed). A difference is a position changed behind our back (a
  trade from another terminal, an RMS square-off) or a fill we have not heard of.
- **orders**: a working order at the broker carrying one of our tags that the engine does not
  count as working is an *orphan* (typically a protective stop left behind by a crash): it is
  listed for cancellation.

Kite's fills reach the engine a moment after they reach Kite's books, so one difference can
be a race; :class:`~core.automation.broker_watch.BrokerWatch` polls the broker's updates and
compares twice before it believes a difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.execution.kite_wire import kite_tag

WORKING_AT_KITE = frozenset({"OPEN", "TRIGGER PENDING", "OPEN PENDING", "VALIDATION PENDING",
                             "PUT ORDER REQ RECEIVED", "MODIFY PENDING", "MODIFY VALIDATION PENDING"})


@dataclass(frozen=True, slots=True)
class PositionGap:
    """An instrument whose quantity differs: ours (the engine's) and the broker's, signed."""

    symbol: str
    ours: int
    broker: int

    def __str__(self) -> str:
        return f"{self.symbol}: ours {self.ours:+d}, at the broker {self.broker:+d}"


@dataclass(frozen=True)
class Reconciliation:
    gaps: tuple[PositionGap, ...]
    orphans: tuple[dict[str, Any], ...]  # the broker's order objects to cancel

    @property
    def clean(self) -> bool:
        return not self.gaps and not self.orphans

    def summary(self) -> str:
        parts = [str(g) for g in self.gaps]
        parts += [f"orphan order {o.get('order_id')} ({o.get('tradingsymbol')} {o.get('transaction_type')} "
                  f"{o.get('order_type')})" for o in self.orphans]
        return "; ".join(parts) if parts else "books agree"


def position_gaps(ours: Mapping[str, int], broker_net: Iterable[Mapping[str, Any]], *, product: str,
                  symbols: Iterable[str]) -> list[PositionGap]:
    """Differences for ``symbols`` between the engine's net quantities and the broker's ``net``
    positions of ``product``."""
    theirs: dict[str, int] = {}
    for row in broker_net:
        if row.get("product") == product:
            sym = str(row.get("tradingsymbol"))
            theirs[sym] = theirs.get(sym, 0) + int(row.get("quantity") or 0)
    return [PositionGap(s, ours.get(s, 0), theirs.get(s, 0)) for s in sorted(set(symbols))
            if ours.get(s, 0) != theirs.get(s, 0)]


def orphan_orders(broker_orders: Iterable[Mapping[str, Any]], working_client_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The broker's working orders tagged as ours that the engine does not count as working."""
    ours = {kite_tag(coid) for coid in working_client_ids}
    return [dict(o) for o in broker_orders
            if o.get("status") in WORKING_AT_KITE and str(o.get("tag") or "").startswith("atw")
            and o.get("tag") not in ours]
