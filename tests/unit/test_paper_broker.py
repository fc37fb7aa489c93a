"""PaperBroker fill rules and the OrderManager's state machine, with exact prices."""

from __future__ import annotations

import datetime as dt

import pytest

from core.clock import IST, SimClock
from core.execution.broker import FillEvent, OrderUpdate
from core.execution.order_manager import OrderError, OrderManager
from core.execution.orders import OrderRequest, OrderStatus, OrderType, Purpose, Side
from core.execution.paper import PaperBroker
from core.market.bars import Bar
from core.market.events import Tick
from core.trading.params import Slippage

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=IST)


def req(coid: str, side: Side, qty: int, kind: OrderType, purpose: Purpose = Purpose.EXIT, pid: str = "P",
        limit: float | None = None, trigger: float | None = None, reason: str = "") -> OrderRequest:
    return OrderRequest(coid, "RELIANCE", "ema_cross", side, qty, kind, purpose, pid, limit, trigger, reason)


def fills(events: list) -> list[tuple[str, int, float]]:  # type: ignore[type-arg]
    return [(e.fill.client_order_id, e.fill.qty, e.fill.price) for e in events if isinstance(e, FillEvent)]


def bar(o: float, h: float, low: float, c: float, at: dt.datetime = T0, volume: float = 0.0) -> Bar:
    return Bar("RELIANCE", at, o, h, low, c, volume)


def test_market_order_fills_at_the_next_price_with_slippage_on_the_tick_grid() -> None:
    broker = PaperBroker(slippage_for=lambda r: Slippage(1, "ticks"))
    broker.place(req("E", Side.BUY, 10, OrderType.MARKET, Purpose.ENTRY), T0)
    events = broker.on_tick(Tick("RELIANCE", T0 + dt.timedelta(minutes=1), 1399.90, bar_open=True, synthetic=True))
    assert fills(events) == [("E", 10, 1399.95)]


def test_replayed_bar_stop_and_target_both_inside_the_range_take_the_stop() -> None:
    broker = PaperBroker()
    broker.place(req("S", Side.SELL, 10, OrderType.SL_M, trigger=1390.0), T0)
    broker.place(req("T", Side.SELL, 10, OrderType.LIMIT, limit=1410.0), T0)
    assert not fills(broker.on_tick(Tick("RELIANCE", T0, 1400.0, bar_open=True, synthetic=True)))
    events = broker.on_bar_close(bar(1400, 1412, 1388, 1405))
    assert fills(events) == [("S", 10, 1390.0)]
    cancelled = [e for e in events if isinstance(e, OrderUpdate) and e.status is OrderStatus.CANCELLED]
    assert [e.client_order_id for e in cancelled] == ["T"]  # one cancels other: no orphan target
    assert broker.working() == []


def test_gap_through_the_stop_fills_at_the_open() -> None:
    broker = PaperBroker()
    broker.place(req("S", Side.SELL, 5, OrderType.SL_M, trigger=1390.0), T0)
    events = broker.on_tick(Tick("RELIANCE", T0 + dt.timedelta(minutes=1), 1380.0, bar_open=True, synthetic=True))
    assert fills(events) == [("S", 5, 1380.0)]


def test_scale_out_cuts_the_stop_and_target_to_what_is_left() -> None:
    broker = PaperBroker()
    broker.place(req("S", Side.SELL, 100, OrderType.SL_M, trigger=1390.0), T0)
    broker.place(req("P1", Side.SELL, 50, OrderType.LIMIT, limit=1405.0), T0)
    broker.place(req("T", Side.SELL, 100, OrderType.LIMIT, limit=1420.0), T0)
    broker.on_tick(Tick("RELIANCE", T0, 1400.0, bar_open=True, synthetic=True))
    events = broker.on_bar_close(bar(1400, 1408, 1395, 1406))
    assert fills(events) == [("P1", 50, 1405.0)]
    left = {r.client_order_id: r.qty for r in broker.working()}
    assert set(left) == {"S", "T"}
    assert [e.qty for e in events if isinstance(e, OrderUpdate) and e.client_order_id in ("S", "T")] == [50, 50]


def test_real_ticks_fill_a_stop_at_the_crossing_price() -> None:
    broker = PaperBroker()
    broker.place(req("S", Side.SELL, 10, OrderType.SL_M, trigger=1390.0), T0)
    assert not fills(broker.on_tick(Tick("RELIANCE", T0 + dt.timedelta(seconds=1), 1391.0)))
    events = broker.on_tick(Tick("RELIANCE", T0 + dt.timedelta(seconds=2), 1389.5))
    assert fills(events) == [("S", 10, 1389.5)]


def test_partial_fills_follow_the_volume_share() -> None:
    broker = PaperBroker(max_participation=0.25)
    broker.place(req("E", Side.BUY, 100, OrderType.MARKET, Purpose.ENTRY), T0)
    first = broker.on_tick(Tick("RELIANCE", T0, 1400.0, volume=200))
    second = broker.on_tick(Tick("RELIANCE", T0 + dt.timedelta(seconds=5), 1400.5, volume=400))
    assert fills(first) == [("E", 50, 1400.0)]
    assert fills(second) == [("E", 50, 1400.5)]
    statuses = [e.status for e in first + second if isinstance(e, OrderUpdate)]
    assert statuses == [OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]


def test_price_outside_the_band_is_rejected_in_the_brokers_words() -> None:
    broker = PaperBroker(price_band_pct=20)
    broker.on_tick(Tick("RELIANCE", T0, 1000.0))
    events = broker.place(req("L", Side.BUY, 1, OrderType.LIMIT, Purpose.ENTRY, limit=1250.0), T0)
    assert isinstance(events[0], OrderUpdate) and events[0].status is OrderStatus.REJECTED
    assert events[0].message.startswith("Your order price is higher than the current upper circuit limit of 1200.00")


def test_order_manager_journals_before_sending_and_never_sends_an_id_twice() -> None:
    clock = SimClock(T0)
    journal: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    broker = PaperBroker()

    class Spy(PaperBroker):
        def place(self, request, now):  # type: ignore[no-untyped-def]
            journal.append(("broker saw", {"client_order_id": request.client_order_id}))
            return broker.place(request, now)

    om = OrderManager(Spy(), clock, lambda t, p, tr: journal.append((str(t), dict(p))))
    request = req("E", Side.BUY, 1, OrderType.MARKET, Purpose.ENTRY)
    for event in om.submit(request, "t|P"):
        om.apply(event)
    assert [k for k, _ in journal[:3]] == ["order_intent", "broker saw", "order_ack"]
    assert om.orders["E"].status is OrderStatus.OPEN
    with pytest.raises(OrderError):
        om.submit(request, "t|P")
    for event in broker.on_tick(Tick("RELIANCE", T0, 1400.0)):
        om.apply(event)
    assert om.orders["E"].status is OrderStatus.FILLED
    late = OrderUpdate("E", OrderStatus.CANCELLED, T0)
    assert om.apply(late) is None and om.ignored == [late]  # a finished order never moves again
    assert om.orders["E"].status is OrderStatus.FILLED


def test_a_new_session_forgets_finished_orders_but_keeps_working_ones() -> None:
    clock = SimClock(T0)
    broker = PaperBroker()
    om = OrderManager(broker, clock)
    for event in om.submit(req("E", Side.BUY, 1, OrderType.MARKET, Purpose.ENTRY), "t|P"):
        om.apply(event)
    for event in om.submit(req("S", Side.SELL, 1, OrderType.SL_M, trigger=1390.0), "t|P"):
        om.apply(event)
    for event in broker.on_tick(Tick("RELIANCE", T0, 1400.0)):
        om.apply(event)
    assert om.orders["E"].status is OrderStatus.FILLED and om.orders["S"].working
    assert om.forget_finished(T0) == 0  # nothing finished before the session start
    next_day = T0 + dt.timedelta(days=1)
    assert om.forget_finished(next_day) == 1
    assert set(om.orders) == {"S"} and set(om.traces) == {"S"}


def test_resume_rebooks_working_orders_at_their_last_levels_without_placing_them_again() -> None:
    from core.execution.orders import Order

    broker = PaperBroker()
    stop = Order(req("S", Side.SELL, 10, OrderType.SL_M, trigger=1395.0), OrderStatus.OPEN, broker_order_id="P1")
    cut = Order(req("T", Side.SELL, 4, OrderType.LIMIT, limit=1420.0), OrderStatus.PARTIALLY_FILLED, filled_qty=1,
                broker_order_id="P2")
    unacked = Order(req("E2", Side.BUY, 5, OrderType.MARKET, Purpose.ENTRY, pid="Q"), OrderStatus.SUBMITTED)
    done = Order(req("E", Side.BUY, 10, OrderType.MARKET, Purpose.ENTRY), OrderStatus.FILLED, filled_qty=10)
    events = broker.resume([stop, cut, unacked, done], T0)
    assert [(e.client_order_id, e.status) for e in events] == [("E2", OrderStatus.OPEN)]  # acknowledged now
    assert {r.client_order_id for r in broker.working()} == {"S", "T", "E2"}
    assert broker.resume([stop], T0) == [] and len(broker.working()) == 3  # never booked twice
    out = broker.on_tick(Tick("RELIANCE", T0 + dt.timedelta(seconds=1), 1394.0))
    assert sorted(fills(out)) == [("E2", 5, 1394.0), ("S", 10, 1394.0)]  # the stop in force at its level
