"""What a feed delivers to the engine: ticks, closed bars and the end of a session's data.

Every event carries the instant it happened (``time``, Asia/Kolkata) so the engine can move a
:class:`~core.clock.SimClock` to it in replay, and order events from several instruments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.market.bars import Bar


@dataclass(frozen=True, slots=True)
class Tick:
    """One traded price of one instrument.

    ``bar_open`` marks the first tick of a bar replayed from history (the bar's open): a
    price may gap there, so orders resting on the other side fill at this price rather than at
    their own level. ``synthetic`` marks ticks made up from a bar (open, extremes, close), whose
    order inside the bar is not known.
    """

    symbol: str
    time: dt.datetime
    price: float
    volume: float = 0.0
    bar_open: bool = False
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class BarClosed:
    """A one-minute (or ``bar.minutes``) bar is complete; ``time`` is its end."""

    bar: Bar

    @property
    def symbol(self) -> str:
        return self.bar.symbol

    @property
    def time(self) -> dt.datetime:
        return self.bar.end


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """The feed has no more bars of ``symbol`` for this session (``time``: the last bar's end).

    A replay of a short or truncated day sends it before the cutoff; the engine then exits the
    symbol's positions at the last price, as the simulator does at a session's last bar.
    """

    symbol: str
    day: dt.date
    last_bar: Bar

    @property
    def time(self) -> dt.datetime:
        return self.last_bar.end


MarketEvent = Tick | BarClosed | SessionEnd
