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
from typing import TYPE_CHECKING, Any, Protocol

from core.automation.broker_watch import watch_session
from core.automation.engine import Engine
from core.automation.events import Idle
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

if TYPE_CHECKING:  # (importing it would import kiteconnect, and Twisted with it, into every replay)
    from core.automation.broker_watch import BrokerWatch

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
    on_snapshot: Callable[[Any], None] | None = None,
    tape: Any = None,
    snapshot_hz: float = 10.0,
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
                    costs=costs, build_bars=True, on_snapshot=on_snapshot, tape=tape, snapshot_hz=snapshot_hz)
    engine.standing_arms = list(arms)
    engine.warm(warmup)

    return LiveSession(engine, feed, broker, writer, closer(writer, projector))


def closer(writer: JournalWriter, projector: LedgerProjector | None) -> Callable[[], None]:
    """Close a session's journal (flushed) and then its ledger, even when the first fails."""
    def close() -> None:
        try:
            writer.close()
        finally:
            if projector is not None:
                projector.ledger.close()
    return close


def live_events(session: LiveSession, *, watch: BrokerWatch | None = None,
                poll_s: float = 0.25) -> Iterator[Any]:
    """The live feed as the engine's events, for any host that hands each to ``engine.handle``
    (:func:`run_live`, the desktop's service): its ticks, and on a quiet moment the broker's due
    updates (postbacks, a poll) and an :class:`Idle` (so time still moves the engine). After each
    event the watch (a real broker's) and the feed's health check take their turn, on the
    engine's thread."""
    engine, broker = session.engine, session.broker
    due: Callable[[], list[BrokerEvent]] | None = getattr(broker, "due", None)
    for tick in session.feed.events(poll_s):
        if tick is None:
            yield from due() if due is not None else ()
            yield Idle()
        else:
            yield tick
        if watch is not None:
            watch.turn()
        else:
            watch_session(engine, broker, session.feed)
        _watch_feed(engine, session.feed)


def run_live(session: LiveSession, *, stop: Callable[[], bool], poll_s: float = 0.25,
             watch: BrokerWatch | None = None) -> None:
    """Drive the engine from :func:`live_events` until ``stop()`` says so (checked at least every
    ``poll_s``). The session is finished and closed on the way out, even on an error."""
    engine = session.engine
    try:
        for event in live_events(session, watch=watch, poll_s=poll_s):
            if stop():
                break
            engine.handle(event)
        engine.finish()
    finally:
        session.feed.stop()
        session.close()


FEED_STALE = "the feed is stale"


def _watch_feed(engine: Engine, feed: LiveFeed) -> None:
    """No tick for the feed's ``stale_after_s``: entries held (alert once) until ticks flow again;
    and the stale-feed kill trigger is told how long it has been silent."""
    stale = getattr(feed, "stale", False)
    if stale:
        engine.kill_triggers.on_feed(getattr(feed, "last_tick_age_s", None))
    if stale and not engine.entry_hold:
        age = getattr(feed, "last_tick_age_s", None)
        engine.hold_entries(f"{FEED_STALE}: no tick for {age:.0f} s" if age is not None else
                            f"{FEED_STALE}: no tick since the start")
    elif not stale and engine.entry_hold.startswith(FEED_STALE):
        engine.release_entries("ticks flow again")
