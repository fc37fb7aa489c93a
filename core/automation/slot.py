"""One (instrument, strategy) the engine runs: its signal stream, trade manager and orders.

A slot exists from the first time its pair is armed; its stream then sees every bar, armed or
not, so indicators stay warm across disarm, re-arm and the next morning. Only an armed slot
acts on its signals. The slot keeps the client order ids of its current position's orders by
role (entry, stop, target, scale-outs, market exits); ids are deterministic
(:func:`core.execution.order_manager.client_order_id`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from core.clock import IST
from core.strategies.base import Signal, SignalStream, Strategy
from core.trading.manager import Pending, TradeManager


def position_id(symbol: str, strategy: str, signal_time: dt.datetime) -> str:
    """``SYMBOL|strategy|YYYYmmddTHHMMSS`` of the signal bar (IST): one per decision."""
    return f"{symbol}|{strategy}|{signal_time.astimezone(IST):%Y%m%dT%H%M%S}"


@dataclass
class Slot:
    symbol: str
    strategy: Strategy
    stream: SignalStream
    manager: TradeManager
    armed: bool = False
    armed_at: dt.datetime | None = None
    failed: str = ""  # why the engine isolated this slot (a strategy error)
    last_signal: Signal | None = None
    last_signal_time: dt.datetime | None = None
    # the entry on its way (decided, not yet filled)
    entry_pid: str | None = None
    entry_trace: str = ""
    entering: Pending | None = None
    entry_coid: str | None = None
    # the position held, and its exit orders
    position_id: str | None = None
    trace_id: str = ""
    stop_coid: str | None = None
    stop_role: str = "S"  # S, then S2, S3 ... when a stop is put back after a refused exit
    target_coid: str | None = None
    partial_coids: list[str] = field(default_factory=list)
    exits: int = 0
    exit_reason: str = ""
    trade_pnl: Decimal = Decimal(0)  # the held position's closed legs so far, net of charges
    # the last SlotView published, with what it showed: an unchanged slot publishes the same
    # object again, so the UI can skip it by identity (snapshot.slot_view)
    view: tuple[tuple[object, ...], object] | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.symbol, self.strategy.name

    @property
    def name(self) -> str:
        return f"{self.symbol}:{self.strategy.name}"

    def begin_entry(self, pid: str, pending: Pending, coid: str) -> None:
        """A decision to enter: its position id, trace and entry order."""
        self.entry_pid, self.entry_trace, self.entering, self.entry_coid = pid, f"t|{pid}", pending, coid

    def clear_entry(self) -> None:
        self.entry_pid, self.entry_trace, self.entering, self.entry_coid = None, "", None, None

    def hold(self) -> None:
        """The entry filled: its position is now the one held."""
        self.position_id, self.trace_id = self.entry_pid, self.entry_trace
        self.stop_coid = self.target_coid = None
        self.stop_role = "S"
        self.partial_coids = []
        self.exits = 0
        self.exit_reason = ""

    def clear_position(self) -> None:
        """The held position is closed."""
        self.position_id, self.trace_id = None, ""
        self.stop_coid = self.target_coid = None
        self.stop_role = "S"
        self.partial_coids = []
        self.exits = 0
        self.exit_reason = ""
