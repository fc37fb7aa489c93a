"""Restart recovery: what the engine held when it stopped, read back from the journal.

The journal is the source of truth (DESIGN.md §3.5): every order intent, acknowledgement and
fill is on disk before anything acts on it, and so are arms, disarms, the trader's commands and
trading-state changes. :func:`read_book` folds one journal file (the newest day of a mode) into
a :class:`JournalBook`; :meth:`core.automation.engine.Engine.restore` takes it back:

- **orders**: every order of the day, so their client order ids are spent and never sent again;
  the working ones (with the trigger, limit and quantity of their last modification) go back to
  the broker's book (:meth:`~core.execution.broker.Broker.resume`);
- **positions** still open, with what their entry decision knew (the signal's ATR, confidence and
  time, carried on the entry intent) so trade management rebuilds the same stop, target,
  trailing and scale-out levels, and the stop's last modification (level and kind: stop,
  breakeven, trail);
- **entries in flight**: a working entry order still becomes its position when it fills;
- **arms** made today and neither disarmed nor expired at the cutoff;
- **the trading state** and its **lock** (the kill switch's, or the daily loss limit's), which
  holds across days until a human lifts it (each session's start records the lock);
- today's **realised P&L** (points x quantity, as the engine counts it) and entries per pair.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.errors import DataError
from core.execution.orders import Order, OrderRequest, OrderStatus, OrderType, Purpose, Side
from core.instants import parse_utc
from core.journal.reader import iter_records, journal_files
from core.journal.records import Record, RecordType
from core.journal.replay import OrderState, PositionState, ReplayState
from core.risk.state import LOCKS, TradingState
from core.trading.manager import Action, ExitReason, Pending, Position, TradeManager

Pair = tuple[str, str]


@dataclass
class JournalBook:
    """The engine's state at the end of a journal file."""

    day: dt.date | None = None
    session_open: bool = False  # a session_start without its session_end: the process stopped mid-session
    fold: ReplayState = field(default_factory=ReplayState)  # orders, positions and legs
    entries: dict[str, Pending] = field(default_factory=dict)  # entry coid -> the decision behind it
    margin_prices: dict[str, float] = field(default_factory=dict)  # entry coid -> the price its margin was blocked at
    armed: set[Pair] = field(default_factory=set)
    armed_today: set[Pair] = field(default_factory=set)
    state: TradingState = TradingState.ACTIVE
    halt_reason: str = ""  # a lock (LOCKS: until a human lifts it), or "cutoff" (until the next session)
    cutoff_done: bool = False
    entries_today: Counter[Pair] = field(default_factory=Counter)
    last_time: dt.datetime | None = None
    guard: dict[str, Any] = field(default_factory=dict)  # the portfolio guard's last state note of the day

    @property
    def open_positions(self) -> list[PositionState]:
        return self.fold.open_positions

    def orders(self) -> list[Order]:
        """Every order of the file as the order manager keeps them (the working ones as the broker holds them)."""
        return [_order(o) for o in self.fold.orders.values()]

    @property
    def traces(self) -> dict[str, str]:
        return {coid: o.trace_id for coid, o in self.fold.orders.items()}

    def sent_since(self, since: dt.datetime) -> list[dt.datetime]:
        """When each order sent after ``since`` went out, oldest first (for the order-rate throttle)."""
        return sorted(t for t in (parse_utc(o.sent_at) for o in self.fold.orders.values() if o.sent_at) if t > since)

    @property
    def realised(self) -> Decimal:
        """Realised points x quantity of the file's closed legs, summed as the engine sums them."""
        total = Decimal(0)
        for pos in self.fold.positions.values():
            for qty, _when, price, _reason in pos.legs:
                total += Decimal(repr((price - pos.entry_price) * pos.side)) * qty
        return total

    def apply(self, rec: Record) -> None:
        """Fold one record (in file order)."""
        self.last_time = parse_utc(rec.ts)
        self.fold.apply(rec)
        handler = _HANDLERS.get(rec.type)
        if handler is not None:
            handler(self, rec)


def read_book(path: Path) -> JournalBook:
    """Fold a journal file (verified as it is read; a torn tail ends it) into a book."""
    book = JournalBook()
    for rec in iter_records(path):
        book.apply(rec)
    return book


def latest_book(home: Path | None, mode: str) -> tuple[JournalBook, Path | None]:
    """The book of the newest journal file of ``mode`` under ``home`` (empty when there is none)."""
    files = journal_files(home, mode=mode)
    if not files:
        return JournalBook(), None
    return read_book(files[-1]), files[-1]


def _order(state: OrderState) -> Order:
    p = state.intent
    request = OrderRequest(
        state.client_order_id, p["symbol"], p["strategy"], Side(p["side"]), state.qty,
        OrderType(p["order_type"]), Purpose(p["purpose"]), p["position_id"],
        limit_price=_price(state.limit_price), trigger_price=_price(state.trigger_price), reason=p.get("reason", ""),
    )
    sent = parse_utc(state.sent_at) if state.sent_at else None  # (a new session forgets it once finished)
    return Order(request, OrderStatus(state.status), state.filled_qty, state.avg_price, state.broker_order_id,
                 created_at=sent, updated_at=sent)


# -- the fold, one handler per record type -----------------------------------------------------

def _session_start(book: JournalBook, rec: Record) -> None:
    p = rec.payload
    book.day = dt.date.fromisoformat(p["day"])
    book.session_open = True
    book.armed.clear()
    book.armed_today.clear()
    book.entries_today.clear()
    book.cutoff_done = False
    book.guard = {}
    book.halt_reason = p.get("lock") or ""


def _session_end(book: JournalBook, rec: Record) -> None:
    book.session_open = False


def _intent(book: JournalBook, rec: Record) -> None:
    p = rec.payload
    if p.get("purpose") != "entry" or "atr" not in p:
        return
    try:
        book.entries[p["client_order_id"]] = Pending(
            Action[str(p.get("action", "enter")).upper()], Side(p["side"]).sign, float(p["atr"]),
            float(p.get("confidence", "0")), parse_utc(p["signal_time"]),
        )
        if "margin_price" in p:
            book.margin_prices[p["client_order_id"]] = float(p["margin_price"])
    except (KeyError, ValueError) as exc:
        raise DataError(f"unreadable entry decision on the order intent: {exc}", where=f"seq {rec.seq}") from exc


def _fill(book: JournalBook, rec: Record) -> None:
    p = rec.payload
    order = book.fold.orders.get(p["client_order_id"])
    if p["purpose"] == "entry" and order is not None and order.filled_qty == int(p["qty"]):  # its first part
        book.entries_today[(p["symbol"], p["strategy"])] += 1


def _arm(book: JournalBook, rec: Record) -> None:
    p = rec.payload
    if p.get("ok"):
        pair = (p["symbol"], p["strategy"])
        book.armed.add(pair)
        book.armed_today.add(pair)


def _disarm(book: JournalBook, rec: Record) -> None:
    book.armed.discard((rec.payload["symbol"], rec.payload["strategy"]))


def _command(book: JournalBook, rec: Record) -> None:
    command = rec.payload.get("command")
    if command == "kill":
        book.halt_reason = "kill"
    elif command == "reset_lock" and book.halt_reason in LOCKS:
        book.halt_reason = "cutoff" if book.cutoff_done else ""


def _state(book: JournalBook, rec: Record) -> None:
    book.state = TradingState(rec.payload["state"])
    if rec.payload.get("lock"):
        book.halt_reason = rec.payload["lock"]


def _note(book: JournalBook, rec: Record) -> None:
    if rec.payload.get("event") == "guard":
        book.guard = dict(rec.payload)
    if rec.payload.get("event") == "cutoff":
        book.cutoff_done = True
        book.armed.clear()
        if book.halt_reason not in LOCKS:
            book.halt_reason = "cutoff"


_HANDLERS = {
    RecordType.SESSION_START: _session_start,
    RecordType.SESSION_END: _session_end,
    RecordType.ORDER_INTENT: _intent,
    RecordType.FILL: _fill,
    RecordType.ARM: _arm,
    RecordType.DISARM: _disarm,
    RecordType.COMMAND: _command,
    RecordType.STATE: _state,
    RecordType.NOTE: _note,
}

def position_levels(tm: TradeManager, decided: Pending, price: float, when: dt.datetime) -> Position:
    """The position an entry filled at ``price`` opened, as trade management built it then (today's
    entry limit aside: the entry already happened). Without the decision's ATR, a bare position
    whose stop the caller sets from the journal."""
    saved, tm.trades_today = tm.trades_today, 0
    try:
        pos = tm.position_at(decided, price, when)
    finally:
        tm.trades_today = saved
    if pos is not None:
        return pos
    nan = math.nan
    return Position(side=decided.side, qty=0, entry_price=price, entry_time=when, signal_time=decided.signal_time,
                    confidence=decided.confidence, stop=nan, stop_kind=ExitReason.STOP, initial_stop=nan, target=nan,
                    trail_dist=nan, trail_after=0.0, breakeven_dist=nan, best=price)


def _price(text: object) -> float | None:
    return None if text in (None, "") else float(text)  # type: ignore[arg-type]


def spent_roles(client_order_ids: Iterable[str], position_id: str, prefix: str) -> list[int]:
    """The numbers of a position's orders whose role is ``prefix`` + digits (X1, X2, S2 ...)."""
    numbers = []
    for coid in client_order_ids:
        pid, _, role = coid.rpartition("|")
        if pid == position_id and role.startswith(prefix) and role[len(prefix):].isdigit():
            numbers.append(int(role[len(prefix):]))
    return numbers
