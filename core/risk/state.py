"""The trading state of the automation engine (NautilusTrader's three states).

- ``ACTIVE``: entries and exits allowed.
- ``REDUCING``: exits only (the drawdown lock moves here by itself; a human lifts it).
- ``HALTED``: no new entries; the kill switch and the cutoff flatten, and those exits still go
  out, because an exit always reduces risk. Exits are therefore allowed in every state.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

LOCKS = ("kill", "loss", "drawdown")  # halt reasons only a human lifts (kill switch, daily loss, hard drawdown)
LOCK_NAMES = {"kill": "kill switch", "loss": "daily loss lock", "drawdown": "drawdown lock"}


class TradingState(enum.StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def allows_entries(self) -> bool:
        return self is TradingState.ACTIVE


@dataclass(frozen=True, slots=True)
class StateChange:
    """One transition of the trading state, for the journal and the trader."""

    old: TradingState
    new: TradingState
    why: str
    at: dt.datetime
