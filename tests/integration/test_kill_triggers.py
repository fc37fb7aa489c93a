"""Automatic kill triggers against the loopback Kite replica: a burst of rejects, an order-rate
runaway, a stale feed with positions open, the broker's books differing — each flattens and
halts, journaled with its evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from core.automation.broker_watch import BrokerWatch
from core.automation.engine import Engine
from core.automation.events import ExitPosition
from core.automation.live import _watch_feed
from core.market.events import Tick
from core.risk.limits import RiskLimits
from core.risk.state import TradingState
from tests.integration.kite_fixtures import KiteRig
from tests.integration.test_kite_exit_safety import KEY, SYMBOL, engine_holding_a_position

Records = list[tuple[str, dict[str, Any], str]]


def next_tick(engine: Engine, rig: KiteRig, events: Any) -> None:
    tick = next(e for e in events if isinstance(e, Tick))
    rig.book.set_price(KEY, tick.price)
    engine.handle(tick)


def killed_by(records: Records, rule: str) -> dict[str, Any]:
    [note] = [p for t, p, _ in records if t == "note" and p.get("event") == "kill_trigger"]
    assert note["rule"] == rule
    assert any(t == "command" and p["command"] == "kill" and rule in p["reason"] for t, p, _ in records)
    return note


def flat_and_halted(engine: Engine, rig: KiteRig) -> None:
    assert all(s.manager.position is None for s in engine.slots.values())
    assert engine.risk.state is TradingState.HALTED and engine.halt_reason == "kill"
    assert rig.book.positions()["net"][0]["quantity"] == 0  # flat at the broker too
    assert [o for o in rig.book.orders() if o["status"] in ("OPEN", "TRIGGER PENDING")] == []


def test_a_burst_of_rejects_kills(rig: KiteRig, tmp_path: Path) -> None:
    limits = RiskLimits.from_mapping({"kill_rejects": "2", "kill_rejects_window_s": "60"})
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path, limits)
    for _ in range(2):
        rig.book.reject_next("RMS:Rule: Check circuit limit including square off order exceeds")
        engine.post(ExitPosition(SYMBOL, "ema_cross"))
        next_tick(engine, rig, events)
    note = killed_by(records, "kill_rejects")
    assert "2 orders rejected within 60 s" in note["why"]
    assert [e["message"] for e in note["evidence"]] == ["RMS:Rule: Check circuit limit including square off order "
                                                        "exceeds"] * 2
    assert engine.risk.state is TradingState.HALTED  # killed at the end of the event that saw the 2nd reject
    next_tick(engine, rig, events)  # the flattening exit's fill comes with the broker's next word
    flat_and_halted(engine, rig)
    writer.close()


def test_an_order_rate_runaway_kills(rig: KiteRig, tmp_path: Path) -> None:
    limits = RiskLimits.from_mapping({"kill_orders_per_min": "3"})
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path, limits)  # entry + stop: 2 sent
    now = engine.clock.now()
    for _ in range(2):
        engine.kill_triggers.on_sent(now)  # a loop sending orders faster than any strategy would
    next_tick(engine, rig, events)
    note = killed_by(records, "kill_orders_per_min")
    assert note["evidence"]["orders"] == 4 and "4 orders sent in a minute (limit 3)" in note["why"]
    flat_and_halted(engine, rig)
    writer.close()


def test_a_stale_feed_with_a_position_open_kills_and_without_one_does_not(rig: KiteRig, tmp_path: Path) -> None:
    limits = RiskLimits.from_mapping({"kill_stale_s": "30"})
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path, limits)
    _watch_feed(engine, SimpleNamespace(stale=True, last_tick_age_s=29.0))  # type: ignore[arg-type]
    next_tick(engine, rig, events)
    assert engine.risk.state is not TradingState.HALTED  # under the limit: held, not killed
    _watch_feed(engine, SimpleNamespace(stale=True, last_tick_age_s=31.0))  # type: ignore[arg-type]
    next_tick(engine, rig, events)
    note = killed_by(records, "kill_stale_s")
    assert note["evidence"]["silent_s"] == 31.0 and note["evidence"]["positions"] == [f"{SYMBOL}:ema_cross"]
    flat_and_halted(engine, rig)
    writer.close()


def test_books_that_differ_from_the_brokers_kill_when_asked(rig: KiteRig, tmp_path: Path) -> None:
    limits = RiskLimits.from_mapping({"kill_on_mismatch": "on"})
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path, limits)
    watch = BrokerWatch(engine, rig.broker, monotonic=lambda: 0.0)
    rig.book.adjust_position(KEY, 3, 1000.0)  # someone traded our instrument from another terminal
    watch.reconcile()
    next_tick(engine, rig, events)
    note = killed_by(records, "kill_on_mismatch")
    assert "at the broker" in note["evidence"]["difference"]
    assert all(s.manager.position is None for s in engine.slots.values())
    assert engine.risk.state is TradingState.HALTED
    writer.close()


def test_triggers_are_off_unless_set(rig: KiteRig, tmp_path: Path) -> None:
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path)
    for _ in range(50):
        engine.kill_triggers.on_sent(engine.clock.now() + dt.timedelta(seconds=1))
    _watch_feed(engine, SimpleNamespace(stale=True, last_tick_age_s=9999.0))  # type: ignore[arg-type]
    next_tick(engine, rig, events)
    assert engine.risk.state is not TradingState.HALTED
    assert not [p for t, p, _ in records if t == "note" and p.get("event") == "kill_trigger"]
    writer.close()


def test_the_brokers_own_not_sent_is_no_reject_burst(rig: KiteRig, tmp_path: Path) -> None:
    limits = RiskLimits.from_mapping({"kill_rejects": "1"})
    engine, records, events, writer = engine_holding_a_position(rig, tmp_path, limits)
    engine.kill_triggers.on_reject(engine.clock.now(), "X", "not sent: the position was already closed at Kite")
    next_tick(engine, rig, events)
    assert engine.risk.state is not TradingState.HALTED
    engine.kill_triggers.on_reject(engine.clock.now(), "X", "RMS:Margin Exceeds")
    next_tick(engine, rig, events)
    assert killed_by(records, "kill_rejects")["evidence"][0]["message"] == "RMS:Margin Exceeds"
    writer.close()
