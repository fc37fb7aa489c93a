"""Pre-arm checks: what must hold before a pair may be armed, each failure said in words.

Checked in this order, all of them (the trader sees every reason at once): the market is open;
it is before the cutoff; the strategy exists; the instrument is in the master and tradeable; the
trading state is ACTIVE (not REDUCING after a drawdown lock or the cutoff, not HALTED by the kill
switch); nothing holds entries (a broker session to renew, books to reconcile, a stale feed); the
RMS has margin left; a real broker's margin is available for one entry of the pair together
with one of each pair already armed and waiting (Kite's ``basket_order_margins`` against its
equity margin: pairs that fit one by one may not fit all at once); the feed is fresh (a tick of the instrument within
``stale_after`` of market time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.clock import Phase
from core.risk.state import TradingState

if TYPE_CHECKING:
    from core.automation.engine import Engine


@dataclass(frozen=True, slots=True)
class ArmCheck:
    """The verdict on one arm request."""

    symbol: str
    strategy: str
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def pre_arm_failures(engine: Engine, symbol: str, strategy: str) -> list[str]:
    """Every reason ``symbol:strategy`` may not be armed now (empty: it may)."""
    clock = engine.clock
    now = clock.now()
    failures: list[str] = []
    if clock.phase(now) is not Phase.OPEN:
        failures.append(f"the market is not open ({clock.phase(now).value} at {now:%H:%M:%S})")
    elif not clock.entries_allowed(now):
        cutoff = clock.cutoff_at(now.date())
        failures.append(f"it is past the cutoff ({cutoff:%H:%M})" if cutoff else "no entries today")
    if strategy not in engine.strategies:
        known = ", ".join(sorted(engine.strategies))
        failures.append(f"no strategy {strategy!r} is configured (configured: {known})")
    if symbol not in engine.master:
        failures.append(f"{symbol} is not in the instrument master")
    state = engine.risk.state
    if state is not TradingState.ACTIVE:
        why = {"kill": " (kill switch: a human must reset it)",
               "loss": " (daily loss limit: a human must lift the lock)",
               "drawdown": " (hard drawdown level: a human must lift the lock)"}.get(engine.halt_reason, "")
        failures.append(f"trading state is {state.value}{why}")
    if engine.entry_hold:
        failures.append(f"entries are held: {engine.entry_hold}")
    rms = engine.risk.rms.snapshot()
    if rms.available <= 0:
        failures.append(f"no margin available (utilisation {rms.utilisation:.0%})")
    tick = engine.last_tick.get(symbol)
    broker_check = getattr(engine.broker, "arm_check", None)  # a real broker's margin, armed pairs included
    if broker_check is not None and tick is not None and strategy in engine.strategies:
        waiting = [(s.symbol, s.strategy.trade.qty) for s in engine.slots.values()
                   if s.armed and s.manager.position is None and s.entry_coid is None
                   and (s.symbol, s.strategy.name) != (symbol, strategy)]
        verdict = broker_check(symbol, engine.strategies[strategy].trade.qty, tick.price, waiting)
        if verdict:
            failures.append(verdict)
    if tick is None:
        failures.append(f"no price of {symbol} from the feed yet")
    elif now - tick.time > engine.stale_after:
        failures.append(f"the feed is stale: last {symbol} price at {tick.time:%H:%M:%S}")
    return failures
