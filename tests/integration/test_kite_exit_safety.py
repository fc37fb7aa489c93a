"""A refused market exit at Kite never leaves the position without a stop.

Kite has no one-cancels-other, so KiteBroker cancels a position's stop before its market exit is
sent. If Kite then refuses the exit, the engine puts a new stop back (the next stop role, S2) at
the same trigger, and the next exit cancels that one in turn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.automation.engine import Engine
from core.automation.events import ExitPosition
from core.automation.recovery import latest_book
from core.clock import SimClock
from core.execution.kite_broker import KiteBroker
from core.execution.kite_wire import kite_tag
from core.journal.writer import JournalWriter
from core.market.bars import BarSeries
from core.market.events import Tick
from core.market.feed import ReplayFeed
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.strategies import create
from tests.conftest import synthetic
from tests.integration.kite_fixtures import KiteRig

SYMBOL = "DEMO_TREND"
KEY = f"NSE:{SYMBOL}"


Records = list[tuple[str, dict[str, Any], str]]


def live_engine(broker: KiteBroker, writer: JournalWriter, start: dt.datetime,
                limits: RiskLimits | None = None) -> tuple[Engine, Records]:
    """An engine trading DEMO_TREND:ema_cross through ``broker``, journaling to ``writer``."""
    master = default_master()
    clock = writer.clock
    assert isinstance(clock, SimClock)
    clock.set(start)
    limits = limits or RiskLimits()
    records: Records = []

    def record(kind: Any, payload: Any, trace: str) -> None:
        records.append((str(kind), dict(payload), trace))
        writer.append(kind, payload, trace)

    engine = Engine(clock, broker, RiskEngine(limits, PaperRms(limits.capital, master), clock),
                    {"ema_cross": create("ema_cross", qty="5", stop="1.5atr")}, master=master, mode="live",
                    record=record)
    engine.standing_arms = [(SYMBOL, "ema_cross")]
    return engine, records


def engine_holding_a_position(rig: KiteRig, home: Path, limits: RiskLimits | None = None
                              ) -> tuple[Engine, Records, Iterator[Any], JournalWriter]:
    """A live engine fed a synthetic day until a position is open with its stop working at Kite;
    the rest of the day's events and the engine's journal writer."""
    s = synthetic("SYN", sessions=2, seed=31)
    series = BarSeries(SYMBOL, s.frame, 1, s.source)
    start = series.frame.index[0].to_pydatetime() - dt.timedelta(minutes=1)
    writer = JournalWriter(SimClock(start), "live", home=home, batch_ms=0)
    engine, records = live_engine(rig.broker, writer, start, limits)
    events = iter(ReplayFeed([series]).events())
    for event in events:
        if isinstance(event, Tick):
            rig.book.set_price(KEY, event.price)
        engine.handle(event)
        slot = engine.slots.get((SYMBOL, "ema_cross"))
        if slot is not None and slot.manager.position is not None and slot.stop_coid is not None:
            return engine, records, events, writer
    raise AssertionError("the synthetic day never opened a position")


def working_at_kite(rig: KiteRig) -> list[dict[str, Any]]:
    return [o for o in rig.book.orders() if o["status"] in ("OPEN", "TRIGGER PENDING")]


def test_a_refused_market_exit_puts_the_stop_back_at_kite_and_the_next_exit_closes_the_position(
        rig: KiteRig, tmp_path: Path) -> None:
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path)
    slot = engine.slots[(SYMBOL, "ema_cross")]
    pos = slot.manager.position
    assert pos is not None and slot.position_id is not None
    pid, qty, stop_level = slot.position_id, pos.qty, pos.stop
    [stop] = working_at_kite(rig)
    assert stop["tag"] == kite_tag(f"{pid}|S") and stop["order_type"] == "SL-M"

    rig.book.reject_next("RMS:Rule: Check circuit limit including square off order exceeds")
    engine.post(ExitPosition(SYMBOL, "ema_cross"))
    tick = next(e for e in events if isinstance(e, Tick))
    rig.book.set_price(KEY, tick.price)
    engine.handle(tick)

    assert slot.manager.position is not None and slot.manager.position.qty == qty  # still held
    [back] = working_at_kite(rig)  # the old stop was cancelled for the exit; a new one stands in
    assert back["tag"] == kite_tag(f"{pid}|S2") and back["order_type"] == "SL-M"
    assert back["quantity"] == qty and back["transaction_type"] == ("SELL" if pos.side > 0 else "BUY")
    assert abs(back["trigger_price"] - engine.master.get(SYMBOL).round_price(stop_level)) < 1e-9
    assert slot.stop_coid == f"{pid}|S2"
    assert any(t == "note" and p["event"] == "reprotect" and p["stop"] == f"{pid}|S2" for t, p, _ in records)
    assert any("stop put back" in a.text for a in engine.alerts)
    writer.close()

    # the process restarts here: the journal and Kite's book give back the stop standing in now
    writer = JournalWriter(SimClock(engine.clock.now()), "live", home=tmp_path, batch_ms=0)
    broker = KiteBroker(rig.gateway, default_master(), poll_s=0.0)
    again, _ = live_engine(broker, writer, engine.clock.now())
    book, _ = latest_book(tmp_path, "live")
    again.restore(book)
    slot = again.slots[(SYMBOL, "ema_cross")]
    assert slot.stop_coid == f"{pid}|S2" and slot.manager.position is not None
    assert slot.manager.position.stop == stop_level
    assert [o["tag"] for o in working_at_kite(rig)] == [kite_tag(f"{pid}|S2")]  # adopted, nothing re-sent

    again.post(ExitPosition(SYMBOL, "ema_cross"))  # the trader tries again: Kite takes it this time
    tick = next(e for e in events if isinstance(e, Tick))
    rig.book.set_price(KEY, tick.price)
    again.handle(tick)
    writer.close()
    assert slot.manager.position is None
    assert working_at_kite(rig) == []
    assert rig.book.positions()["net"][0]["quantity"] == 0  # flat at Kite: nothing sold twice


def test_a_stop_cancelled_at_kite_behind_our_back_is_put_back(rig: KiteRig, tmp_path: Path) -> None:
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path)
    slot = engine.slots[(SYMBOL, "ema_cross")]
    pid = slot.position_id
    [stop] = working_at_kite(rig)
    rig.kite.cancel_order(variety="regular", order_id=stop["order_id"])  # from Kite's web, by mistake
    tick = next(e for e in events if isinstance(e, Tick))
    rig.book.set_price(KEY, tick.price)
    engine.handle(tick)  # the poll sees it cancelled; no exit took its place
    [back] = working_at_kite(rig)
    assert back["tag"] == kite_tag(f"{pid}|S2") and back["order_type"] == "SL-M"
    assert any(t == "note" and p["event"] == "reprotect" for t, p, _ in records)
    writer.close()
