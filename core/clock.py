"""The market clock: Asia/Kolkata time, the NSE trading calendar, session phases and the cutoff.

Every piece of session logic asks a :class:`MarketClock`; nothing reads the machine's clock
except :class:`LiveClock`. Trading days come from ``pandas_market_calendars``' ``NSE`` calendar.
We chose it over ``exchange_calendars``' ``XBOM`` (the BSE, which shares NSE's holiday list)
because it is the NSE calendar by name, it is the more widely maintained of the two, and it
models the special Muhurat (Diwali) evening sessions with their real hours, which appear in
real NSE data; XBOM drops them. Years the library holds no holiday list for are refused
(:class:`CalendarError`) rather than silently treated as "every weekday trades".
"""

from __future__ import annotations

import datetime as dt
import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from core.errors import CalendarError, ConfigError

IST = ZoneInfo("Asia/Kolkata")
UTC = dt.timezone.utc

REGULAR_OPEN = dt.time(9, 15)
REGULAR_CLOSE = dt.time(15, 30)
PRE_OPEN_START = dt.time(9, 0)
POST_CLOSE_END = dt.time(16, 0)
DEFAULT_CUTOFF = dt.time(15, 0)
PRE_OPEN_LEAD = dt.timedelta(minutes=15)
POST_CLOSE_TAIL = dt.timedelta(minutes=30)


class Phase(enum.StrEnum):
    """Where the market stands at an instant."""

    CLOSED = "closed"
    PRE_OPEN = "pre_open"
    OPEN = "open"
    POST_CLOSE = "post_close"


@dataclass(frozen=True, slots=True)
class Session:
    """One trading session of the NSE (times are Asia/Kolkata aware)."""

    day: dt.date
    open: dt.datetime
    close: dt.datetime

    @property
    def pre_open(self) -> dt.datetime:
        return self.open - PRE_OPEN_LEAD

    @property
    def post_close_end(self) -> dt.datetime:
        return self.close + POST_CLOSE_TAIL

    @property
    def is_special(self) -> bool:
        """True for sessions outside regular hours (Muhurat trading, shortened days)."""
        return self.open.time() != REGULAR_OPEN or self.close.time() != REGULAR_CLOSE


class NseCalendar:
    """NSE trading days and session hours, backed by ``pandas_market_calendars``."""

    def __init__(self) -> None:
        import pandas_market_calendars as mcal

        self._cal = mcal.get_calendar("NSE")
        years = pd.DatetimeIndex(np.asarray(self._cal.holidays().holidays)).year
        self.first_year = int(max(2010, years.min()))
        self.last_year = int(years.max())
        self._years: dict[int, pd.DataFrame] = {}
        self._sessions: dict[dt.date, Session | None] = {}  # the engine asks on every event: a dict, not pandas

    def _check_year(self, year: int) -> None:
        if not self.first_year <= year <= self.last_year:
            raise CalendarError(
                f"the NSE holiday calendar covers {self.first_year}-{self.last_year} only; "
                f"{year} is outside it (upgrade pandas_market_calendars)",
                where="calendar",
            )

    def _year_table(self, year: int) -> pd.DataFrame:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        self._check_year(year)
        sched = self._cal.schedule(f"{year}-01-01", f"{year}-12-31")
        table = pd.DataFrame(
            {
                "open_ns": sched["market_open"].to_numpy(dtype="datetime64[ns]").astype(np.int64),
                "close_ns": sched["market_close"].to_numpy(dtype="datetime64[ns]").astype(np.int64),
            },
            index=pd.Index([d.date() for d in sched.index], name="day"),
        )
        self._years[year] = table
        return table

    def table(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Sessions from ``start`` to ``end`` inclusive: index ``day``, int64 UTC ns ``open_ns``/``close_ns``."""
        if end < start:
            return self._year_table(start.year).iloc[0:0]
        parts = [self._year_table(y) for y in range(start.year, end.year + 1)]
        frame = pd.concat(parts)
        days = frame.index
        return frame[(days >= start) & (days <= end)]

    def session(self, day: dt.date) -> Session | None:
        """The session on ``day``, or None when the NSE does not trade that day."""
        try:
            return self._sessions[day]
        except KeyError:
            pass
        table = self._year_table(day.year)
        found = None
        if day in table.index:
            row = table.loc[day]
            found = Session(day, _ns_to_ist(int(row["open_ns"])), _ns_to_ist(int(row["close_ns"])))
        self._sessions[day] = found
        return found

    def is_trading_day(self, day: dt.date) -> bool:
        return day in self._year_table(day.year).index

    def sessions(self, start: dt.date, end: dt.date) -> list[Session]:
        table = self.table(start, end)
        return [
            Session(day, _ns_to_ist(int(o)), _ns_to_ist(int(c)))
            for day, o, c in zip(table.index, table["open_ns"], table["close_ns"])
        ]

    def next_trading_day(self, day: dt.date) -> dt.date:
        """The first trading day strictly after ``day``."""
        probe = day + dt.timedelta(days=1)
        for _ in range(30):
            if self.is_trading_day(probe):
                return probe
            probe += dt.timedelta(days=1)
        raise CalendarError(f"no trading day within 30 days after {day}", where="calendar")

    def previous_trading_day(self, day: dt.date) -> dt.date:
        """The last trading day strictly before ``day``."""
        probe = day - dt.timedelta(days=1)
        for _ in range(30):
            if self.is_trading_day(probe):
                return probe
            probe -= dt.timedelta(days=1)
        raise CalendarError(f"no trading day within 30 days before {day}", where="calendar")


@lru_cache(maxsize=1)
def nse_calendar() -> NseCalendar:
    """The process-wide calendar (building it reads the library's holiday tables once)."""
    return NseCalendar()


def _ns_to_ist(ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=UTC).astimezone(IST)


def parse_cutoff(text: str) -> dt.time:
    """Parse an ``HH:MM`` cutoff setting."""
    try:
        value = dt.time.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"expected HH:MM, got {text!r}", where="cutoff") from exc
    if not REGULAR_OPEN < value <= REGULAR_CLOSE:
        raise ConfigError(f"{text} is outside the regular session 09:15-15:30", where="cutoff")
    return value


class MarketClock(ABC):
    """What time it is on the market, and what that means for trading.

    The automation cutoff (default 15:00) is a time of day; on a session that closes earlier
    the cutoff is the close, and a session that opens after the cutoff (Muhurat evenings)
    allows no automated entry at all.
    """

    def __init__(self, calendar: NseCalendar | None = None, cutoff: dt.time = DEFAULT_CUTOFF):
        self.calendar = calendar or nse_calendar()
        self.cutoff = cutoff

    @abstractmethod
    def now(self) -> dt.datetime:
        """The current instant, Asia/Kolkata aware."""

    def today(self) -> dt.date:
        return self.now().date()

    def session(self, at: dt.datetime | None = None) -> Session | None:
        """The session of the market day containing ``at`` (default: now), if it trades."""
        when = self._ist(at)
        return self.calendar.session(when.date())

    def phase(self, at: dt.datetime | None = None) -> Phase:
        when = self._ist(at)
        session = self.calendar.session(when.date())
        if session is None:
            return Phase.CLOSED
        if session.open <= when < session.close:
            return Phase.OPEN
        if session.pre_open <= when < session.open:
            return Phase.PRE_OPEN
        if session.close <= when < session.post_close_end:
            return Phase.POST_CLOSE
        return Phase.CLOSED

    def cutoff_at(self, day: dt.date) -> dt.datetime | None:
        """The automation cutoff instant on ``day`` (None when the market is shut)."""
        session = self.calendar.session(day)
        if session is None:
            return None
        return min(dt.datetime.combine(day, self.cutoff, IST), session.close)

    def entries_allowed(self, at: dt.datetime | None = None) -> bool:
        """True while the market is open and the cutoff has not been reached."""
        when = self._ist(at)
        session = self.calendar.session(when.date())
        if session is None or not session.open <= when < session.close:
            return False
        cutoff = self.cutoff_at(when.date())
        return cutoff is not None and when < cutoff

    def time_to_cutoff(self, at: dt.datetime | None = None) -> dt.timedelta | None:
        """Time left until today's cutoff; None on a closed day, zero once past it."""
        when = self._ist(at)
        cutoff = self.cutoff_at(when.date())
        if cutoff is None:
            return None
        return max(cutoff - when, dt.timedelta(0))

    def _ist(self, at: dt.datetime | None) -> dt.datetime:
        if at is None:
            return self.now()
        if at.tzinfo is None:
            raise ValueError(f"naive datetime {at} given to the market clock; attach a timezone")
        return at.astimezone(IST)


def machine_now() -> dt.datetime:
    """The machine's own clock, in IST. Not the market's time: only for translating a market
    instant into the frame of a library that waits on the machine's clock (APScheduler)."""
    return dt.datetime.now(IST)


class LiveClock(MarketClock):
    """The wall clock, read in Asia/Kolkata whatever the machine's own timezone is."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(IST)


class SimClock(MarketClock):
    """A clock that only moves when told to (simulation, replay and tests)."""

    def __init__(
        self,
        start: dt.datetime,
        calendar: NseCalendar | None = None,
        cutoff: dt.time = DEFAULT_CUTOFF,
    ) -> None:
        super().__init__(calendar, cutoff)
        if start.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware start")
        self._now = start.astimezone(IST)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        """Move to ``when``; time never runs backwards."""
        when = self._ist(when)
        if when < self._now:
            raise ValueError(f"SimClock cannot move backwards from {self._now} to {when}")
        self._now = when

    def advance(self, delta: dt.timedelta) -> None:
        self.set(self._now + delta)
