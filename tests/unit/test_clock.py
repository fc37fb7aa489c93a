"""The market clock: NSE days, phases, the cutoff, and Asia/Kolkata whatever the machine says."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from core.clock import IST, LiveClock, MarketClock, Phase, SimClock, nse_calendar, parse_cutoff
from core.errors import CalendarError, ConfigError


def at(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(hhmm), IST)


@pytest.fixture(scope="module")
def clock() -> SimClock:
    return SimClock(at("2022-01-03", "08:00"))


def test_republic_day_and_weekends_do_not_trade() -> None:
    cal = nse_calendar()
    assert not cal.is_trading_day(dt.date(2022, 1, 26))  # Republic Day, a Wednesday
    assert not cal.is_trading_day(dt.date(2022, 1, 29))  # Saturday
    assert cal.is_trading_day(dt.date(2022, 1, 27))
    assert cal.next_trading_day(dt.date(2022, 1, 25)) == dt.date(2022, 1, 27)
    assert cal.previous_trading_day(dt.date(2022, 1, 31)) == dt.date(2022, 1, 28)


def test_holidays_in_the_real_data_period_match_the_published_list() -> None:
    # Every weekday the NSE closed in 2022, per the data set's README (published holiday list).
    closed = ["2022-01-26", "2022-03-01", "2022-03-18", "2022-04-14", "2022-04-15", "2022-05-03",
              "2022-08-09", "2022-08-15", "2022-08-31", "2022-10-05", "2022-10-26", "2022-11-08"]
    cal = nse_calendar()
    for day in closed:
        assert not cal.is_trading_day(dt.date.fromisoformat(day)), day
    sessions = cal.sessions(dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    regular = [s for s in sessions if not s.is_special]
    special = [s.day for s in sessions if s.is_special]
    # 260 weekdays - 12 holidays - Diwali (24 Oct: Muhurat evening session only)
    assert len(regular) == 247
    assert special == [dt.date(2022, 10, 24)]


def test_regular_session_hours_are_0915_to_1530_ist() -> None:
    session = nse_calendar().session(dt.date(2022, 1, 3))
    assert session is not None
    assert session.open == at("2022-01-03", "09:15")
    assert session.close == at("2022-01-03", "15:30")
    assert session.pre_open == at("2022-01-03", "09:00")
    assert not session.is_special


def test_muhurat_session_is_an_evening_special_session() -> None:
    session = nse_calendar().session(dt.date(2021, 11, 4))
    assert session is not None and session.is_special
    assert session.open == at("2021-11-04", "18:15")
    assert session.close == at("2021-11-04", "19:15")


@pytest.mark.parametrize(
    ("hhmm", "phase"),
    [("08:59", Phase.CLOSED), ("09:00", Phase.PRE_OPEN), ("09:14:59", Phase.PRE_OPEN), ("09:15", Phase.OPEN),
     ("15:29:59", Phase.OPEN), ("15:30", Phase.POST_CLOSE), ("15:59", Phase.POST_CLOSE), ("16:00", Phase.CLOSED)],
)
def test_phases_on_a_trading_day(clock: SimClock, hhmm: str, phase: Phase) -> None:
    assert clock.phase(at("2022-01-03", hhmm)) is phase


def test_a_holiday_is_closed_all_day(clock: SimClock) -> None:
    assert clock.phase(at("2022-01-26", "11:00")) is Phase.CLOSED
    assert clock.cutoff_at(dt.date(2022, 1, 26)) is None
    assert not clock.entries_allowed(at("2022-01-26", "11:00"))


def test_cutoff_defaults_to_1500_and_blocks_entries_from_that_instant(clock: SimClock) -> None:
    assert clock.cutoff_at(dt.date(2022, 1, 3)) == at("2022-01-03", "15:00")
    assert clock.entries_allowed(at("2022-01-03", "14:59:59"))
    assert not clock.entries_allowed(at("2022-01-03", "15:00"))
    assert not clock.entries_allowed(at("2022-01-03", "09:14"))
    assert clock.time_to_cutoff(at("2022-01-03", "14:30")) == dt.timedelta(minutes=30)
    assert clock.time_to_cutoff(at("2022-01-03", "15:10")) == dt.timedelta(0)


def test_cutoff_is_configurable_and_validated() -> None:
    clock = SimClock(at("2022-01-03", "09:00"), cutoff=parse_cutoff("14:30"))
    assert clock.cutoff_at(dt.date(2022, 1, 3)) == at("2022-01-03", "14:30")
    with pytest.raises(ConfigError, match="cutoff"):
        parse_cutoff("16:00")
    with pytest.raises(ConfigError, match="HH:MM"):
        parse_cutoff("3pm")


def test_no_automated_entry_in_a_session_that_opens_after_the_cutoff(clock: SimClock) -> None:
    # Muhurat trading opens at 18:15, after the 15:00 cutoff: the automation stays out.
    assert clock.phase(at("2021-11-04", "18:30")) is Phase.OPEN
    assert not clock.entries_allowed(at("2021-11-04", "18:30"))


def test_utc_instants_are_read_on_the_indian_clock(clock: SimClock) -> None:
    utc_open = dt.datetime(2022, 1, 3, 3, 45, tzinfo=dt.timezone.utc)  # 09:15 IST
    assert clock.phase(utc_open) is Phase.OPEN
    with pytest.raises(ValueError, match="naive"):
        clock.phase(dt.datetime(2022, 1, 3, 10, 0))


def test_sim_clock_moves_forward_only() -> None:
    clock = SimClock(at("2022-01-03", "09:15"))
    clock.advance(dt.timedelta(minutes=5))
    assert clock.now() == at("2022-01-03", "09:20")
    with pytest.raises(ValueError, match="backwards"):
        clock.set(at("2022-01-03", "09:19"))


def test_live_and_sim_clocks_share_one_interface() -> None:
    assert isinstance(LiveClock(), MarketClock) and isinstance(SimClock(at("2022-01-03", "09:15")), MarketClock)


def test_live_clock_is_indian_time_whatever_the_machine_timezone() -> None:
    code = (
        "import datetime as dt; from core.clock import LiveClock, IST; n = LiveClock().now(); "
        "u = dt.datetime.now(dt.timezone.utc); "
        "assert n.utcoffset() == dt.timedelta(hours=5, minutes=30), n; "
        "assert abs((n - u).total_seconds()) < 5; print(n.tzinfo)"
    )
    env = {**os.environ, "TZ": "America/New_York"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "Asia/Kolkata"


def test_years_without_a_holiday_list_are_refused() -> None:
    cal = nse_calendar()
    with pytest.raises(CalendarError, match="upgrade pandas_market_calendars"):
        cal.is_trading_day(dt.date(cal.last_year + 1, 3, 2))
