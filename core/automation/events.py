"""The engine's typed inputs besides market data and broker events: the trader's commands and timers.

Commands come from the UI (or the CLI) through :meth:`core.automation.engine.Engine.post`, from
any thread; the engine applies them on its own thread, in order, between market events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.execution.broker import BrokerEvent
from core.market.events import MarketEvent


@dataclass(frozen=True, slots=True)
class Arm:
    """Automate ``strategy`` on ``symbol`` until the cutoff (pre-arm checks first)."""

    symbol: str
    strategy: str


@dataclass(frozen=True, slots=True)
class Disarm:
    """Stop new entries of ``strategy`` on ``symbol``; an open position keeps its stops."""

    symbol: str
    strategy: str
    reason: str = "by the trader"


@dataclass(frozen=True, slots=True)
class ExitPosition:
    """Close the position of ``strategy`` on ``symbol`` at market now."""

    symbol: str
    strategy: str


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel a working entry order (protective orders go only with their position)."""

    client_order_id: str


@dataclass(frozen=True, slots=True)
class Kill:
    """The kill switch: halt, cancel every working order, flatten every position; locked."""

    reason: str = "kill switch"


@dataclass(frozen=True, slots=True)
class ResetLock:
    """A human lifts the lock that holds trading: the kill switch's, or the daily loss limit's.

    Trading goes back to ACTIVE (HALTED instead when today's cutoff has passed). Pairs stay
    disarmed: the trader arms again, deliberately."""

    by: str = "trader"


Command = Arm | Disarm | ExitPosition | CancelOrder | Kill | ResetLock


@dataclass(frozen=True, slots=True)
class Timer:
    """A scheduled moment: ``name`` is ``cutoff`` (the day's cutoff) or ``slot_cutoff``."""

    name: str
    time: dt.datetime
    key: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Idle:
    """A quiet moment of a live feed: time moves on (bars close, timers fire), commands apply."""


EngineEvent = MarketEvent | BrokerEvent | Command | Timer | Idle
