"""Restart recovery: an engine stopped mid-session and started again from its journal.

The strong form: stop the engine between two market events (everything it wrote is on disk),
start a new engine from the journal with the bars it had seen, feed it the rest, and the day's
trades are the same as if it had never stopped — stops, trailing, scale-outs and targets included.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from core.automation.engine import Engine
from core.automation.events import Arm, Kill, ResetLock
from core.automation.recovery import latest_book
from core.clock import IST, SimClock
from core.execution.orders import OrderType, Purpose
from core.execution.paper import PaperBroker
from core.instants import parse_utc
from core.journal.reader import iter_records, journal_files
from core.journal.records import Record, RecordType
from core.journal.replay import replay
from core.journal.writer import JournalWriter
from core.market.bars import Bar, BarSeries
from core.market.events import BarClosed, Tick
from core.market.feed import ReplayFeed
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.risk.state import TradingState
from core.strategies import create
from core.strategies.base import Strategy
from tests.conftest import synthetic

MODE = "paper"
EVERYTHING_ON = {"stop": "1atr", "target": "2r", "trail": "1atr", "trail_after": "0.5r", "breakeven": "0.7r",
                 "partial": "0.5r:30%,1r:30%", "qty": "10", "slippage": "1tick", "max_trades": "3"}


def demo_series(sessions: int = 3, seed: int = 31) -> list[BarSeries]:
    s = synthetic("SYN", sessions=sessions, seed=seed)
    return [BarSeries("DEMO_TREND", s.frame, 1, s.source)]


def replay_events(sessions: int = 3) -> tuple[list[Any], dt.datetime]:
    """The demo day's replay events, and a start a minute before the first bar."""
    series = demo_series(sessions)
    return list(ReplayFeed(series).events()), series[0].frame.index[0].to_pydatetime() - dt.timedelta(minutes=1)


def strategies() -> dict[str, Strategy]:
    return {"ema_cross": create("ema_cross", **EVERYTHING_ON),
            "range_breakout": create("range_breakout", stop="15pts", trail="10pts", qty="3", partial="1r:50%")}


def start_engine(home: Path, start: dt.datetime, arms: Sequence[tuple[str, str]],
                 limits: RiskLimits | None = None) -> tuple[Engine, JournalWriter]:
    clock = SimClock(start)
    limits = limits or RiskLimits()
    master = default_master()
    writer = JournalWriter(clock, MODE, home=home, batch_ms=0)
    by_name = strategies()
    broker = PaperBroker(master, slippage_for=lambda r: by_name[r.strategy].trade.slippage)
    engine = Engine(clock, broker, RiskEngine(limits, PaperRms(limits.capital, master), clock), by_name,
                    record=lambda t, p, tr: writer.append(t, p, tr), master=master, mode=MODE)
    engine.standing_arms = list(arms)
    return engine, writer


def records(home: Path) -> list[Record]:
    return [rec for path in journal_files(home, mode=MODE) for rec in iter_records(path)]


def trades(home: Path) -> pd.DataFrame:
    table = replay(records(home)).trades()
    return table.sort_values(["entry_time", "strategy"]).reset_index(drop=True)


def uninterrupted(home: Path, events: list[Any], start: dt.datetime, arms: Sequence[tuple[str, str]]) -> pd.DataFrame:
    engine, writer = start_engine(home, start, arms)
    with writer:
        engine.run(events)
        engine.finish()
    return trades(home)


def stop_and_restart(home: Path, events: list[Any], k: int, start: dt.datetime,
                     arms: Sequence[tuple[str, str]]) -> tuple[Engine, Engine]:
    """Run events[:k], stop without closing the session, restart from the journal, run the rest."""
    first, writer = start_engine(home, start, arms)
    with writer:
        for event in events[:k]:
            first.handle(event)
    seen: list[Bar] = [e.bar for e in events[:k] if isinstance(e, BarClosed)]
    second, writer = start_engine(home, start, arms)
    with writer:
        book, _ = latest_book(home, MODE)
        second.restore(book, seen)
        second.run(events[k:])
        second.finish()
    return first, second


def bar_opens(events: list[Any]) -> list[int]:
    return [i for i, e in enumerate(events) if isinstance(e, Tick) and e.bar_open]


def probe(start: dt.datetime, arms: Sequence[tuple[str, str]]) -> Engine:
    """An engine without a journal, to find the moments worth stopping at."""
    clock = SimClock(start)
    limits = RiskLimits()
    master = default_master()
    by_name = strategies()
    broker = PaperBroker(master, slippage_for=lambda r: by_name[r.strategy].trade.slippage)
    engine = Engine(clock, broker, RiskEngine(limits, PaperRms(limits.capital, master), clock), by_name,
                    master=master, mode=MODE)
    engine.standing_arms = list(arms)
    return engine


def test_a_restart_between_events_gives_the_same_trades_as_no_restart(tmp_path: Path) -> None:
    events, start = replay_events(3)
    arms = [("DEMO_TREND", "ema_cross"), ("DEMO_TREND", "range_breakout")]
    expected = uninterrupted(tmp_path / "whole", events, start, arms)
    assert len(expected) > 10
    assert {"trail", "partial", "stop"} <= set(expected.exit_reason)
    # stop points chosen where it matters most: a position open with its stop trailed and a scale-out done
    candidates = []
    looking = probe(start, arms)
    for i, event in enumerate(events):
        looking.handle(event)
        if isinstance(event, Tick) and event.bar_open and i + 1 < len(events):
            held = [s for s in looking.slots.values() if s.manager.position is not None]
            if any(s.manager.position.stop_kind.label in ("trail", "breakeven") for s in held):  # type: ignore[union-attr]
                candidates.append(i + 1)
    assert candidates, "no moment with a trailed stop: the fixture no longer exercises the restart"
    opens = bar_opens(events)
    chosen = sorted({candidates[0], candidates[len(candidates) // 2], candidates[-1], opens[len(opens) // 3]})
    for k in chosen:
        home = tmp_path / f"restart-{k}"
        stop_and_restart(home, events, k, start, arms)
        got = trades(home)
        pd.testing.assert_frame_equal(got, expected, obj=f"trades after a restart at event {k}")
        intents = Counter(r.payload["client_order_id"] for r in records(home) if r.type == RecordType.ORDER_INTENT)
        assert max(intents.values()) == 1, [c for c, n in intents.items() if n > 1]


def test_restart_takes_back_positions_stops_and_arms(tmp_path: Path) -> None:
    events, start = replay_events(3)
    arms = [("DEMO_TREND", "ema_cross"), ("DEMO_TREND", "range_breakout")]
    looking = probe(start, arms)
    k = None
    for i, event in enumerate(events):
        looking.handle(event)
        if isinstance(event, Tick) and event.bar_open and any(s.manager.position for s in looking.slots.values()):
            k = i + 1
            break
    assert k is not None
    home = tmp_path / "j"
    first, writer = start_engine(home, start, arms)
    with writer:
        for event in events[:k]:
            first.handle(event)
        first.post(Arm("DEMO_TREND", "nonexistent_strategy_is_refused"))
        first.drain_commands()
    before = {(s.symbol, s.strategy.name): s for s in first.slots.values()}
    second, writer = start_engine(home, start, arms)
    with writer:
        book, _ = latest_book(home, MODE)
        second.restore(book, [e.bar for e in events[:k] if isinstance(e, BarClosed)])
    for key, old in before.items():
        new = second.slots[key]
        assert new.armed == old.armed
        assert new.position_id == old.position_id
        if old.manager.position is None:
            assert new.manager.position is None
            continue
        a, b = old.manager.position, new.manager.position
        assert b is not None
        assert (b.side, b.qty, b.entry_price, b.stop, b.stop_kind, b.best) == (a.side, a.qty, a.entry_price, a.stop,
                                                                                a.stop_kind, a.best)
        assert new.stop_coid == old.stop_coid and new.target_coid == old.target_coid
        working = {r.client_order_id: r for r in second.broker.working(key[0])}  # type: ignore[attr-defined]
        stop = working[new.stop_coid]  # type: ignore[index]
        assert stop.order_type is OrderType.SL_M and stop.trigger_price == b.stop and stop.qty == b.qty
    assert second.risk.rms.snapshot().used == first.risk.rms.snapshot().used
    assert second.day_realised == first.day_realised


def test_a_kill_survives_a_restart(tmp_path: Path) -> None:
    events, start = replay_events(2)
    arms = [("DEMO_TREND", "ema_cross")]
    home = tmp_path / "j"
    first, writer = start_engine(home, start, arms)
    with writer:
        for event in events[:200]:
            first.handle(event)
        first.post(Kill("risk desk"))
        for event in events[200:240]:
            first.handle(event)
    assert first.risk.state is TradingState.HALTED
    second, writer = start_engine(home, start, arms)
    with writer:
        second.restore(latest_book(home, MODE)[0], [e.bar for e in events[:240] if isinstance(e, BarClosed)])
        assert second.risk.state is TradingState.HALTED and second.halt_reason == "kill"
        check = second.arm("DEMO_TREND", "ema_cross")
        assert not check.ok and any("kill switch" in f for f in check.failures)
        second.run(events[240:])  # the next day too: the lock holds until a human resets it
        second.finish()
    killed_at = first.clock.now()

    def entries_after(journal: Path) -> list[Record]:
        return [r for r in records(journal) if r.type == RecordType.ORDER_INTENT
                and r.payload["purpose"] == Purpose.ENTRY.value and parse_utc(r.ts) > killed_at]

    assert entries_after(home) == []
    assert second.risk.state is TradingState.HALTED
    days = [r.payload for r in records(home) if r.type == RecordType.SESSION_START]
    assert len(days) == 2 and days[-1]["lock"] == "kill"
    uninterrupted(tmp_path / "unkilled", events, start, arms)  # without the kill, it would have traded
    assert entries_after(tmp_path / "unkilled")


def test_protection_a_crash_kept_from_the_broker_goes_out_on_restart(tmp_path: Path) -> None:
    """The entry fill is journaled, the process dies before the stop's intent: the restart sends it."""
    events, start = replay_events(3)
    arms = [("DEMO_TREND", "ema_cross")]
    home = tmp_path / "j"
    first, writer = start_engine(home, start, arms)
    with writer:
        for event in events:
            first.handle(event)
            if any(s.manager.position for s in first.slots.values()):
                break
    # cut the journal back to just after the entry fill, as a crash before the next intent would leave it
    path = journal_files(home, mode=MODE)[-1]
    lines = path.read_bytes().splitlines(keepends=True)
    kept = []
    for line in lines:
        kept.append(line)
        if b'"type":"fill"' in line and b'"purpose":"entry"' in line:
            break
    assert len(kept) < len(lines)
    path.write_bytes(b"".join(kept))
    second, writer = start_engine(home, start, arms)
    with writer:
        second.restore(latest_book(home, MODE)[0], [e.bar for e in events if isinstance(e, BarClosed)
                                                     and e.bar.end <= first.clock.now()])
        slot = second.slots[("DEMO_TREND", "ema_cross")]
        pos = slot.manager.position
        assert pos is not None and slot.stop_coid is not None
        working = {r.client_order_id: r for r in second.broker.working("DEMO_TREND")}  # type: ignore[attr-defined]
        assert working[slot.stop_coid].trigger_price == pos.stop == pos.initial_stop
        assert slot.target_coid in working
    intents = Counter(r.payload["client_order_id"] for r in records(home) if r.type == RecordType.ORDER_INTENT)
    assert max(intents.values()) == 1


def test_the_daily_loss_lock_holds_past_the_cutoff_and_a_restart_until_a_human_lifts_it(tmp_path: Path) -> None:
    events, start = replay_events(3)
    arms = [("DEMO_TREND", "ema_cross"), ("DEMO_TREND", "range_breakout")]
    limits = RiskLimits.from_mapping({"daily_loss_limit": "1"})  # the first losing rupee locks the day
    home = tmp_path / "j"
    first, writer = start_engine(home, start, arms, limits)
    with writer:
        seen = 0
        for event in events:
            first.handle(event)
            seen += 1
            if first.halt_reason == "loss":
                break
        assert first.risk.state is TradingState.REDUCING and first.locked == "loss"
        locked_day = first.day
        assert not first.arm("DEMO_TREND", "ema_cross").ok
        # on to the next session's first hour: still locked, nothing entered
        for event in events[seen:]:
            first.handle(event)
            seen += 1
            if first.day != locked_day and first.clock.now().astimezone(IST).hour >= 10:
                break
        assert first.day != locked_day
        assert first.risk.state is TradingState.REDUCING and first.locked == "loss"
    entries = [r for r in records(home) if r.type == RecordType.ORDER_INTENT and r.payload["purpose"] == "entry"]
    last_entry = max(parse_utc(r.ts) for r in entries)
    locked_at = next(parse_utc(r.ts) for r in records(home) if r.type == RecordType.STATE
                     and r.payload.get("lock") == "loss")
    assert last_entry <= locked_at
    second, writer = start_engine(home, start, arms, limits)
    with writer:
        second.restore(latest_book(home, MODE)[0], [e.bar for e in events[:seen] if isinstance(e, BarClosed)])
        assert second.risk.state is TradingState.REDUCING and second.locked == "loss"
        second.handle(next(e for e in events[seen:] if isinstance(e, Tick)))  # a fresh price, for the arm check
        second.post(ResetLock("risk manager"))
        second.drain_commands()
        assert second.risk.state is TradingState.ACTIVE and second.locked == ""
        assert second.arm("DEMO_TREND", "ema_cross").ok


def test_the_order_rate_throttle_remembers_the_last_minute_across_a_restart(tmp_path: Path) -> None:
    events, start = replay_events(2)
    arms = [("DEMO_TREND", "ema_cross"), ("DEMO_TREND", "range_breakout")]
    home = tmp_path / "j"
    first, writer = start_engine(home, start, arms)
    with writer:
        seen = 0
        for event in events:  # stop right after an entry and its protective orders went out
            first.handle(event)
            seen += 1
            if any(s.manager.position for s in first.slots.values()):
                break
    now = first.clock.now()
    sent = [parse_utc(r.ts) for r in records(home) if r.type == RecordType.ORDER_INTENT
            and parse_utc(r.ts) > now - dt.timedelta(seconds=60)]
    assert len(sent) >= 2
    limits = RiskLimits.from_mapping({"orders_per_minute": str(len(sent))})
    second, writer = start_engine(home, start, arms, limits)
    with writer:
        second.restore(latest_book(home, MODE)[0], [e.bar for e in events[:seen] if isinstance(e, BarClosed)])
        assert second.risk.rate.would_allow(now) is not None  # the minute's orders are counted: no room
    fresh, fresh_writer = start_engine(tmp_path / "fresh", start, arms, limits)  # without the journal: room
    fresh_writer.close()
    assert fresh.risk.rate.would_allow(now) is None


def cut_after(home: Path, marker: bytes) -> int:
    """Cut the journal just after the first record containing ``marker`` (a crash right there):
    the rest of its file and every later day's file go. Returns how many records went."""
    gone = 0
    found = False
    for path in journal_files(home, mode=MODE):
        lines = path.read_bytes().splitlines(keepends=True)
        if found:
            gone += len(lines)
            path.unlink()
            continue
        at = next((i for i, line in enumerate(lines) if marker in line), None)
        if at is not None:
            found = True
            gone += len(lines) - at - 1
            path.write_bytes(b"".join(lines[: at + 1]))
    assert found
    return gone


def test_a_crash_between_a_fill_and_the_cuts_it_causes_leaves_no_stale_exit_order(tmp_path: Path) -> None:
    """A scale-out filled (stop and target not yet cut), or the stop filled (target not yet cancelled):
    the restart cuts or cancels them, so no exit can ever sell more than is held."""
    events, start = replay_events(3)
    arms = [("DEMO_TREND", "ema_cross")]
    whole = tmp_path / "whole"
    uninterrupted(whole, events, start, arms)
    every = records(whole)
    scale_out = next(r for r in every if r.type == RecordType.FILL and r.payload.get("reason") == "partial")
    pid = scale_out.payload["position_id"]
    last_exit = [r for r in every if r.type == RecordType.FILL and r.payload["position_id"] == pid][-1]
    for name, rec in (("scale-out", scale_out), ("last exit", last_exit)):
        home = tmp_path / name
        uninterrupted(home, events, start, arms)
        assert cut_after(home, f'"fill_id":"{rec.payload["fill_id"]}"'.encode()) > 0
        book, _ = latest_book(home, MODE)
        resume_at = book.last_time
        assert resume_at is not None
        engine, writer = start_engine(home, start, arms)
        with writer:
            engine.restore(book, [e.bar for e in events if isinstance(e, BarClosed) and e.bar.end <= resume_at])
        slot = engine.slots.get(("DEMO_TREND", "ema_cross"))
        resting = [r for r in engine.broker.working("DEMO_TREND")  # type: ignore[attr-defined]
                   if r.position_id == pid and r.purpose is Purpose.EXIT]
        held = [p for p in book.open_positions if p.position_id == pid]
        if name == "last exit":
            assert held == [] and (slot is None or slot.manager.position is None) and resting == []
            assert any(r.type == RecordType.ORDER_UPDATE and r.payload.get("message") == "restart: its position is closed"
                       for r in records(home))
            continue
        assert slot is not None
        pos = slot.manager.position
        assert pos is not None and pos.qty == held[0].open_qty < held[0].qty
        by_role = {r.client_order_id.rsplit("|", 1)[-1]: r for r in resting}
        engine_orders = engine.orders.orders
        for role in ("S", "T"):
            assert engine_orders[by_role[role].client_order_id].open_qty == pos.qty, role
        assert engine.broker._by_id[by_role["S"].client_order_id].qty == pos.qty  # type: ignore[attr-defined]
