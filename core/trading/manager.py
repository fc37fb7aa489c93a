"""Trade management for one (instrument, strategy): entries, stops, trailing, targets, exits.

This is the readable, canonical statement of how a position is run; the live engine hosts it
and the simulator's event path steps through it. The fast simulator kernel
(``core.simulator.kernel``) mirrors it operation for operation and tests hold the two equal.

Per bar, in this order:

1. **Cutoff.** A bar that starts at or after the cutoff cancels any pending entry and exits an
   open position at that bar's open. Nothing else happens in that bar.
2. **Pending orders** decided at the previous close fill at this bar's open (plus adverse
   slippage): an exit, a reversal (exit, then enter the other way at the same price) or an
   entry. An entry is skipped when the day's entry limit is reached or a configured distance
   (stop, target, ...) cannot be computed yet (ATR still warming up).
3. **Intrabar**, conservatively: if the bar *opens* through the stop, exit at the open; if it
   opens through the target (or a scale-out level), fill at the open. Then, if the stop lies
   within the bar's range, exit at the stop — **when both stop and target are touched in one
   bar we assume the stop came first**. Otherwise take scale-outs in order, then the target.
4. **At the close**, update the best price since entry; move the stop to breakeven and trail
   it (ratchet only) for the *next* bar — never within the bar that triggered the move.
5. **Signals** at the close queue the next bar's order: an opposite entry reverses (or exits,
   if the reversal cannot enter), an exit signal exits, an entry signal enters when flat.
   Same-side entries while in a position are ignored; a bar with both long and short entry
   signals enters nothing.
6. **Session end.** When a session ends before the cutoff (data stops early, short day), the
   position exits at the last bar's close. Nothing is ever carried overnight.

Stop, target and scale-out levels are rounded to the instrument's tick grid; targets and
scale-outs are limit fills (no slippage), everything else is a market fill.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass, field
from typing import Protocol

from core.market.bars import Bar
from core.strategies.base import Signal
from core.trading.params import TradeParams, Unit
from core.trading.pricing import SLIP_BPS, SLIP_TICKS, round_to_tick, slipped


class ExitReason(enum.IntEnum):
    """Why a position (or part of it) closed. The integer codes are shared with the kernel."""

    STOP = 1
    TRAIL = 2
    BREAKEVEN = 3
    TARGET = 4
    PARTIAL = 5
    SIGNAL = 6
    REVERSE = 7
    CUTOFF = 8
    SESSION_END = 9
    KILL = 10  # the kill switch flattened it (live engine only)
    MANUAL = 11  # the trader closed it by hand (live engine only)
    RISK = 12  # a risk guardrail (the hard drawdown level) flattened it (live engine only)

    @property
    def label(self) -> str:
        return self.name.lower()


class Action(enum.IntEnum):
    NONE = 0
    ENTER = 1
    EXIT = 2
    REVERSE = 3


@dataclass(frozen=True, slots=True)
class TradeLeg:
    """A closed position, or the part of one that a scale-out closed."""

    symbol: str
    strategy: str
    side: int
    qty: int
    entry_time: dt.datetime
    entry_price: float
    exit_time: dt.datetime
    exit_price: float
    exit_reason: ExitReason
    initial_stop: float
    confidence: float
    signal_time: dt.datetime

    @property
    def points(self) -> float:
        return (self.exit_price - self.entry_price) * self.side

    @property
    def side_label(self) -> str:
        return "LONG" if self.side > 0 else "SHORT"


@dataclass(slots=True)
class Position:
    """An open position and its live protective levels (NaN = not set)."""

    side: int
    qty: int
    entry_price: float
    entry_time: dt.datetime
    signal_time: dt.datetime
    confidence: float
    stop: float
    stop_kind: ExitReason
    initial_stop: float
    target: float
    trail_dist: float
    trail_after: float
    breakeven_dist: float
    best: float
    partials: list[tuple[float, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Pending:
    action: Action
    side: int
    atr: float
    confidence: float
    signal_time: dt.datetime


class TradeListener(Protocol):
    """Told of every fill the manager makes (the journal and the ledger listen here)."""

    def entered(self, manager: TradeManager, position: Position) -> None: ...

    def exited(self, manager: TradeManager, leg: TradeLeg, position_closed: bool) -> None: ...


def _finite(x: float) -> bool:
    return not math.isnan(x) and not math.isinf(x)


class TradeManager:
    """Runs the position of one strategy on one instrument, bar by bar."""

    def __init__(
        self, symbol: str, strategy: str, params: TradeParams, tick: float,
        listener: TradeListener | None = None,
    ) -> None:
        self.symbol = symbol
        self.listener = listener
        self.strategy = strategy
        self.params = params
        self.tick = tick
        self.position: Position | None = None
        self.pending: Pending | None = None
        self.trades_today = 0
        self.day: dt.date | None = None
        self._last_bar: Bar | None = None
        self._slip_unit = SLIP_BPS if params.slippage.unit == "bps" else SLIP_TICKS

    # -------------------------------------------------------------------- bar events

    def on_bar(self, bar: Bar) -> list[TradeLeg]:
        """Steps 1-4 for a newly closed bar; returns the legs that closed in it."""
        legs: list[TradeLeg] = []
        day = bar.start.date()
        if day != self.day:
            if self.position is not None and self._last_bar is not None:
                # the session ended without close_session(): never carry a position overnight
                legs.extend(self.close_session(self._last_bar))
            self.day = day
            self.trades_today = 0
            self.pending = None
        self._last_bar = bar
        minute = bar.start.hour * 60 + bar.start.minute
        if minute >= self.params.cutoff_minute:
            self.pending = None
            if self.position is not None:
                price = self._market(bar.open, buy=self.position.side < 0)
                legs.append(self._close(self.position.qty, bar.start, price, ExitReason.CUTOFF))
            return legs
        pending, self.pending = self.pending, None
        if pending is not None:
            legs.extend(self._fill_pending(pending, bar))
        if self.position is not None:
            legs.extend(self._intrabar(bar))
        if self.position is not None:
            self.after_close(bar)
        return legs

    def on_signal(self, signal: Signal, bar: Bar) -> None:
        """Step 5: queue the order the close of ``bar`` calls for."""
        self.pending = None
        pos = self.position
        long_in = signal.long_entry and not signal.short_entry
        short_in = signal.short_entry and not signal.long_entry
        if pos is None:
            if long_in or short_in:
                self.pending = Pending(Action.ENTER, 1 if long_in else -1, signal.atr, signal.confidence, bar.start)
            return
        opposite = short_in if pos.side > 0 else long_in
        wants_exit = signal.exit_long if pos.side > 0 else signal.exit_short
        if opposite:
            self.pending = Pending(Action.REVERSE, -pos.side, signal.atr, signal.confidence, bar.start)
        elif wants_exit:
            self.pending = Pending(Action.EXIT, 0, math.nan, 0.0, bar.start)

    def close_session(self, last_bar: Bar) -> list[TradeLeg]:
        """Step 6: the session is over; exit at the last bar's close."""
        self.pending = None
        if self.position is None:
            return []
        return [self._close(self.position.qty, last_bar.end, last_bar.close, ExitReason.SESSION_END)]

    # -------------------------------------------------------------------- steps

    def _fill_pending(self, pending: Pending, bar: Bar) -> list[TradeLeg]:
        legs: list[TradeLeg] = []
        entering = pending.action in (Action.ENTER, Action.REVERSE)
        levels = self._entry_levels(pending, bar) if entering else None
        if self.position is not None and pending.action in (Action.EXIT, Action.REVERSE):
            reason = ExitReason.REVERSE if levels is not None else ExitReason.SIGNAL
            price = self._market(bar.open, buy=self.position.side < 0)
            legs.append(self._close(self.position.qty, bar.start, price, reason))
        if levels is not None and self.position is None:
            self.position = levels
            self.trades_today += 1
            if self.listener is not None:
                self.listener.entered(self, levels)
        return legs

    def _entry_levels(self, pending: Pending, bar: Bar) -> Position | None:
        """The position an entry at ``bar``'s open would open, or None if it may not."""
        return self.position_at(pending, self._market(bar.open, buy=pending.side > 0), bar.start)

    def position_at(self, pending: Pending, price: float, when: dt.datetime, qty: int | None = None) -> Position | None:
        """The position an entry of ``qty`` (default: the strategy's) filled at ``price`` at ``when``
        opens (stop, target, scale-outs on the tick grid), or None when it may not: the day's entry
        limit is reached, or a configured distance cannot be computed yet (ATR still warming up)."""
        p = self.params
        size = p.qty if qty is None else qty
        if p.max_trades and self.trades_today >= p.max_trades:
            return None
        side = pending.side
        atr = pending.atr
        risk = p.stop.resolve(atr, math.nan, price)
        dists = []
        for spec in (p.stop, p.target, p.trail, p.trail_after, p.breakeven):
            d = spec.resolve(atr, risk, price)
            if spec.unit is not Unit.NONE and not (_finite(d) and d > 0):
                return None
            dists.append(d)
        stop_d, target_d, trail_d, trail_after_d, be_d = dists
        stop = round_to_tick(price - side * stop_d, self.tick) if _finite(stop_d) else math.nan
        target = round_to_tick(price + side * target_d, self.tick) if _finite(target_d) else math.nan
        partials: list[tuple[float, int]] = []
        remaining = size
        for step in p.partials:
            level_d = step.level.value * risk
            if not _finite(level_d) or (_finite(target_d) and level_d >= target_d):
                continue  # a scale-out at or beyond the target would never fill before it
            q = min(int(math.floor(size * step.fraction)), remaining - 1)
            if q <= 0:
                continue
            partials.append((round_to_tick(price + side * level_d, self.tick), q))
            remaining -= q
        return Position(
            side=side, qty=size, entry_price=price, entry_time=when, signal_time=pending.signal_time,
            confidence=pending.confidence, stop=stop, stop_kind=ExitReason.STOP, initial_stop=stop,
            target=target, trail_dist=trail_d, trail_after=trail_after_d if _finite(trail_after_d) else 0.0,
            breakeven_dist=be_d, best=price, partials=partials,
        )

    def _intrabar(self, bar: Bar) -> list[TradeLeg]:
        pos = self.position
        assert pos is not None
        s = pos.side
        o = bar.open
        adverse = bar.low if s > 0 else bar.high
        favour = bar.high if s > 0 else bar.low
        if _finite(pos.stop) and (o - pos.stop) * s <= 0:
            return [self._close(pos.qty, bar.start, self._market(o, buy=s < 0), pos.stop_kind)]
        if _finite(pos.target) and (o - pos.target) * s >= 0:
            return [self._close(pos.qty, bar.start, o, ExitReason.TARGET)]
        legs: list[TradeLeg] = []
        while pos.partials and (o - pos.partials[0][0]) * s >= 0:  # opened through a scale-out
            legs.append(self._close(pos.partials.pop(0)[1], bar.start, o, ExitReason.PARTIAL))
        if _finite(pos.stop) and (adverse - pos.stop) * s <= 0:
            price = self._market(pos.stop, buy=s < 0)
            legs.append(self._close(pos.qty, bar.start, price, pos.stop_kind))
            return legs
        while pos.partials and (favour - pos.partials[0][0]) * s >= 0:
            level, q = pos.partials.pop(0)
            legs.append(self._close(q, bar.start, level, ExitReason.PARTIAL))
        if _finite(pos.target) and (favour - pos.target) * s >= 0:
            legs.append(self._close(pos.qty, bar.start, pos.target, ExitReason.TARGET))
        return legs

    def after_close(self, bar: Bar) -> None:
        """Step 4: track the best price, move the stop to breakeven and trail it, for the next bar."""
        pos = self.position
        assert pos is not None
        s = pos.side
        if s > 0:
            pos.best = max(pos.best, bar.high)
        else:
            pos.best = min(pos.best, bar.low)
        gained = (pos.best - pos.entry_price) * s
        if _finite(pos.breakeven_dist) and gained >= pos.breakeven_dist:
            if not _finite(pos.stop) or (pos.entry_price - pos.stop) * s > 0:
                pos.stop = pos.entry_price
                pos.stop_kind = ExitReason.BREAKEVEN
        if _finite(pos.trail_dist) and gained >= pos.trail_after:
            level = round_to_tick(pos.best - s * pos.trail_dist, self.tick)
            if not _finite(pos.stop) or (level - pos.stop) * s > 0:
                pos.stop = level
                pos.stop_kind = ExitReason.TRAIL

    # -------------------------------------------------------------------- helpers

    def _market(self, price: float, *, buy: bool) -> float:
        slip = self.params.slippage
        return slipped(price, buy, slip.value, self._slip_unit, self.tick)

    def _close(self, qty: int, when: dt.datetime, price: float, reason: ExitReason) -> TradeLeg:
        return self.close(qty, when, price, reason)

    def close(self, qty: int, when: dt.datetime, price: float, reason: ExitReason) -> TradeLeg:
        """Close ``qty`` of the position at ``price``: the leg (the listener hears of it)."""
        pos = self.position
        assert pos is not None
        leg = TradeLeg(
            symbol=self.symbol, strategy=self.strategy, side=pos.side, qty=qty,
            entry_time=pos.entry_time, entry_price=pos.entry_price, exit_time=when,
            exit_price=price, exit_reason=reason, initial_stop=pos.initial_stop,
            confidence=pos.confidence, signal_time=pos.signal_time,
        )
        pos.qty -= qty
        if pos.qty <= 0:
            self.position = None
        if self.listener is not None:
            self.listener.exited(self, leg, self.position is None)
        return leg
