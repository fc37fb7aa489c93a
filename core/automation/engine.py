"""The Engine: one event loop that owns all live state (DESIGN.md §2).

Everything reaches the engine as a typed event — ticks, closed bars, the end of a session's
data, broker updates and fills, timers, the trader's commands — and it handles them one at a
time on one thread, in order. Nothing else writes live state. Under a
:class:`~core.clock.SimClock` the clock is moved to each event's time, so the same inputs give
the same journal, record for record.

Per event:

- **Timers first.** Every timer due at or before the event's time fires before it: the daily
  cutoff (and an earlier cutoff a strategy sets) is never skipped by a feed that jumps.
- **Tick**: the broker fills what it can (market orders at the next price; protective orders
  that the price crossed); the bar builder, on tick-only feeds, closes bars by the clock.
- **Bar closed**: the broker settles the bar's range against resting orders; each position's
  stop moves to breakeven or trails (the protective order is modified); every slot's strategy
  sees the bar, and the armed ones act on their decision (through the risk checks).
- **Session end** (data for the day stopped before the cutoff): working entries are cancelled and
  positions exit at the last price, as the simulator does.
- **Cutoff**: trading state REDUCING; every arm expires; working entries are cancelled; every
  position exits at market, re-sent until flat; then HALTED for new entries until the next
  session.
- **Kill**: HALTED and locked until a human resets it; working entries cancelled; every position
  flattened; every step journaled.

A strategy that raises is isolated: its slot is disarmed, its working entry cancelled, an alert
raised; its open position keeps its protective orders and the cutoff; the engine runs on.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import queue
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from core.automation.arming import ArmCheck, pre_arm_failures
from core.automation.events import (
    Arm,
    CancelOrder,
    Command,
    Disarm,
    ExitPosition,
    Idle,
    Kill,
    ResetLock,
    Timer,
)
from core.automation.kill_triggers import KillTriggers
from core.automation.market_tape import MarketTape
from core.automation.portfolio_guard import PortfolioGuard
from core.automation.recovery import JournalBook, position_levels, spent_roles
from core.automation.slot import Slot, position_id
from core.automation.snapshot import Alert, Snapshot, Throttle, build_snapshot, level_or_none
from core.clock import IST, MarketClock, SimClock
from core.errors import ConfigError
from core.execution.broker import Broker, BrokerEvent, FillEvent, OrderUpdate
from core.execution.order_manager import OrderManager, RecordSink, client_order_id, price_text
from core.execution.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Purpose, Side
from core.instants import from_epoch_ns, utc_text
from core.journal.records import RecordType
from core.journal.replay import PositionState
from core.market.bar_builder import BarBuilder
from core.market.bars import Bar
from core.market.events import BarClosed, SessionEnd, Tick
from core.market.history import BarHistory
from core.market.instruments import InstrumentMaster, default_master
from core.risk.engine import RiskEngine
from core.risk.state import LOCK_NAMES, LOCKS, TradingState
from core.strategies.base import Signal, Strategy
from core.strategies.priority import prioritise_one
from core.trading.manager import Action, ExitReason, Pending, Position, TradeManager

_REASONS = {r.label: r for r in ExitReason}
_NEVER = dt.datetime(1970, 1, 1, tzinfo=IST)

HISTORY_BARS = 3000  # bars kept per symbol to warm up a pair armed later in the day
ALERTS_KEPT = 1000  # alerts kept in memory across sessions (every one is in the journal)


class Engine:
    """Hosts strategies, trade management, risk and orders; fed by events, read by snapshots."""

    def __init__(
        self,
        clock: MarketClock,
        broker: Broker,
        risk: RiskEngine,
        strategies: Mapping[str, Strategy],
        *,
        record: RecordSink | None = None,
        master: InstrumentMaster | None = None,
        mode: str = "replay",
        costs: str = "none",
        priority: str = "best",
        build_bars: bool = False,
        stale_after: dt.timedelta = dt.timedelta(seconds=90),
        config_hash: str = "",
        app_version: str = "",
        on_snapshot: Callable[[Snapshot], None] | None = None,
        snapshot_hz: float = 10.0,
        id_prefix: str = "",
        tape: MarketTape | None = None,
    ) -> None:
        self.clock = clock
        self.broker = broker
        self.risk = risk
        self.strategies = dict(strategies)
        self.master = master or default_master()
        self.mode = mode
        self.costs = costs
        self.priority = priority
        self.stale_after = stale_after
        self.config_hash = config_hash
        self.app_version = app_version
        self.id_prefix = id_prefix  # a replay run's tag; live and paper ids must survive a restart
        self._throttle = Throttle(snapshot_hz, on_snapshot) if on_snapshot is not None else None
        self._record = record
        self.tape = tape  # the desk's view of the market between snapshots (None: headless)
        self.orders = OrderManager(broker, clock, record)
        self.builder = BarBuilder(clock) if build_bars else None
        self.slots: dict[tuple[str, str], Slot] = {}
        self._by_symbol: dict[str, list[Slot]] = {}
        self.history: dict[str, BarHistory] = {}
        self.last_tick: dict[str, Tick] = {}
        self.last_tick_time: dt.datetime | None = None
        self.alerts: list[Alert] = []
        self.standing_arms: list[tuple[str, str]] = []  # re-armed at each session's first tick
        self.day: dt.date | None = None
        self.day_realised = Decimal(0)
        self.halt_reason = ""
        self.entry_hold = ""  # why entries are held (broker session ended, books disagree, feed stale), or ""
        self.refusals = 0
        self._timers: list[Timer] = []
        self._inbox: queue.SimpleQueue[Command | Timer] = queue.SimpleQueue()
        self._armed_today: set[tuple[str, str]] = set()
        self._held: list[tuple[OrderRequest, str]] = []
        self._cutoff_done: dt.date | None = None
        self._sim = isinstance(clock, SimClock)
        self._today = (_NEVER, _NEVER)  # the IST calendar day of the last event: [start, end)
        self._cutoff_of: tuple[dt.date | None, dt.datetime | None] = (None, None)  # the day's cutoff, looked up once
        self._holding: set[tuple[str, str]] = set()  # slots with an open position
        self.guard = PortfolioGuard(self)  # sizing, exposure, tail risk, drawdown (core.risk.portfolio_risk)
        self.kill_triggers = KillTriggers(self)  # the kill switch pulled by rules over the engine's telemetry
        self.lift_locks_daily = False  # a simulation's stand-in for the trader who resets a lock overnight

    # ------------------------------------------------------------------ entry points

    def post(self, command: Command | Timer) -> None:
        """Queue a command (or a scheduler's timer) from any thread; applied before the next event."""
        self._inbox.put(command)

    def run(self, events: Iterable[Any]) -> None:
        """Consume a feed to its end (headless replay)."""
        for event in events:
            self.handle(event)
        self.drain_commands()

    def handle(self, event: Any) -> None:
        """Handle one event (market, broker, command, timer, or a live feed's :class:`Idle`: time
        moves on to the clock's now), after the commands and timers due."""
        when = self.clock.now() if isinstance(event, Idle) else getattr(event, "time", None)
        if when is not None:
            self._advance(when)
        self.drain_commands()
        if isinstance(event, Idle):
            pass  # the advance above was the point: bars close on time, the cutoff and timers fire
        elif isinstance(event, Tick):
            self._on_tick(event)
        elif isinstance(event, BarClosed):
            self._on_bar(event.bar)
        elif isinstance(event, SessionEnd):
            self._on_session_end(event)
        elif isinstance(event, (OrderUpdate, FillEvent)):
            self._apply_broker([event])
        elif isinstance(event, Timer):
            self._fire(event)
        else:
            self._command(event)
        self.drain_commands()  # a kill an automatic trigger pulled during this event
        self._flatten_if_due()
        self.publish()

    def publish(self, *, force: bool = False) -> None:
        """Offer a snapshot to the subscriber (at most ``snapshot_hz`` a second unless forced)."""
        if self._throttle is not None:
            self._throttle.offer(self.snapshot, force=force)

    def finish(self) -> None:
        """The feed is over: close the day's session in the journal (and publish a last snapshot)."""
        self.drain_commands()
        if self.day is not None:
            self._write(RecordType.SESSION_END, {"day": self.day.isoformat()}, "")
            self.day = None
        self.publish(force=True)

    def drain_commands(self) -> None:
        inbox = self._inbox
        if inbox.empty():
            return
        while True:
            try:
                command = self._inbox.get_nowait()
            except queue.Empty:
                return
            self._command(command)

    def snapshot(self) -> Snapshot:
        return build_snapshot(self)

    # ------------------------------------------------------------------ restart

    def warm(self, bars: Iterable[Bar]) -> None:
        """Bars the feed showed before this engine started (oldest first): indicators, trailing
        stops and reference prices warm up on them. Call before the first event."""
        for bar in bars:
            self._remember(bar)
            self.risk.rms.mark(bar.symbol, bar.close)

    def restore(self, book: JournalBook, warmup: Iterable[Bar] = ()) -> None:
        """Take back what the journal says this engine held when its process stopped.

        Call once, before the first event, with the bars the feed showed before the stop (a live
        restart fetches them as historical candles), oldest first: indicators and trailing stops
        warm up on them. What comes back is listed in :mod:`core.automation.recovery`; protective
        orders a crash kept from being sent go out now, and nothing already sent is sent again.
        """
        self.warm(warmup)
        if isinstance(self.clock, SimClock) and book.last_time is not None and book.last_time > self.clock.now():
            self.clock.set(book.last_time)
        now = self.clock.now()
        today = now.astimezone(IST).date()
        orders = book.orders()
        self.orders.restore(orders, book.traces)
        self.halt_reason = book.halt_reason
        same_day = book.session_open and book.day == today
        if book.session_open:
            self.day = book.day  # a new day closes it in the journal, as a running engine would
        if same_day:
            self.day_realised = book.realised
            self.guard.restore(book.guard)
            self._armed_today = set(book.armed_today)
            self._cutoff_done = today if book.cutoff_done else None
            self.risk.rms.on_exit("", 0, book.realised)  # the day's realised P&L back in the account
        if book.state is not self.risk.state:
            self._set_state(book.state, "restored from the journal")
        for sent in book.sent_since(now - dt.timedelta(seconds=61)):  # the order-rate throttle's memory
            self.risk.record_sent(sent)
        for held in book.open_positions:
            self._restore_position(self._slot(held.symbol, held.strategy), held, book)
        for order in orders:
            if order.working and order.request.purpose is Purpose.ENTRY:
                self._restore_entry(order, book)
        if same_day:
            for key in book.armed:
                slot = self._slot(*key)
                slot.armed, slot.armed_at = True, now
            for key, slot in self.slots.items():
                slot.manager.day, slot.manager.trades_today = today, book.entries_today[key]
        self._apply_broker(self.broker.resume([o for o in orders if o.working], now))
        for order in self.orders.working():  # the crash came between a position's close and these cancels
            slot = self.slots.get((order.request.symbol, order.request.strategy))
            held = slot is not None and slot.manager.position is not None and slot.position_id == order.request.position_id
            if order.request.purpose is Purpose.EXIT and not held:
                self._apply_broker(self.orders.cancel(order.client_order_id, "restart: its position is closed"))
        for slot in self.slots.values():
            if slot.manager.position is not None:
                self._protect(slot)
                self._resize_protection(slot)  # ... or between a scale-out and the cut of its stop and target
        if self.day is not None:
            self._schedule(self.day)
        positions = [self._restored_view(s) for s in self.slots.values() if s.manager.position is not None]
        armed = sorted(f"{s.symbol}:{s.strategy.name}" for s in self.slots.values() if s.armed)
        working = len(self.orders.working())
        self._write(RecordType.NOTE, {"event": "restored", "positions": positions, "armed": armed,
                                      "working_orders": working, "state": self.risk.state.value,
                                      "halt_reason": self.halt_reason}, "")
        self._alert("warning", f"restarted from the journal: {len(positions)} open position(s), {working} working "
                               f"order(s), {len(armed)} armed, state {self.risk.state.value}")

    def _restored_view(self, slot: Slot) -> dict[str, Any]:
        """A restored position for the journal: its quantity and the stop that protects it now."""
        pos = slot.manager.position
        assert pos is not None
        stop = self.orders.orders.get(slot.stop_coid) if slot.stop_coid else None
        return {"position_id": slot.position_id, "qty": pos.qty, "stop": price_text(level_or_none(pos.stop)),
                "stop_kind": pos.stop_kind.label, "stop_order": slot.stop_coid,
                "stop_working": stop is not None and stop.working,
                "stop_trigger": price_text(stop.request.trigger_price) if stop is not None else None}

    def _slot(self, symbol: str, strategy: str) -> Slot:
        if strategy not in self.strategies:
            raise ConfigError(f"the journal holds {symbol}:{strategy}, but strategy {strategy!r} is not configured",
                              where="restart")
        return self.slots.get((symbol, strategy)) or self._new_slot(symbol, strategy)

    def _restore_position(self, slot: Slot, held: PositionState, book: JournalBook) -> None:
        """Rebuild trade management's position: the entry decision's levels, the broker's live stop."""
        pid = held.position_id
        entry_coid = client_order_id(pid, "E")
        entry_time = from_epoch_ns(held.entry_ns)
        signal_time = from_epoch_ns(held.signal_ns)
        decided = book.entries.get(entry_coid) or Pending(Action.ENTER, held.side, math.nan, held.confidence,
                                                          signal_time)
        tm = slot.manager
        pos = position_levels(tm, decided, held.entry_price, entry_time)
        pos.qty, pos.initial_stop = held.open_qty, held.initial_stop
        spent_stops = spent_roles(book.fold.orders, pid, "S")
        stop_role = f"S{max(spent_stops)}" if spent_stops else "S"  # the newest stop put back, if any
        stop = book.fold.orders.get(client_order_id(pid, stop_role))
        if stop is not None and stop.trigger_price is not None:
            pos.stop = float(stop.trigger_price)
            pos.stop_kind = _REASONS.get(stop.kind or "stop", ExitReason.STOP)
        elif pos.stop != pos.stop:
            pos.stop = held.initial_stop  # never sent (the stop came before it): the entry's own stop
        target = book.fold.orders.get(client_order_id(pid, "T"))
        if target is not None and not target.working:
            pos.target = math.nan  # cancelled at the broker: nothing to rebuild
        for bar in self.history.get(slot.symbol, ()):
            if bar.end > entry_time:
                pos.best = max(pos.best, bar.high) if pos.side > 0 else min(pos.best, bar.low)
        tm.position = pos
        slot.begin_entry(pid, decided, entry_coid)
        slot.hold()
        slot.stop_role = stop_role
        self._holding.add(slot.key)
        slot.trace_id = held.trace_id or slot.trace_id
        slot.clear_entry()
        slot.exits = max(spent_roles(self.orders.orders, pid, "X"), default=0)  # restored above
        self.risk.rms.adopt(pid, held.symbol, Side.of(held.side), held.open_qty, held.entry_price,
                            book.margin_prices.get(entry_coid))
        self.guard.expose(slot)

    def _restore_entry(self, order: Order, book: JournalBook) -> None:
        """A working entry order: its slot waits for the fill as before the stop."""
        req = order.request
        decided = book.entries.get(req.client_order_id)
        slot = self._slot(req.symbol, req.strategy)
        if decided is None:  # written by a version that did not journal the decision: cannot be held
            self._alert("error", f"{req.client_order_id}: entry without its decision in the journal; cancelling it")
            self._apply_broker(self.orders.cancel(req.client_order_id, "restart: entry decision unknown"))
            return
        held_id, held_trace = slot.position_id, slot.trace_id
        slot.begin_entry(req.position_id, decided, req.client_order_id)
        if held_id == req.position_id:  # part-filled: the held position is this entry's
            slot.position_id, slot.trace_id = held_id, held_trace
        reference = book.margin_prices.get(req.client_order_id) or self._reference_price(req.symbol)
        if reference is not None:
            self.risk.rms.block(req.client_order_id, req.symbol, req.side, order.open_qty, reference)
        self.guard.expose(slot)

    # ------------------------------------------------------------------ time

    def _advance(self, when: dt.datetime) -> None:
        clock = self.clock
        if self._sim and when > clock.now():
            clock.set(when)
        now = clock.now()
        if not self._today[0] <= now < self._today[1]:  # a new calendar day (IST): is it a session?
            day = now.astimezone(IST).date()
            start = dt.datetime.combine(day, dt.time(0), IST)
            self._today = (start, start + dt.timedelta(days=1))
            if day != self.day and clock.session(now) is not None:
                self._new_day(day)
        if self._held:
            self._send_held()
        while self._timers and self._timers[0].time <= now:
            self._fire(self._timers.pop(0))
        if self._cutoff_of[0] != self.day:
            self._cutoff_of = (self.day, self.clock.cutoff_at(self.day) if self.day is not None else None)
        cutoff = self._cutoff_of[1]
        if cutoff is not None and now >= cutoff and self._cutoff_done != self.day:
            self._fire(Timer("cutoff", cutoff))  # the watchdog: a late or lost timer changes nothing
        if self.builder is not None:
            for closed in self.builder.on_time(now):
                self._on_bar(closed.bar)

    def _new_day(self, day: dt.date) -> None:
        if self.day is not None:
            self._write(RecordType.SESSION_END, {"day": self.day.isoformat()}, "")
        self.day = day
        self.day_realised = Decimal(0)
        self.guard.new_day()
        self._armed_today.clear()
        self.orders.forget_finished(dt.datetime.combine(day, dt.time(0), IST))
        del self.alerts[:-ALERTS_KEPT]
        self._write(RecordType.SESSION_START, {
            "day": day.isoformat(), "mode": self.mode, "config_hash": self.config_hash,
            "app_version": self.app_version, "costs": self.costs, "lock": self.locked,
        }, "")
        if self.lift_locks_daily and self.locked:
            self._reset_lock("the simulator, at the next session (as a trader would before the open)")
        if self.halt_reason == "cutoff":  # the cutoff halts a day; a lock stays until a human lifts it
            self.halt_reason = ""
            self._set_state(TradingState.ACTIVE, "a new session")
        elif self.halt_reason == "loss":
            self._set_state(TradingState.REDUCING, "the daily loss lock holds until lifted by hand")
        elif self.halt_reason == "drawdown":
            self._set_state(TradingState.HALTED, "the drawdown lock holds until lifted by hand")
        if self.entry_hold:
            self._set_state(TradingState.REDUCING, self.entry_hold)
        self._schedule(day)

    def _schedule(self, day: dt.date) -> None:
        cutoff = self.clock.cutoff_at(day)
        if cutoff is None:
            return
        timers = [Timer("cutoff", cutoff)]
        for slot in self.slots.values():
            own = self._slot_cutoff(slot, day)
            if own < cutoff:
                timers.append(Timer("slot_cutoff", own, slot.key))
        self._timers = sorted(timers, key=lambda t: t.time)

    def _schedule_slot(self, slot: Slot, day: dt.date) -> None:
        """A strategy's own earlier cutoff, as a timer (once; not when it has passed)."""
        cutoff = self.clock.cutoff_at(day)
        own = self._slot_cutoff(slot, day)
        if cutoff is None or own >= cutoff or own <= self.clock.now():
            return
        timer = Timer("slot_cutoff", own, slot.key)
        if timer not in self._timers:
            bisect.insort(self._timers, timer, key=lambda t: t.time)

    @staticmethod
    def _slot_cutoff(slot: Slot, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, slot.strategy.trade.cutoff, tzinfo=IST)

    # ------------------------------------------------------------------ market events

    def _on_tick(self, tick: Tick) -> None:
        prev = self.last_tick.get(tick.symbol)
        first_today = prev is None or prev.time < self._today[0]  # _advance set today's bounds (IST)
        self.last_tick[tick.symbol] = tick
        self.last_tick_time = tick.time
        if self.tape is not None:
            self.tape.tick(tick)
        self.risk.rms.mark(tick.symbol, tick.price)
        self._apply_broker(self.broker.on_tick(tick))
        if first_today:
            for symbol, strategy in self.standing_arms:
                if symbol == tick.symbol and (symbol, strategy) not in self._armed_today:
                    self._arm(Arm(symbol, strategy))
        if self.builder is not None:
            for closed in self.builder.on_tick(tick):
                self._on_bar(closed.bar)
        self.guard.watch_drawdown()

    def _on_bar(self, bar: Bar) -> None:
        self._apply_broker(self.broker.on_bar_close(bar))
        self._remember(bar)
        self.guard.risk.on_bar(bar)
        slots = self._by_symbol.get(bar.symbol, ())
        for slot in slots:
            if slot.manager.day != bar.start.date():
                slot.manager.day = bar.start.date()
                slot.manager.trades_today = 0
            if slot.manager.position is not None:
                self._trail(slot, bar)
        decisions: dict[str, Signal] = {}
        for slot in slots:
            signal = self._update_stream(slot, bar)
            if signal is not None and slot.armed:
                decisions[slot.strategy.name] = signal
        if not decisions:
            return
        decided = prioritise_one(decisions, self.priority)
        for name, signal in decided.items():
            slot = self.slots[(bar.symbol, name)]
            if slot.armed:
                self._decide(slot, signal, bar)

    def _on_session_end(self, event: SessionEnd) -> None:
        for slot in list(self._by_symbol.get(event.symbol, ())):
            self._cancel_entry(slot, "the session's data ended")
            if slot.manager.position is not None:
                self._exit(slot, "session_end")
        self._apply_broker(self.broker.on_session_end(event))

    def _update_stream(self, slot: Slot, bar: Bar) -> Signal | None:
        try:
            signal = slot.stream.update(bar)
        except Exception as exc:  # noqa: BLE001 - isolate a failing strategy; the engine runs on
            self._isolate(slot, f"{type(exc).__name__}: {exc}")
            return None
        slot.last_signal, slot.last_signal_time = signal, bar.start
        return signal

    # ------------------------------------------------------------------ decisions

    def _decide(self, slot: Slot, signal: Signal, bar: Bar) -> None:
        tm = slot.manager
        tm.on_signal(signal, bar)
        pending, tm.pending = tm.pending, None
        if pending is None or slot.entry_coid is not None:
            return  # nothing to do, or an entry is still on its way
        if slot.manager.position is not None and slot.exits:
            return  # already leaving
        self._write(RecordType.SIGNAL, {
            "symbol": slot.symbol, "strategy": slot.strategy.name, "action": pending.action.name.lower(),
            "side": "LONG" if pending.side > 0 else "SHORT" if pending.side < 0 else "FLAT",
            "bar_time": utc_text(bar.start), "confidence": repr(float(signal.confidence)),
        }, f"t|{self.id_prefix}{position_id(slot.symbol, slot.strategy.name, bar.start)}")
        if pending.action is Action.EXIT:
            self._exit(slot, "signal")
            return
        # trade management's own gate (entry limit, warm-up), with the bar's close as the reference price
        probe = slot.manager.position_at(pending, bar.close, bar.end)
        if pending.action is Action.REVERSE:
            self._exit(slot, "reverse" if probe is not None else "signal")
        if probe is not None:
            self._enter(slot, pending, bar, probe)

    def _enter(self, slot: Slot, pending: Pending, bar: Bar, probe: Position) -> None:
        pid = self.id_prefix + position_id(slot.symbol, slot.strategy.name, bar.start)
        side = Side.of(pending.side)
        coid = client_order_id(pid, "E")
        if coid in self.orders.orders:  # decided before a restart: never sent twice
            return
        stop = None if probe.stop != probe.stop else probe.stop
        trace = f"t|{pid}"
        qty, sized, code, why = self.guard.entry_qty(slot, pending, side, bar.close, stop, coid)
        decided_at = {"price": repr(bar.close), "stop": price_text(stop), "sizing": sized}
        if qty <= 0:
            self._refuse_entry(slot, coid, code, why, trace, decided_at)
            return
        request = OrderRequest(coid, slot.symbol, slot.strategy.name, side, qty, OrderType.MARKET, Purpose.ENTRY, pid)
        decision = self.risk.check(request, price=bar.close, stop=stop, open_positions=self._open_positions,
                                   day_pnl=self.day_pnl)
        if decision.transition is not None:
            self._note_state_change(decision.transition.why)
        if not decision.accepted:
            self._refuse_entry(slot, coid, decision.code, decision.reason, trace, decided_at)
            return
        self._write(RecordType.RISK_CHECK, {"client_order_id": coid, "accepted": True, "code": decision.code,
                                            "reason": decision.reason, "qty": qty, **decided_at}, trace)
        slot.begin_entry(pid, pending, request.client_order_id)
        decided = {"action": pending.action.name.lower(), "atr": repr(float(pending.atr)), "margin_price": repr(bar.close),
                   "confidence": repr(float(pending.confidence)), "signal_time": utc_text(pending.signal_time)}
        self.kill_triggers.on_sent(self.clock.now())
        self._apply_broker(self.orders.submit(request, slot.entry_trace, decided))
        self.guard.expose(slot)

    def _refuse_entry(self, slot: Slot, coid: str, code: str, why: str, trace: str,
                      decided_at: Mapping[str, Any]) -> None:
        self._write(RecordType.RISK_CHECK, {"client_order_id": coid, "accepted": False, "code": code, "reason": why,
                                            **decided_at}, trace)
        self.refusals += 1
        self._alert("warning", f"{slot.name}: entry refused: {why}")

    def _exit(self, slot: Slot, reason: str) -> None:
        """Close the slot's whole open position at market (pending market exits are replaced)."""
        pos = slot.manager.position
        if pos is None or slot.position_id is None:
            return
        for order in self.orders.of_position(slot.position_id):
            if order.working and order.request.order_type is OrderType.MARKET and order.request.purpose is Purpose.EXIT:
                self._apply_broker(self.orders.cancel(order.client_order_id, f"replaced by a {reason} exit"))
        if slot.manager.position is None:
            return
        slot.exits += 1
        slot.exit_reason = reason
        request = OrderRequest(client_order_id(slot.position_id, f"X{slot.exits}"), slot.symbol, slot.strategy.name,
                               Side.of(-pos.side), pos.qty, OrderType.MARKET, Purpose.EXIT, slot.position_id,
                               reason=reason)
        self._submit(request, slot.trace_id)

    def _submit(self, request: OrderRequest, trace: str) -> None:
        """Send an exit order through the throttle; held back (and retried) when over the rate."""
        last = self.last_tick.get(request.symbol)
        decision = self.risk.check(request, price=last.price if last else 0.0, stop=None,
                                   open_positions=self._open_positions, day_pnl=self.day_pnl)
        if decision.transition is not None:
            self._note_state_change(decision.transition.why)
        if not decision.accepted:
            if not self._held:
                self._alert("warning", f"exits held back: {decision.reason}")
            self._held.append((request, trace))
            return
        self.kill_triggers.on_sent(self.clock.now())
        self._apply_broker(self.orders.submit(request, trace))

    def _send_held(self) -> None:
        """Retry exits the throttle held back, oldest first, while it lets them through."""
        held, self._held = self._held, []
        for request, trace in held:
            slot = self.slots.get((request.symbol, request.strategy))
            if slot is not None and slot.position_id == request.position_id and slot.manager.position is not None:
                self._submit(request, trace)

    def _cancel_entry(self, slot: Slot, why: str) -> None:
        if slot.entry_coid is None:
            return
        order = self.orders.orders.get(slot.entry_coid)
        if order is not None and order.working:
            self._apply_broker(self.orders.cancel(slot.entry_coid, why))
        if order is None or not order.working:
            slot.clear_entry()

    # ------------------------------------------------------------------ broker events

    def _apply_broker(self, events: Iterable[BrokerEvent]) -> None:
        for event in events:
            if isinstance(event, FillEvent):
                self._on_fill(event.fill)
            else:
                order = self.orders.apply(event)
                if order is not None and event.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED,
                                                          OrderStatus.EXPIRED):
                    self._order_ended(order.request, event)

    def _order_ended(self, request: OrderRequest, update: OrderUpdate) -> None:
        self.risk.rms.release(request.client_order_id)
        slot = self.slots.get((request.symbol, request.strategy))
        if slot is None:
            return
        if request.purpose is Purpose.ENTRY and slot.entry_coid == request.client_order_id:
            slot.clear_entry()
        self.guard.expose(slot)
        if update.status is OrderStatus.REJECTED:
            self._alert("error", f"{request.client_order_id} rejected: {update.message}")
            self.kill_triggers.on_reject(update.time, request.client_order_id, update.message)
        if request.purpose is Purpose.EXIT and slot.manager.position is not None:
            market_exit = request.order_type is OrderType.MARKET
            if market_exit and update.status in (OrderStatus.REJECTED, OrderStatus.EXPIRED):
                self._reprotect(slot, request, update)  # refused, or never acknowledged: the stop may be gone
            elif request.client_order_id == slot.stop_coid and not self._market_exit_working(slot):
                self._reprotect(slot, request, update)  # the stop ended without an exit taking its place

    def _market_exit_working(self, slot: Slot) -> bool:
        return any(o.working and o.request.order_type is OrderType.MARKET and o.request.purpose is Purpose.EXIT
                   for o in self.orders.of_position(slot.position_id or ""))

    def _reprotect(self, slot: Slot, refused: OrderRequest, update: OrderUpdate) -> None:
        """The position's stop may be gone while the position is open — a market exit refused or
        never acknowledged (a broker without one-cancels-other had cancelled the stop for it), or
        the stop itself cancelled, expired or refused (a quantity the broker could not modify): a
        new stop goes out under the next stop role, so the position is never left unprotected."""
        pos = slot.manager.position
        if pos is None or slot.position_id != refused.position_id or pos.stop != pos.stop:
            return
        stop = self.orders.orders.get(slot.stop_coid) if slot.stop_coid else None
        if stop is not None and stop.working:
            return
        spent = spent_roles(self.orders.orders, slot.position_id, "S")
        slot.stop_role = f"S{max(spent, default=1) + 1}"
        self._write(RecordType.NOTE, {"event": "reprotect", "client_order_id": refused.client_order_id,
                                      "stop": client_order_id(slot.position_id, slot.stop_role),
                                      "trigger_price": price_text(pos.stop)}, slot.trace_id)
        self._alert("warning", f"{slot.name}: {refused.client_order_id} {update.status.value} "
                               f"({update.message or 'no reason given'}); stop put back at {pos.stop:.2f}")
        self._protect(slot)

    def _on_fill(self, fill: Fill) -> None:
        order = self.orders.orders.get(fill.client_order_id)
        request = order.request if order is not None else None
        slot = self.slots.get((fill.symbol, request.strategy)) if request is not None else None
        if self.tape is not None:
            self.tape.fill(fill, request)
        if request is None or slot is None:
            self.orders.apply(FillEvent(fill))  # raises OrderError: a fill for an order never sent
            return
        if request.purpose is Purpose.ENTRY:
            self._entry_filled(slot, request, fill)
        else:
            self._exit_filled(slot, request, fill)

    def _entry_filled(self, slot: Slot, request: OrderRequest, fill: Fill) -> None:
        tm = slot.manager
        pos = tm.position
        if pos is not None and slot.position_id == request.position_id:  # another part of the same entry
            self.orders.apply(FillEvent(fill))
            total = pos.entry_price * pos.qty + fill.price * fill.qty
            pos.qty += fill.qty
            pos.entry_price = total / pos.qty
            self._resize_protection(slot)
            self.risk.rms.on_fill(request.client_order_id, fill.qty, fill.price, request.position_id)
            if not self.orders.orders[request.client_order_id].working:
                slot.clear_entry()
            self.guard.expose(slot)
            return
        if pos is not None or slot.entering is None or slot.entry_coid != request.client_order_id:
            # the position it reverses is still open (its exit is held back): do not stack a second one
            self.orders.apply(FillEvent(fill))
            self._alert("error", f"{slot.name}: entry {request.client_order_id} filled while another position is open")
            return
        pos = tm.position_at(slot.entering, fill.price, fill.time, qty=request.qty)
        extra = {"signal_time": utc_text(slot.entering.signal_time), "confidence": repr(float(slot.entering.confidence)),
                 "initial_stop": None if pos is None or pos.initial_stop != pos.initial_stop else repr(pos.initial_stop)}
        self.orders.apply(FillEvent(fill), extra)
        self.risk.rms.on_fill(request.client_order_id, fill.qty, fill.price, request.position_id)
        if pos is None:  # the limit or warm-up gate closed between order and fill: leave at once
            self._alert("warning", f"{slot.name}: entry filled but may not be held; exiting")
            return
        pos.qty = fill.qty
        tm.position = pos
        tm.trades_today += 1
        slot.hold()
        self._holding.add(slot.key)
        order = self.orders.orders[request.client_order_id]
        if not order.working:
            slot.clear_entry()
        self._protect(slot)
        self.guard.expose(slot)

    def _exit_filled(self, slot: Slot, request: OrderRequest, fill: Fill) -> None:
        tm = slot.manager
        pos = tm.position
        held = pos.qty if pos is not None and slot.position_id == request.position_id else 0
        if fill.qty > held:
            self._overfilled(request, fill, fill.qty - held)
            if held == 0:
                return
            fill = replace(fill, qty=held)
        assert pos is not None
        reason = request.reason
        if request.order_type in (OrderType.SL, OrderType.SL_M):
            reason = pos.stop_kind.label
        self.orders.apply(FillEvent(fill), {"reason": reason} if reason else None)
        qty = min(fill.qty, pos.qty)
        leg = tm.close(qty, fill.time, fill.price, _REASONS.get(reason, ExitReason.SIGNAL))
        pnl = Decimal(repr(leg.points)) * leg.qty
        self.day_realised += pnl
        self.risk.rms.on_exit(request.position_id, qty, pnl)
        self.guard.closed(slot, pnl, leg.entry_price, leg.exit_price, leg.qty, leg.side, leg.entry_time.date(),
                          leg.exit_time.date())
        if tm.position is None:
            for order in self.orders.of_position(request.position_id):
                if order.working:
                    self._apply_broker(self.orders.cancel(order.client_order_id, "its position is closed"))
            slot.clear_position()
            self._holding.discard(slot.key)
        self.guard.expose(slot)

    def _overfilled(self, request: OrderRequest, fill: Fill, excess: int) -> None:
        """An exit filled for more than its position held (two exits raced at a broker that has no
        one-cancels-other): the excess is a new position at the broker, not a trade of ours. It is
        journaled (a note, so the book's arithmetic stays whole) and entries are held until the
        trader has flattened it at the broker (the next reconciliation then finds the books agree)."""
        opened = "short" if request.side is Side.SELL else "long"
        self._write(RecordType.NOTE, {"event": "overfill", "client_order_id": request.client_order_id,
                                      "fill_id": fill.fill_id, "symbol": fill.symbol, "side": fill.side.value,
                                      "qty": excess, "price": repr(fill.price), "time": utc_text(fill.time)},
                    self.orders.traces.get(request.client_order_id, ""))
        if fill.qty == excess:
            order = self.orders.orders.get(request.client_order_id)
            if order is not None and order.working:
                self.orders.apply(OrderUpdate(request.client_order_id, OrderStatus.FILLED, fill.time,
                                              message=f"filled after its position was closed ({excess} over)"))
        self.hold_entries(f"{fill.symbol}: {request.client_order_id} filled {excess} more than its position held "
                          f"at {fill.price}: {excess} {opened} is open at the broker: flatten it there")

    # ------------------------------------------------------------------ holds from the host (broker, feed)

    def note(self, event: str, **fields: Any) -> None:
        """Journal a note from the engine's host (a reconciliation, the broker's health)."""
        self._write(RecordType.NOTE, {"event": event, **fields}, "")

    def alert(self, level: str, text: str) -> None:
        """Tell the trader (the desk shows alerts; headless runs log them)."""
        self._alert(level, text)

    def hold_entries(self, why: str) -> None:
        """Something outside the engine needs the trader: the broker's session ended, its books
        disagree with ours, the feed went stale. No new entry and no arming (REDUCING: exits only)
        until :meth:`release_entries`; a lock (kill, daily loss) is left as it is. Journaled and
        alerted once per cause."""
        if why == self.entry_hold:
            return
        self.entry_hold = why
        self._write(RecordType.NOTE, {"event": "entry_hold", "why": why}, "")
        if self.risk.state is TradingState.ACTIVE:
            self._set_state(TradingState.REDUCING, why)
        self._alert("critical", why)

    def release_entries(self, why: str) -> None:
        """What held entries is cleared (logged in again, books agree, ticks flow): entries resume
        unless something else holds them (a lock, the cutoff)."""
        if not self.entry_hold:
            return
        self.entry_hold = ""
        self._write(RecordType.NOTE, {"event": "entry_hold_lifted", "why": why}, "")
        if not self.halt_reason and self.risk.state is TradingState.REDUCING:
            self._set_state(TradingState.ACTIVE, why)
        self._alert("info", why)

    # ------------------------------------------------------------------ protective orders

    def _protect(self, slot: Slot) -> None:
        """Put the position's stop, scale-outs and target at the broker: each one not sent yet.

        Idempotent, so a restart calls it too: orders already working are adopted, none is sent twice.
        """
        pos = slot.manager.position
        assert pos is not None and slot.position_id is not None
        exit_side = Side.of(-pos.side)
        pid = slot.position_id
        name = slot.strategy.name
        if pos.stop == pos.stop:  # not NaN
            slot.stop_coid = self._protective(slot, OrderRequest(
                client_order_id(pid, slot.stop_role), slot.symbol, name, exit_side, pos.qty, OrderType.SL_M,
                Purpose.EXIT, pid,
                trigger_price=pos.stop, reason="stop"))
        slot.partial_coids = []
        for k, (level, qty) in enumerate(pos.partials, start=1):
            coid = self._protective(slot, OrderRequest(
                client_order_id(pid, f"P{k}"), slot.symbol, name, exit_side, qty, OrderType.LIMIT, Purpose.EXIT, pid,
                limit_price=level, reason="partial"))
            if coid is not None:
                slot.partial_coids.append(coid)
        if pos.target == pos.target and slot.manager.position is not None:
            slot.target_coid = self._protective(slot, OrderRequest(
                client_order_id(pid, "T"), slot.symbol, name, exit_side, pos.qty, OrderType.LIMIT, Purpose.EXIT, pid,
                limit_price=pos.target, reason="target"))

    def _protective(self, slot: Slot, request: OrderRequest) -> str | None:
        """Send one protective order unless it was sent before; its id while it works, else None."""
        order = self.orders.orders.get(request.client_order_id)
        if order is None and slot.manager.position is not None:
            self._submit(request, slot.trace_id)
            order = self.orders.orders.get(request.client_order_id)
        if order is None:  # held back by the throttle: it goes out (with this id) when the rate allows
            held = any(r.client_order_id == request.client_order_id for r, _ in self._held)
            return request.client_order_id if held else None
        return request.client_order_id if order.working else None

    def _trail(self, slot: Slot, bar: Bar) -> None:
        pos = slot.manager.position
        assert pos is not None
        before = pos.stop
        slot.manager.after_close(bar)
        if pos.stop == before or pos.stop != pos.stop or slot.stop_coid is None:
            return
        order = self.orders.orders.get(slot.stop_coid)
        if order is not None and order.working:
            self._apply_broker(self.orders.modify(slot.stop_coid, trigger_price=pos.stop, reason=pos.stop_kind.label))
        self.guard.expose(slot)

    def _resize_protection(self, slot: Slot) -> None:
        pos = slot.manager.position
        assert pos is not None
        for coid in (slot.stop_coid, slot.target_coid):
            order = self.orders.orders.get(coid) if coid else None
            if order is not None and order.working and order.open_qty != pos.qty:
                self._apply_broker(self.orders.modify(order.client_order_id, qty=pos.qty))

    # ------------------------------------------------------------------ commands

    def _command(self, command: Command | Timer) -> None:
        if isinstance(command, Timer):  # posted by a scheduler: bring the day up to date, then fire
            self._advance(command.time)
            self._fire(command)
        elif isinstance(command, Arm):
            self._arm(command)
        elif isinstance(command, Disarm):
            self._disarm(command.symbol, command.strategy, command.reason)
        elif isinstance(command, ExitPosition):
            slot = self.slots.get((command.symbol, command.strategy))
            self._write(RecordType.COMMAND, {"command": "exit", "symbol": command.symbol,
                                             "strategy": command.strategy}, "")
            if slot is not None:
                self._cancel_entry(slot, "the trader closed the position")
                self._exit(slot, "manual")
        elif isinstance(command, CancelOrder):
            self._cancel_order(command.client_order_id)
        elif isinstance(command, Kill):
            self._kill(command.reason)
        elif isinstance(command, ResetLock):
            self._reset_lock(command.by)
        else:
            raise ConfigError(f"unknown command {command!r}", where="engine")

    def _cancel_order(self, client_order_id: str) -> None:
        """The trader cancels a working entry; a protective order is never cancelled alone (an
        open position would lose its stop): closing the position is the way to remove it."""
        order = self.orders.orders.get(client_order_id)
        self._write(RecordType.COMMAND, {"command": "cancel", "client_order_id": client_order_id}, "")
        if order is None or not order.working:
            self._alert("warning", f"cannot cancel {client_order_id}: it is not a working order")
            return
        request = order.request
        if request.purpose is not Purpose.ENTRY:
            self._alert("warning", f"{client_order_id} protects an open position: exit the position instead")
            return
        slot = self.slots.get((request.symbol, request.strategy))
        if slot is not None and slot.entry_coid == client_order_id:
            self._cancel_entry(slot, "cancelled by the trader")
        else:
            self._apply_broker(self.orders.cancel(client_order_id, "cancelled by the trader"))

    def arm(self, symbol: str, strategy: str) -> ArmCheck:
        """Arm now (on the engine's thread): the pre-arm checks' verdict."""
        return self._arm(Arm(symbol, strategy))

    def _arm(self, command: Arm) -> ArmCheck:
        key = (command.symbol.upper(), command.strategy)
        failures = pre_arm_failures(self, *key)
        check = ArmCheck(key[0], key[1], tuple(failures))
        payload = {"symbol": key[0], "strategy": key[1], "ok": check.ok, "failures": list(failures)}
        self._write(RecordType.ARM, payload, "")
        if not check.ok:
            self._alert("warning", f"cannot arm {key[0]}:{key[1]}: {'; '.join(failures)}")
            slot = self.slots.get(key) or (self._new_slot(*key) if key[1] in self.strategies else None)
            if slot is not None and not slot.armed:  # the desk shows the check's verdict on the pair
                slot.failed = "; ".join(failures)
            return check
        slot = self.slots.get(key) or self._new_slot(*key)
        slot.armed, slot.armed_at, slot.failed = True, self.clock.now(), ""
        self._armed_today.add(key)
        if self.day is not None:
            self._schedule_slot(slot, self.day)
        return check

    def _new_slot(self, symbol: str, strategy_name: str) -> Slot:
        strategy = self.strategies[strategy_name]
        tick = self.master.get(symbol, self._reference_price(symbol)).tick_size
        slot = Slot(symbol, strategy, strategy.stream(), TradeManager(symbol, strategy.name, strategy.trade, tick))
        for bar in self.history.get(symbol, ()):  # warm the indicators on what the feed already showed
            self._update_stream(slot, bar)
        self.slots[(symbol, strategy_name)] = slot
        self._by_symbol.setdefault(symbol, []).append(slot)
        return slot

    def _remember(self, bar: Bar) -> None:
        history = self.history.get(bar.symbol)
        if history is None:
            history = self.history[bar.symbol] = BarHistory(bar.symbol, HISTORY_BARS, bar.minutes)
        history.append(bar)
        if self.tape is not None:
            self.tape.bar(bar)

    def _reference_price(self, symbol: str) -> float | None:
        if symbol in self.last_tick:
            return self.last_tick[symbol].price
        bars = self.history.get(symbol)
        last = bars.last() if bars is not None else None
        return last.close if last is not None else None

    def _disarm(self, symbol: str, strategy: str, reason: str) -> None:
        slot = self.slots.get((symbol, strategy))
        if slot is None or not slot.armed:
            return
        slot.armed = False
        self._write(RecordType.DISARM, {"symbol": symbol, "strategy": strategy, "reason": reason}, "")
        self._cancel_entry(slot, f"disarmed: {reason}")

    def _isolate(self, slot: Slot, error: str) -> None:
        slot.failed = error
        self._disarm(slot.symbol, slot.strategy.name, f"strategy error: {error}")
        self._alert("error", f"{slot.name} failed and was disarmed: {error}")

    def kill(self, reason: str) -> None:
        """The kill switch, pulled on the engine's thread by an automatic trigger: applied as the
        trader's would be, once the event being handled is done (not in the middle of it)."""
        self.post(Kill(reason))

    def _kill(self, reason: str) -> None:
        self._write(RecordType.COMMAND, {"command": "kill", "reason": reason}, "")
        self.halt_reason = "kill"
        self._set_state(TradingState.HALTED, f"kill switch: {reason}")
        self.stand_down("kill switch", "kill")
        self._alert("critical", f"KILL SWITCH: {reason}; halted until reset")

    def _reset_lock(self, by: str) -> None:
        self._write(RecordType.COMMAND, {"command": "reset_lock", "by": by, "lock": self.locked}, "")
        if not self.locked:
            return
        self.kill_triggers.reset()
        what = LOCK_NAMES.get(self.halt_reason, "lock")
        if self.day is not None and self._cutoff_done == self.day:
            self.halt_reason = "cutoff"
            self._set_state(TradingState.HALTED, f"{what} lifted by {by}; past the cutoff: no entries until the next session")
        else:
            self.halt_reason = ""
            self._set_state(TradingState.ACTIVE, f"{what} lifted by {by}")

    @property
    def locked(self) -> str:
        """The lock a human must lift (``kill``, ``loss`` or ``drawdown``), or ``""``."""
        return self.halt_reason if self.halt_reason in LOCKS else ""

    def lock(self, reason: str, state: TradingState, why: str) -> None:
        """A guardrail locks the engine (``reason`` in LOCKS) until a human lifts it; journaled even
        when the state does not change (REDUCING already, for an entry hold), so a restart has it."""
        self.halt_reason = reason
        self.risk.set_state(state, why)
        self._write(RecordType.STATE, {"state": self.risk.state.value, "why": why, "lock": self.locked}, "")
        self._alert("critical", f"trading state {state.value}: {why}; locked until lifted by hand")

    def stand_down(self, why: str, exit_reason: str) -> None:
        """Disarm every slot, cancel every working entry, exit every position at market."""
        for slot in list(self.slots.values()):
            self._disarm(slot.symbol, slot.strategy.name, why)
        for order in self.orders.working():
            if order.request.purpose is Purpose.ENTRY:
                self._apply_broker(self.orders.cancel(order.client_order_id, why))
        for slot in self.slots.values():
            if slot.manager.position is not None:
                self._exit(slot, exit_reason)

    # ------------------------------------------------------------------ cutoff

    def _fire(self, timer: Timer) -> None:
        if timer.name == "slot_cutoff" and timer.key is not None:
            slot = self.slots.get(timer.key)
            if slot is not None:
                self._disarm(*timer.key, "its strategy's cutoff")
                if slot.manager.position is not None:
                    self._exit(slot, "cutoff")
            return
        if self._cutoff_done == self.day:
            return
        self._cutoff_done = self.day
        self._write(RecordType.NOTE, {"event": "cutoff", "time": utc_text(timer.time)}, "")
        if not self.locked:
            self.halt_reason = "cutoff"
            self._set_state(TradingState.REDUCING, "the cutoff: exits only")
        self.stand_down("the cutoff", "cutoff")
        self._flatten_if_due()

    def _flatten_if_due(self) -> None:
        """After the cutoff or a kill: re-send exits until flat; then HALTED for entries."""
        flattening = self.halt_reason in ("kill", "drawdown")
        if not flattening and (self.day is None or self._cutoff_done != self.day):
            return
        reason = {"kill": "kill", "drawdown": "risk"}.get(self.halt_reason, "cutoff")
        open_slots = [s for s in self.slots.values() if s.manager.position is not None]
        for slot in open_slots:
            working_exit = any(o.working and o.request.order_type is OrderType.MARKET
                               for o in self.orders.of_position(slot.position_id or ""))
            if not working_exit:
                self._exit(slot, reason)
        if not open_slots and self.risk.state is TradingState.REDUCING:
            self._set_state(TradingState.HALTED, "flat after the hard drawdown level: locked until lifted by hand"
                            if self.halt_reason == "drawdown" else
                            "flat after the cutoff: no new entries until the next session")

    # ------------------------------------------------------------------ state, alerts, records

    def _set_state(self, state: TradingState, why: str) -> None:
        change = self.risk.set_state(state, why)
        if change is not None:
            self._write(RecordType.STATE, {"state": state.value, "why": why, "lock": self.locked}, "")

    def _note_state_change(self, why: str) -> None:
        """The risk checks moved the state (the daily loss limit): a lock until a human lifts it."""
        if self.risk.state is TradingState.REDUCING and not self.halt_reason:
            self.halt_reason = "loss"
        self._write(RecordType.STATE, {"state": self.risk.state.value, "why": why, "lock": self.locked}, "")
        self._alert("critical", f"trading state {self.risk.state.value}: {why}")

    def _alert(self, level: str, text: str) -> None:
        alert = Alert(self.clock.now(), level, text)
        self.alerts.append(alert)
        self._write(RecordType.ALERT, {"level": level, "text": text}, "")

    def _write(self, rtype: RecordType, payload: Mapping[str, Any], trace: str) -> None:
        if self._record is not None:
            self._record(rtype, payload, trace)

    def _open_positions(self) -> int:
        return len(self._holding)

    def day_pnl(self) -> Decimal:
        """The day's P&L: realised (gross) plus the open positions at their last prices."""
        unrealised = Decimal(0)
        for slot in (self.slots[key] for key in self._holding):
            pos = slot.manager.position
            tick = self.last_tick.get(slot.symbol)
            if pos is not None and tick is not None:
                unrealised += Decimal(repr((tick.price - pos.entry_price) * pos.side)) * pos.qty
        return self.day_realised + unrealised


__all__ = ["Engine", "price_text"]
