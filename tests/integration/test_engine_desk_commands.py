"""Commands the desk sends besides arm and kill: cancel a working entry; the pre-arm verdict on a pair."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.automation.events import CancelOrder
from core.execution.orders import OrderStatus, Purpose
from core.journal.records import RecordType
from core.market.events import BarClosed, Tick
from core.market.feed import ReplayFeed
from tests.integration.test_engine_safety import demo_series, make_engine, open_positions


def until_entry_working(engine: Any, events: Iterator[Any]) -> Any:
    for event in events:
        engine.handle(event)
        working = [o for o in engine.orders.working() if o.request.purpose is Purpose.ENTRY]
        if working and isinstance(event, BarClosed):
            return working[0]
    raise AssertionError("no entry order was ever working")


def test_cancelling_a_working_entry_cancels_it_and_no_position_opens() -> None:
    series = [demo_series(2)]
    engine, records = make_engine(series, ["ema_cross"])
    events: Iterator[Any] = iter(ReplayFeed(series).events())
    entry = until_entry_working(engine, events)
    engine.post(CancelOrder(entry.client_order_id))
    engine.handle(next(e for e in events if isinstance(e, Tick)))  # the tick that would have filled it
    assert engine.orders.orders[entry.client_order_id].status is OrderStatus.CANCELLED
    assert open_positions(engine) == 0
    assert not [p for t, p, _ in records if t == RecordType.FILL and p["client_order_id"] == entry.client_order_id]
    assert any(t == RecordType.COMMAND and p.get("command") == "cancel" for t, p, _ in records)


def test_a_protective_order_is_not_cancelled_alone() -> None:
    series = [demo_series(2)]
    engine, _ = make_engine(series, ["ema_cross"], stop="1.5atr")
    events: Iterator[Any] = iter(ReplayFeed(series).events())
    for event in events:
        engine.handle(event)
        stops = [o for o in engine.orders.working() if o.request.purpose is Purpose.EXIT]
        if stops:
            break
    stop = stops[0]
    engine.post(CancelOrder(stop.client_order_id))
    engine.drain_commands()
    assert engine.orders.orders[stop.client_order_id].working  # the position keeps its stop
    assert "protects an open position" in engine.alerts[-1].text
    engine.post(CancelOrder("no-such-order"))
    engine.drain_commands()
    assert "not a working order" in engine.alerts[-1].text


def test_a_failed_pre_arm_check_is_shown_on_the_pair_until_it_arms() -> None:
    series = [demo_series(1)]
    engine, _ = make_engine(series, ["ema_cross"])
    engine.standing_arms = []
    assert not engine.arm("DEMO_TREND", "ema_cross").ok  # before the open, no price
    (view,) = engine.snapshot().slots
    assert not view.armed and "not open" in view.failed
    events = iter(ReplayFeed(series).events())
    for event in events:
        engine.handle(event)
        if isinstance(event, BarClosed):
            break
    assert engine.arm("DEMO_TREND", "ema_cross").ok
    (view,) = engine.snapshot().slots
    assert view.armed and view.failed == ""
