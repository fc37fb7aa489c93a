"""Record every fill: to the journal first (write-ahead), then to the ledger.

:class:`TradeRecorder` listens to :class:`~core.trading.manager.TradeManager` instances. For each
entry it journals the signal, the order intent and the fill; for each exit (a stop, a target,
a scale-out, the cutoff...) the exit intent and its fill. Each record reaches the ledger only
after the journal call has returned (intents and fills are fsynced by then), through the same
:class:`~core.journal.projector.LedgerProjector` a rebuild from the journal uses. Identifiers are
deterministic (symbol, strategy and times), so the same run always writes the same journal,
and a restart can tell what it already sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.clock import IST, SimClock
from core.instants import utc_text
from core.journal.projector import LedgerProjector
from core.journal.records import RecordType
from core.market.instruments import InstrumentMaster
from core.simulator.costs import CostModel
from core.trading.manager import ExitReason, Position, TradeLeg, TradeManager

if TYPE_CHECKING:
    from core.journal.writer import JournalWriter
    from core.ledger import Ledger

_ORDER_TYPE = {
    ExitReason.STOP: "SL-M", ExitReason.TRAIL: "SL-M", ExitReason.BREAKEVEN: "SL-M",
    ExitReason.TARGET: "LIMIT", ExitReason.PARTIAL: "LIMIT",
}


def position_id(symbol: str, strategy: str, entry: dt.datetime) -> str:
    return f"{symbol}|{strategy}|{entry.astimezone(IST):%Y%m%dT%H%M%S}"


@dataclass
class _Open:
    """What the recorder keeps of an open position: its trace and how many exits it has had."""

    trace_id: str
    exits: int = 0


class TradeRecorder:
    """A :class:`~core.trading.manager.TradeListener` writing the journal, then the ledger."""

    def __init__(
        self,
        journal: JournalWriter,
        clock: SimClock,
        *,
        mode: str,
        costs: CostModel,
        ledger: Ledger | None = None,
        master: InstrumentMaster | None = None,
        config_hash: str = "",
        app_version: str = "",
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.mode = mode
        self.costs = costs
        self.projector = LedgerProjector(ledger, master) if ledger is not None else None
        self.config_hash = config_hash
        self.app_version = app_version
        self._day: dt.date | None = None
        self._open: dict[str, _Open] = {}

    # ------------------------------------------------------------------ TradeListener

    def entered(self, manager: TradeManager, position: Position) -> None:
        self._at(position.entry_time)
        pid = position_id(manager.symbol, manager.strategy, position.entry_time)
        trace = f"t|{pid}"
        self._open[pid] = _Open(trace)
        side = "BUY" if position.side > 0 else "SELL"
        common = {"symbol": manager.symbol, "strategy": manager.strategy, "position_id": pid}
        extra = {
            "initial_stop": None if np.isnan(position.initial_stop) else repr(position.initial_stop),
            "confidence": repr(float(position.confidence)),
            "signal_time": utc_text(position.signal_time),
        }
        self._write(RecordType.SIGNAL, {
            **common, "side": "LONG" if position.side > 0 else "SHORT",
            "bar_time": utc_text(position.signal_time), "confidence": extra["confidence"],
        }, trace)
        coid = f"{pid}|E"
        self._send(coid, trace, {**common, "side": side, "qty": position.qty, "order_type": "MARKET",
                                 "purpose": "entry", **extra})
        self._fill(coid, trace, {**common, "side": side, "qty": position.qty, "purpose": "entry", **extra},
                   position.entry_price, position.entry_time)

    def exited(self, manager: TradeManager, leg: TradeLeg, position_closed: bool) -> None:
        self._at(leg.exit_time)
        pid = position_id(manager.symbol, manager.strategy, leg.entry_time)
        book = self._open[pid]
        book.exits += 1
        coid = f"{pid}|X{book.exits}"
        side = "SELL" if leg.side > 0 else "BUY"
        common = {"symbol": manager.symbol, "strategy": manager.strategy, "position_id": pid,
                  "side": side, "qty": leg.qty, "purpose": "exit", "reason": leg.exit_reason.label}
        self._send(coid, book.trace_id, {**common, "order_type": _ORDER_TYPE.get(leg.exit_reason, "MARKET")})
        self._fill(coid, book.trace_id, common, leg.exit_price, leg.exit_time)
        if position_closed:
            del self._open[pid]

    # ------------------------------------------------------------------ sessions

    def close(self) -> None:
        """End the current session (journal and ledger)."""
        if self._day is not None:
            self._write(RecordType.SESSION_END, {"day": self._day.isoformat()}, "")
        self._day = None
        self.journal.flush()

    def _at(self, when: dt.datetime) -> None:
        """Move the clock to ``when`` (never back) and open the day's session if it is new."""
        if when > self.clock.now():
            self.clock.set(when)
        day = when.astimezone(IST).date()
        if day == self._day:
            return
        if self._day is not None:
            self.close()
        self._day = day
        self._write(RecordType.SESSION_START, {
            "day": day.isoformat(), "mode": self.mode, "config_hash": self.config_hash,
            "app_version": self.app_version, "costs": getattr(self.costs, "name", "custom"),
        }, "")

    # ------------------------------------------------------------------ orders and fills

    def _write(self, rtype: RecordType, payload: dict[str, Any], trace: str) -> None:
        record = self.journal.append(rtype, payload, trace)  # durable types are on disk now
        if self.projector is not None:
            self.projector.apply(record)

    def _send(self, coid: str, trace: str, intent: dict[str, Any]) -> None:
        self._write(RecordType.ORDER_INTENT, {"client_order_id": coid, **intent}, trace)

    def _fill(self, coid: str, trace: str, fields: dict[str, Any], price: float, when: dt.datetime) -> None:
        self._write(RecordType.FILL, {"client_order_id": coid, "fill_id": f"{coid}|1", **fields,
                                      "price": repr(float(price)), "time": utc_text(when)}, trace)
