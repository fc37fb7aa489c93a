"""Project journal records onto the ledger: the one path from the journal to the books.

The live recorder applies each record right after the journal has made it durable; a rebuild
applies a journal file's records in order. Both go through :class:`LedgerProjector`, so a ledger
rebuilt from the journal equals the ledger written live — by construction, and tests check it.
The ledger also keeps each journal file's last seen ``(seq, hash)`` as an anchor, which lets
``atw journal verify`` notice records cut off the end of a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from core.clock import IST
from core.errors import DataError
from core.instants import parse_utc
from core.journal.records import Record, RecordType
from core.journal.replay import ReplayState
from core.market.instruments import InstrumentMaster, default_master
from core.simulator.costs import CostModel, cost_model
from core.simulator.trades import build_trades

if TYPE_CHECKING:
    from core.ledger import Ledger


def record_time(rec: Record) -> dt.datetime:
    return parse_utc(rec.ts)


class LedgerProjector:
    """Applies journal records to a :class:`~core.ledger.Ledger`, keeping the fold's state."""

    def __init__(self, ledger: Ledger, master: InstrumentMaster | None = None, *, anchors: bool = True) -> None:
        """``anchors=False`` for journals outside ``<home>/journal`` (a replay run's own folder):
        anchors are kept per day and mode of the main journal only."""
        self.ledger = ledger
        self.anchors = anchors
        self.master = master or default_master()
        self.state = ReplayState()
        self._session_id: int | None = None
        self._costs: CostModel = cost_model("none")

    def resume(self, records: Iterable[Record]) -> None:
        """After a restart: fold the records this ledger already holds (the open day's journal)
        into the state, writing nothing, and go on with their session if it has not ended."""
        for rec in records:
            self.state.apply(rec)
            p = rec.payload
            if rec.type == RecordType.SESSION_START:
                self._costs = cost_model(p.get("costs", "none"))
                self._session_id = self.ledger.open_session(p["day"], p["mode"])
            elif rec.type == RecordType.SESSION_END:
                self._session_id = None

    def apply(self, rec: Record) -> None:
        when = record_time(rec)
        self._apply(rec, when)
        if not self.anchors:
            return
        # the file a record lives in is the IST day of its ts (the writer's clock day)
        self.ledger.set_journal_anchor(when.astimezone(IST).date(), rec.mode, rec.seq, rec.hash)

    def _apply(self, rec: Record, when: dt.datetime) -> None:
        closed = self.state.apply(rec)
        p = rec.payload
        if rec.type == RecordType.SESSION_START:
            self._costs = cost_model(p.get("costs", "none"))
            self._session_id = self.ledger.start_session(
                p["day"], p["mode"], p.get("config_hash", ""), p.get("app_version", ""), when)
            return
        if rec.type == RecordType.SESSION_END:
            if self._session_id is not None:
                self.ledger.end_session(self._session_id, when)
            return
        if rec.type == RecordType.ORDER_INTENT:
            self.ledger.record_order(
                self._session(rec), p["client_order_id"], symbol=p["symbol"], strategy=p["strategy"],
                side=p["side"], qty=int(p["qty"]), order_type=p["order_type"], purpose=p["purpose"],
                status="submitted", created_at=when, reason=p.get("reason"), position_id=p["position_id"],
                limit_price=p.get("limit_price"), trigger_price=p.get("trigger_price"), trace_id=rec.trace_id,
            )
        elif rec.type in (RecordType.ORDER_ACK, RecordType.ORDER_UPDATE):
            order = self.state.orders[p["client_order_id"]]
            self.ledger.update_order(order.client_order_id, updated_at=when, status=order.status,
                                     broker_order_id=p.get("broker_order_id"))
        elif rec.type == RecordType.FILL:
            coid = p["client_order_id"]
            self.ledger.record_fill(coid, p["fill_id"], int(p["qty"]), Decimal(p["price"]), p["time"], rec.trace_id)
            self.ledger.update_order(coid, updated_at=when, status=self.state.orders[coid].status
                                     if coid in self.state.orders else "filled")
            if closed is not None:
                trades = build_trades(self.state.legs([closed]), self._costs, self.master)
                trades["position_id"] = closed.position_id  # the trade's orders and its journal trace
                trades["trace_id"] = closed.trace_id
                self.ledger.record_trades(self._session(rec), trades)

    def apply_all(self, records: Iterable[Record]) -> None:
        """Apply records in one ledger transaction: a rebuild lands whole or not at all."""
        with self.ledger.batch():
            for rec in records:
                self.apply(rec)

    def _session(self, rec: Record) -> int:
        if self._session_id is None:
            raise DataError(f"{rec.type} before any session_start", where=f"seq {rec.seq}")
        return self._session_id
