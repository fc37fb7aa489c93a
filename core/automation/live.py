"""Live sessions: the engine on a live feed, with Kite's or the paper broker (``atw run``).

Only the feed, the clock and the broker differ from a replay (DESIGN.md §2). Here the feed is a
live one (:class:`~core.market.feeds.kite.KiteFeed`: ticks, and ``None`` on a quiet moment), the
engine builds its bars from the ticks, and the broker is :class:`~core.execution.kite_broker.KiteBroker`
(orders at Zerodha) or the :class:`~core.execution.paper.PaperBroker` (paper mode: live data,
paper fills). Every record goes to the main journal (``<home>/journal/``, one file per day and
mode) and through the journal projector to the ledger, exactly as the desktop's sessions do.

The clock is the wall clock in Asia/Kolkata (:class:`~core.clock.LiveClock`) in production. A
:class:`~core.clock.SimClock` moved by the ticks' exchange times is accepted too: the loopback
replica plays a scripted day at any hour of a test machine's day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.automation.broker_watch import BrokerWatch
from core.automation.engine import Engine
from core.clock import MarketClock
from core.execution.broker import Broker, BrokerEvent
from core.journal.projector import LedgerProjector
from core.journal.reader import iter_records, journal_files
from core.journal.records import RecordType
from core.journal.writer import JournalWriter
from core.market.bars import Bar
from core.market.events import Tick
from core.market.instruments import InstrumentMaster
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.strategies.base import Strategy

LIVE_MODES = ("paper", "shadow", "canary", "live")


class LiveFeed(Protocol):
    def events(self, poll_s: float = 0.5) -> Iterator[Tick | None]: ...

    def stop(self) -> None: ...


@dataclass
class LiveSession:
    """An engine wired to a live feed, a broker, the journal and the ledger."""

    engine: Engine
    feed: LiveFeed
    broker: Broker
    writer: JournalWriter
    close: Callable[[], None]


def open_live_session(
    mode: str,
    broker: Broker,
    feed: LiveFeed,
    strategies: Sequence[Strategy],
    arms: Sequence[tuple[str, str]],
    *,
    clock: MarketClock,
    home: Path,
    master: InstrumentMaster,
    limits: RiskLimits | None = None,
    costs: str = "zerodha",
    warmup: Sequence[Bar] = (),
    ledger: bool = True,
    resume: bool = False,
) -> LiveSession:
    """Build the engine of one live session; the caller runs it with :func:`run_live`.

    ``resume`` (a restart): the ledger projection goes on from the mode's newest journal file, which
    the ledger already holds; the caller restores the engine from the same journal
    (:meth:`Engine.restore` with :func:`~core.automation.recovery.latest_book`)."""
    from core.ledger import Ledger
    from core.ledger.repository import LEDGER_FILE

    limits = limits or RiskLimits()
    risk = RiskEngine(limits, PaperRms(limits.capital, master), clock)
    writer = JournalWriter(clock, mode, home=home)
    projector = LedgerProjector(Ledger.open(home / LEDGER_FILE), master) if ledger else None
    if projector is not None and resume:
        files = journal_files(home, mode=mode)
        if files:
            projector.resume(iter_records(files[-1]))

    def record(rtype: RecordType, payload: Mapping[str, Any], trace: str) -> None:
        rec = writer.append(rtype, payload, trace)
        if projector is not None:
            projector.apply(rec)

    engine = Engine(clock, broker, risk, {s.name: s for s in strategies}, record=record, master=master, mode=mode,
                    costs=costs, build_bars=True)
    engine.standing_arms = list(arms)
    engine.warm(warmup)

    def close() -> None:
        try:
            writer.close()
        finally:
            if projector is not None:
                projector.ledger.close()

    return LiveSession(engine, feed, broker, writer, close)


def run_live(session: LiveSession, *, stop: Callable[[], bool], poll_s: float = 0.25,
             watch: BrokerWatch | None = None) -> None:
    """Drive the engine from the feed until ``stop()`` says so (checked at least every ``poll_s``);
    on a quiet moment the broker's due updates (postbacks, a poll) and the clock still move it.
    ``watch`` (a real broker's) takes its turn after every event. The session is finished and
    closed on the way out, even on an error."""
    engine, broker = session.engine, session.broker
    due: Callable[[], list[BrokerEvent]] | None = getattr(broker, "due", None)
    try:
        for tick in session.feed.events(poll_s):
            if stop():
                break
            if tick is None:
                for event in due() if due is not None else ():
                    engine.handle(event)
                engine.on_idle()
            else:
                engine.handle(tick)
            if watch is not None:
                watch.turn()
            _watch_feed(engine, session.feed)
        engine.finish()
    finally:
        session.feed.stop()
        session.close()


FEED_STALE = "the feed is stale"


def _watch_feed(engine: Engine, feed: LiveFeed) -> None:
    """No tick for the feed's ``stale_after_s``: entries held (alert once) until ticks flow again."""
    stale = getattr(feed, "stale", False)
    if stale and not engine.entry_hold:
        age = getattr(feed, "last_tick_age_s", None)
        engine.hold_entries(f"{FEED_STALE}: no tick for {age:.0f} s" if age is not None else
                            f"{FEED_STALE}: no tick since the start")
    elif not stale and engine.entry_hold.startswith(FEED_STALE):
        engine.release_entries("ticks flow again")
