"""Session lookups for arrays of instants: which NSE session (if any) a bar start falls in.

A thin, vectorized view of :class:`core.clock.NseCalendar` for the loader, the quality checks,
resampling and the synthetic generator. Days are IST calendar days counted from 1970-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from core.clock import POST_CLOSE_TAIL, PRE_OPEN_LEAD, NseCalendar, nse_calendar
from core.market.bars import IST_OFFSET_NS, NS_PER_MINUTE

NS_PER_DAY = NS_PER_MINUTE * 1440
EPOCH = dt.date(1970, 1, 1)
PRE_OPEN_NS = int(PRE_OPEN_LEAD.total_seconds()) * 1_000_000_000
POST_CLOSE_NS = int(POST_CLOSE_TAIL.total_seconds()) * 1_000_000_000
REGULAR_OPEN_MIN = 9 * 60 + 15
REGULAR_CLOSE_MIN = 15 * 60 + 30

# Where a bar start lies relative to the calendar (see SessionTable.classify).
IN_SESSION, PRE_OPEN, POST_CLOSE, OUTSIDE_HOURS, NON_TRADING_DAY = range(5)


def ist_day(ts_ns: np.ndarray) -> np.ndarray:
    """The IST calendar day (days since 1970-01-01) of UTC ns instants."""
    return (np.asarray(ts_ns, dtype=np.int64) + IST_OFFSET_NS) // NS_PER_DAY


def ist_minute(ts_ns: np.ndarray) -> np.ndarray:
    """The IST minute of the day (09:15 -> 555) of UTC ns instants."""
    return ((np.asarray(ts_ns, dtype=np.int64) + IST_OFFSET_NS) // NS_PER_MINUTE) % 1440


def day_to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def date_to_day(date: dt.date) -> int:
    return (date - EPOCH).days


@dataclass(frozen=True)
class SessionTable:
    """NSE sessions as sorted arrays: IST ``day`` number, ``open_ns`` and ``close_ns`` (UTC ns)."""

    day: np.ndarray
    open_ns: np.ndarray
    close_ns: np.ndarray

    @classmethod
    def between(
        cls, first: dt.date, last: dt.date, calendar: NseCalendar | None = None
    ) -> SessionTable:
        """Every session from ``first`` to ``last`` inclusive."""
        table = (calendar or nse_calendar()).table(first, last)
        days = np.array([date_to_day(d) for d in table.index], dtype=np.int64)
        return cls(days, table["open_ns"].to_numpy(np.int64), table["close_ns"].to_numpy(np.int64))

    @classmethod
    def covering(cls, ts_ns: np.ndarray, calendar: NseCalendar | None = None) -> SessionTable:
        """The sessions of every IST day from the first to the last instant of ``ts_ns``."""
        if len(ts_ns) == 0:
            empty = np.array([], dtype=np.int64)
            return cls(empty, empty, empty)
        days = ist_day(ts_ns)
        return cls.between(day_to_date(days.min()), day_to_date(days.max()), calendar)

    def __len__(self) -> int:
        return len(self.day)

    def index_of(self, ts_ns: np.ndarray) -> np.ndarray:
        """For each instant, the row of the session on its IST day, or -1 when that day does not trade."""
        days = ist_day(ts_ns)
        if len(self.day) == 0:
            return np.full(len(days), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.day, days), len(self.day) - 1)
        return np.where(self.day[pos] == days, pos, -1)

    def classify(self, ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Session row and place (``IN_SESSION``, ``PRE_OPEN``, ...) of each bar start."""
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        idx = self.index_of(ts_ns)
        has = idx >= 0
        if len(self.day) == 0:
            return idx, np.full(len(ts_ns), NON_TRADING_DAY, dtype=np.int8)
        safe = np.where(has, idx, 0)
        op, cl = self.open_ns[safe], self.close_ns[safe]
        kind = np.full(len(ts_ns), OUTSIDE_HOURS, dtype=np.int8)
        kind[(ts_ns >= op - PRE_OPEN_NS) & (ts_ns < op)] = PRE_OPEN
        kind[(ts_ns >= cl) & (ts_ns < cl + POST_CLOSE_NS)] = POST_CLOSE
        kind[(ts_ns >= op) & (ts_ns < cl)] = IN_SESSION
        kind[~has] = NON_TRADING_DAY
        return idx, kind

    def is_special(self) -> np.ndarray:
        """True for sessions whose hours differ from 09:15-15:30 (Muhurat, extended days)."""
        open_min = ist_minute(self.open_ns)
        close_min = ist_minute(self.close_ns)
        return (open_min != REGULAR_OPEN_MIN) | (close_min != REGULAR_CLOSE_MIN)

    def dates(self) -> list[dt.date]:
        return [day_to_date(d) for d in self.day]
