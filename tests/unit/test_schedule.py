"""The cutoff scheduler: an APScheduler job on the market clock that posts the day's cutoff timer."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from core.automation.engine import Engine
from core.automation.events import Timer
from core.automation.schedule import CUTOFF_JOB, CutoffScheduler
from core.clock import IST, LiveClock, MarketClock, SimClock
from core.errors import CalendarError, ConfigError
from core.execution.orders import Purpose
from core.execution.paper import PaperBroker
from core.journal.records import RecordType
from core.market.bars import BarSeries
from core.market.feed import ReplayFeed
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.risk.state import TradingState
from core.strategies import create
from tests.conftest import synthetic


class Posts:
    """A ``post`` callable that records timers and signals their arrival."""

    def __init__(self, then: Any = None) -> None:
        self.timers: list[tuple[Timer, dt.datetime]] = []
        self.arrived = threading.Event()
        self._then = then

    def __call__(self, timer: Timer) -> None:
        if self._then is not None:
            self._then(timer)
        self.timers.append((timer, dt.datetime.now(IST)))  # when it arrived, by the wall clock
        self.arrived.set()


class SoonClock(LiveClock):
    """The wall clock, with today's cutoff ``lead`` from now (later days: 15:00, every day trades)."""

    def __init__(self, lead: dt.timedelta) -> None:
        super().__init__()
        self.lead = lead
        self.soon = self.now() + lead

    def reset(self) -> None:
        self.soon = self.now() + self.lead

    def cutoff_at(self, day: dt.date) -> dt.datetime | None:
        if day == self.soon.date():
            return self.soon
        return dt.datetime.combine(day, dt.time(15, 0), IST)


class FixedClock(LiveClock):
    """A LiveClock stopped at ``at`` (the real NSE calendar)."""

    def __init__(self, at: dt.datetime, cutoff: dt.time = dt.time(15, 0)) -> None:
        super().__init__(cutoff=cutoff)
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


class ShiftedClock(LiveClock):
    """The wall clock moved by an offset that the test sets: a rehearsal of a past session."""

    offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return super().now() + self.offset

    def shift_to(self, when: dt.datetime) -> None:
        self.offset = when - super().now()


def ist(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=IST)


@pytest.fixture
def schedulers() -> Iterator[list[CutoffScheduler]]:
    made: list[CutoffScheduler] = []
    yield made
    for s in made:
        s.shutdown()


def test_the_timer_is_posted_at_the_cutoff_with_its_instant(schedulers: list[CutoffScheduler]) -> None:
    clock = SoonClock(dt.timedelta(milliseconds=300))
    posts = Posts()
    sched = CutoffScheduler(clock, posts)
    schedulers.append(sched)
    clock.reset()  # 300 ms from now, whatever the set-up cost on a loaded machine
    if clock.soon.date() != clock.today():
        pytest.skip("too close to midnight IST for a same-day cutoff")
    sched.start()
    assert not posts.timers, "posted before the cutoff"
    assert sched.next_cutoff == clock.soon
    assert posts.arrived.wait(2.0), "no cutoff timer within 2 s"
    (timer, at), = posts.timers
    assert timer == Timer("cutoff", clock.soon)
    assert timer.time.tzinfo is IST
    assert clock.soon <= at < clock.soon + dt.timedelta(seconds=2)
    assert clock.now() >= clock.soon
    # and the next trading day's cutoff is planned at once
    nxt = clock.soon.date() + dt.timedelta(days=1)
    assert sched.next_cutoff == ist(nxt.year, nxt.month, nxt.day, 15, 0)
    job = sched.scheduler.get_job(CUTOFF_JOB)
    assert job is not None and job.args == (sched.next_cutoff,)
    assert job.misfire_grace_time is None and job.coalesce  # late rather than never


@pytest.mark.parametrize(("now", "cutoff", "today", "expected"), [
    # Friday after the cutoff: posted now; next is Monday
    (ist(2026, 11, 27, 16, 0), dt.time(15, 0), ist(2026, 11, 27, 15, 0), ist(2026, 11, 30, 15, 0)),
    # Monday 23 Nov 2026, after the cutoff; Tuesday 24 Nov is an NSE holiday (Guru Nanak Jayanti)
    (ist(2026, 11, 23, 15, 0, 1), dt.time(15, 0), ist(2026, 11, 23, 15, 0), ist(2026, 11, 25, 15, 0)),
    # Christmas (Friday) and the weekend skipped
    (ist(2026, 12, 24, 15, 45), dt.time(15, 0), ist(2026, 12, 24, 15, 0), ist(2026, 12, 28, 15, 0)),
    # a configured cutoff other than 15:00
    (ist(2026, 11, 27, 14, 45), dt.time(14, 30), ist(2026, 11, 27, 14, 30), ist(2026, 11, 30, 14, 30)),
    # before the cutoff: nothing posted, today's is next
    (ist(2026, 11, 23, 10, 0), dt.time(15, 0), None, ist(2026, 11, 23, 15, 0)),
    # a Sunday: nothing to post, Monday's is next
    (ist(2026, 11, 22, 16, 0), dt.time(15, 0), None, ist(2026, 11, 23, 15, 0)),
    # Muhurat 2025: a special session 13:45-14:45 on Tuesday 21 Oct: its cutoff is its close
    (ist(2025, 10, 20, 15, 30), dt.time(15, 0), ist(2025, 10, 20, 15, 0), ist(2025, 10, 21, 14, 45)),
])
def test_started_after_the_cutoff_posts_at_once_and_plans_the_next_trading_day(
    schedulers: list[CutoffScheduler], now: dt.datetime, cutoff: dt.time,
    today: dt.datetime | None, expected: dt.datetime,
) -> None:
    clock = FixedClock(now, cutoff)
    posts = Posts()
    sched = CutoffScheduler(clock, posts)
    schedulers.append(sched)
    machine = dt.datetime.now(IST)
    sched.start()
    assert [t for t, _ in posts.timers] == ([Timer("cutoff", today)] if today else [])
    assert sched.next_cutoff == expected
    assert sched.next_cutoff is not None and sched.next_cutoff.utcoffset() == dt.timedelta(hours=5, minutes=30)
    # APScheduler waits in the machine's time: the job runs when the clock would reach the cutoff
    job = sched.scheduler.get_job(CUTOFF_JOB)
    assert job is not None and job.next_run_time.tzinfo is not None
    assert abs(job.next_run_time - (machine + (expected - now))) < dt.timedelta(seconds=1)
    sched._run()  # a re-check changes nothing: no second post, the same plan
    assert len(posts.timers) == (1 if today else 0)
    assert sched.scheduler.get_job(CUTOFF_JOB).next_run_time == job.next_run_time


def test_a_simulated_clock_is_refused() -> None:
    clock = SimClock(ist(2026, 11, 23, 9, 0))
    with pytest.raises(ConfigError, match="feed time"):
        CutoffScheduler(clock, Posts())

    class Other(MarketClock):
        def now(self) -> dt.datetime:
            return ist(2026, 11, 23, 9, 0)

    with pytest.raises(ConfigError, match="LiveClock"):
        CutoffScheduler(Other(), Posts())


def test_todays_cutoff_is_posted_even_when_the_next_day_cannot_be_planned(
    schedulers: list[CutoffScheduler],
) -> None:
    """31 Dec of the calendar's last year: today's timer goes out, then the calendar error is raised."""
    clock = FixedClock(ist(2026, 12, 31, 15, 10))
    if clock.calendar.last_year != 2026:
        pytest.skip("the installed calendar covers 2027")
    posts = Posts()
    sched = CutoffScheduler(clock, posts)
    schedulers.append(sched)
    with pytest.raises(CalendarError):
        sched.start()
    assert [t for t, _ in posts.timers] == [Timer("cutoff", ist(2026, 12, 31, 15, 0))]
    assert not sched.running


def test_a_job_error_is_reported_not_swallowed(schedulers: list[CutoffScheduler]) -> None:
    clock = FixedClock(ist(2026, 11, 27, 16, 0))
    errors: list[Exception] = []
    calls = 0

    def flaky(timer: Timer) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("engine gone")

    sched = CutoffScheduler(clock, flaky, on_error=errors.append)
    schedulers.append(sched)
    with pytest.raises(RuntimeError):
        sched.start()
    sched = CutoffScheduler(clock, flaky, on_error=errors.append)
    schedulers.append(sched)
    sched._run()  # the job's path: the error goes to on_error and is kept
    assert [str(e) for e in errors] == ["engine gone"]
    assert isinstance(sched.last_error, RuntimeError)
    assert calls == 2


def test_shutdown_stops_posting(schedulers: list[CutoffScheduler]) -> None:
    clock = SoonClock(dt.timedelta(milliseconds=300))
    posts = Posts()
    sched = CutoffScheduler(clock, posts)
    schedulers.append(sched)
    clock.reset()
    sched.start()
    sched.shutdown()
    assert not sched.running and sched.next_cutoff is None
    posted = len(posts.timers)  # zero unless the machine stalled past the 300 ms
    threading.Event().wait(0.6)
    assert clock.now() > clock.soon and len(posts.timers) == posted
    with pytest.raises(ConfigError, match="once"):
        sched.start()


# ---------------------------------------------------------------------- end to end


def test_the_scheduler_stands_the_engine_down_at_the_cutoff_when_the_feed_is_quiet(
    schedulers: list[CutoffScheduler],
) -> None:
    """A rehearsal of a past session on a live clock: a position is open, the feed goes quiet
    before 15:00, the scheduler's timer alone brings the cutoff; afterwards no entry gets through."""
    base = synthetic("SYN", sessions=1, seed=31)
    series = BarSeries("DEMO_TREND", base.frame, 1, base.source)
    clock = ShiftedClock()
    limits = RiskLimits()
    risk = RiskEngine(limits, PaperRms(limits.capital, default_master()), clock)
    records: list[tuple[str, dict[str, Any], str]] = []
    engine = Engine(clock, PaperBroker(), risk, {"ema_cross": create("ema_cross")}, mode="paper",
                    record=lambda t, p, tr: records.append((str(t), dict(p), tr)))
    engine.standing_arms = [("DEMO_TREND", "ema_cross")]

    events = iter(ReplayFeed([series]).events())
    for event in events:  # the session plays on the live clock until a position is open
        clock.shift_to(event.time)
        engine.handle(event)
        if any(s.manager.position is not None for s in engine.slots.values()):
            break
    slot = next(s for s in engine.slots.values() if s.manager.position is not None)
    day = clock.today()
    cutoff = clock.cutoff_at(day)
    assert cutoff is not None and clock.now() < cutoff - dt.timedelta(minutes=5)

    clock.shift_to(cutoff - dt.timedelta(milliseconds=400))  # the feed is silent until after 15:00
    posts = Posts(engine.post)
    sched = CutoffScheduler(clock, posts)
    schedulers.append(sched)
    sched.start()
    assert posts.arrived.wait(2.0), "no cutoff timer within 2 s"
    assert [t for t, _ in posts.timers] == [Timer("cutoff", cutoff)]
    assert engine.risk.state is TradingState.ACTIVE  # queued, not yet applied: the engine's thread does that

    engine.drain_commands()
    assert engine.risk.state in (TradingState.REDUCING, TradingState.HALTED)
    assert not slot.armed
    exits = [o for o in engine.orders.of_position(slot.position_id or "") if o.request.purpose is Purpose.EXIT]
    assert [o.request.reason for o in exits if o.working] == ["cutoff"]
    cut_note = next(i for i, (t, p, _) in enumerate(records) if t == RecordType.NOTE and p.get("event") == "cutoff")

    later = [e for e in events if e.time >= clock.now()]  # the feed comes back after 15:00
    assert later
    for event in later:
        clock.shift_to(max(event.time, clock.now()))
        engine.handle(event)
    assert all(s.manager.position is None for s in engine.slots.values())
    assert engine.risk.state is TradingState.HALTED
    after = records[cut_note:]
    assert not [p for t, p, _ in after if t == RecordType.ORDER_INTENT and p["purpose"] == "entry"]
    assert [p["reason"] for t, p, _ in after if t == RecordType.FILL and p["purpose"] == "exit"] == ["cutoff"]
    assert not engine.arm("DEMO_TREND", "ema_cross").ok
