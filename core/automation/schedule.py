"""The daily cutoff on the wall clock: an APScheduler job that posts ``Timer("cutoff")`` to the engine.

In live and paper modes market data can go quiet (a dead feed, an illiquid symbol, a network
drop), and the engine only acts when something reaches its queue. :class:`CutoffScheduler`
makes sure something does at the cutoff: an APScheduler 3 ``BackgroundScheduler`` running in
Asia/Kolkata holds one date job at the next cutoff instant (``clock.cutoff_at(day)``: the NSE
calendar's trading days, special sessions, and the configured cutoff, 15:00 unless set
otherwise). When it fires, it posts ``Timer("cutoff", instant)`` through ``post``
(``Engine.post``) and plans the following trading day's cutoff the same way, so holidays come
from the calendar and never from a hand list. Replay and simulation need none of this: there
the engine fires the cutoff from the feed's own times.

This is the first of three layers, and the one that is allowed to be late:

1. this scheduler posts the timer at the cutoff (the engine applies it on its own thread, at the
   next ``drain_commands``);
2. the engine's watchdog fires the cutoff on any event at or after it, if no timer came;
3. the risk checks refuse every entry at or after the cutoff, whatever the timers did.

So a late timer is harmless and a lost one is the only failure worth guarding against. The jobs
therefore run however late they are (``misfire_grace_time=None``) and coalesce repeats
(``coalesce=True``): a machine that slept through 15:00, or a GIL stall, posts the timer late
rather than dropping it, and the engine applies a repeated cutoff once. A re-check job (every
``recheck``, default 30 s) repeats the planning: APScheduler sleeps on a monotonic timeout,
which stops counting while the machine is suspended, so without it a wake-up after a suspend
could wait out the remaining sleep before noticing the cutoff has passed. Planning is keyed to
the clock's current day, so a job that wakes on a later day never posts yesterday's cutoff
(that would stand down a fresh session); started (or woken) after today's cutoff, it posts
today's at once.

Time: every instant is timezone-aware and computed by the clock in Asia/Kolkata; APScheduler is
given ``timezone=IST`` (its run times are IST-aware, and the machine's local timezone is never
consulted). APScheduler waits on the machine's clock while the cutoff is in the market clock's
time, so each run time is converted through the clock's offset from the machine, measured when
the job is planned: zero for a :class:`~core.clock.LiveClock`, and right for a clock that reads
a corrected or shifted time (broker-time correction, a rehearsal of a past session, tests).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.automation.events import Timer
from core.clock import IST, LiveClock, MarketClock, SimClock, machine_now
from core.errors import CalendarError, ConfigError

CUTOFF_JOB = "atw-cutoff"
RECHECK_JOB = "atw-cutoff-recheck"
LOOKAHEAD_DAYS = 31  # a trading day always comes within a month (the calendar's own bound is 30)
_REPLAN_SLACK = dt.timedelta(seconds=1)  # re-plan a job only when its run time moved more than this


class CutoffScheduler:
    """Posts ``Timer("cutoff", instant)`` at each NSE trading day's cutoff (live and paper modes).

    ``post`` is called from a scheduler thread (``Engine.post`` is thread-safe). ``on_error``
    receives an error raised while planning in the background (e.g. a year the calendar has no
    holidays for); without it the error is re-raised into APScheduler, which logs it. Either
    way it is kept in :attr:`last_error` and the re-check job tries again.
    """

    def __init__(
        self,
        clock: MarketClock,
        post: Callable[[Timer], None],
        *,
        on_error: Callable[[Exception], None] | None = None,
        recheck: dt.timedelta = dt.timedelta(seconds=30),
    ) -> None:
        if isinstance(clock, SimClock):
            raise ConfigError(
                "the cutoff scheduler runs on the wall clock; replay and simulation use feed time "
                "(the engine fires the cutoff from the events' times), so no scheduler is needed",
                where="cutoff scheduler",
            )
        if not isinstance(clock, LiveClock):
            raise ConfigError(
                f"the cutoff scheduler needs a LiveClock, got {type(clock).__name__}",
                where="cutoff scheduler",
            )
        if recheck <= dt.timedelta(0):
            raise ConfigError(f"recheck must be positive, got {recheck}", where="cutoff scheduler")
        self.clock = clock
        self._post = post
        self._on_error = on_error
        self._recheck = recheck
        self._lock = threading.Lock()
        self._next: dt.datetime | None = None
        self._posted_day: dt.date | None = None
        self._started = False
        self._stopped = False
        self.last_error: Exception | None = None
        # one worker: the cutoff job and the re-check never run at the same time
        self.scheduler = BackgroundScheduler(
            timezone=IST,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    # ------------------------------------------------------------------ public

    @property
    def next_cutoff(self) -> dt.datetime | None:
        """The next cutoff instant the job waits for (IST-aware; for the UI's countdown)."""
        return self._next

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Start the scheduler (once per instance); past today's cutoff, post today's timer at once.

        Errors (a calendar that cannot answer) are raised here, after today's timer is posted,
        and leave the scheduler stopped.
        """
        if self._started:
            raise ConfigError("a cutoff scheduler starts once; make a new one", where="cutoff scheduler")
        self._started = True
        self.scheduler.start()
        try:
            self._plan()
        except BaseException:
            self.scheduler.shutdown(wait=False)
            raise
        self.scheduler.add_job(self._run, IntervalTrigger(seconds=self._recheck.total_seconds(), timezone=IST),
                               id=RECHECK_JOB, replace_existing=True)

    def shutdown(self, wait: bool = False) -> None:
        """Stop the scheduler: nothing is posted once this returns. Safe to call twice."""
        with self._lock:  # waits for a planning pass in progress
            self._stopped = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self._next = None

    # ------------------------------------------------------------------ planning

    def _run(self, planned: dt.datetime | None = None) -> None:
        """A job (``planned``: the cutoff it was set for): post what is due and plan the next.

        Errors go to ``on_error`` (or to APScheduler's log); they never vanish.
        """
        try:
            self._plan()
        except Exception as exc:
            self.last_error = exc
            if self._on_error is None:
                raise
            self._on_error(exc)

    def _plan(self) -> None:
        """Post today's cutoff if it is due (once a day), and set the job for the next one.

        The next job is set before the timer is posted, so whoever handles the timer already
        sees the next cutoff; a calendar that cannot plan it is raised only after the post.
        """
        with self._lock:
            if self._stopped:
                return
            now = self.clock.now()
            today = now.date()
            cutoff = self.clock.cutoff_at(today)
            due = cutoff is not None and now >= cutoff and self._posted_day != today
            failure: Exception | None = None
            try:
                self._set_job(now)
            except Exception as exc:  # today's timer never waits on tomorrow's calendar
                self._next, failure = None, exc
            if due and cutoff is not None:
                self._post(Timer("cutoff", cutoff))
                self._posted_day = today  # once a day (a post that raised is retried)
            if failure is not None:
                raise failure
            self.last_error = None

    def _set_job(self, now: dt.datetime) -> None:
        upcoming = self._next_cutoff_after(now)
        self._next = upcoming
        left = upcoming - self.clock.now()  # read before the machine: errs late by microseconds
        run_at = machine_now() + left
        job = self.scheduler.get_job(CUTOFF_JOB)
        if job is not None and job.next_run_time is not None and job.args == (upcoming,) \
                and abs(job.next_run_time - run_at) <= _REPLAN_SLACK:
            return  # already planned (the usual case for the re-check)
        self.scheduler.add_job(self._run, DateTrigger(run_date=run_at, timezone=IST), args=(upcoming,),
                               id=CUTOFF_JOB, replace_existing=True)

    def _next_cutoff_after(self, now: dt.datetime) -> dt.datetime:
        day = now.date()
        for _ in range(LOOKAHEAD_DAYS):
            cutoff = self.clock.cutoff_at(day)
            if cutoff is not None and cutoff > now:
                return cutoff
            day += dt.timedelta(days=1)
        raise CalendarError(f"no trading day within {LOOKAHEAD_DAYS} days of {now:%Y-%m-%d}",
                            where="cutoff scheduler")


__all__ = ["CUTOFF_JOB", "RECHECK_JOB", "CutoffScheduler"]
