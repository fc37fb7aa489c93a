"""KiteBroker and KiteGateway against the loopback Kite replica, through the real kiteconnect client."""

from __future__ import annotations

import datetime as dt

import pytest
from kiteconnect import exceptions as kex

from core.clock import IST
from core.execution.broker import FillEvent, OrderUpdate
from core.execution.kite_gateway import BrokerSessionExpired
from core.execution.kite_wire import kite_tag
from core.execution.orders import OrderStatus, OrderType, Purpose, Side
from tests.integration.kite_fixtures import MARKET_TIME, KiteRig, request

NOW = MARKET_TIME


def fills(events: list) -> list[tuple[int, float]]:  # type: ignore[type-arg]
    return [(e.fill.qty, e.fill.price) for e in events if isinstance(e, FillEvent)]


def updates(events: list) -> list[OrderStatus]:  # type: ignore[type-arg]
    return [e.status for e in events if isinstance(e, OrderUpdate)]


def test_a_market_order_goes_out_tagged_and_its_fill_comes_back_with_kites_ids_price_and_time(rig: KiteRig) -> None:
    rig.book.set_price("NSE:INFY", 1504.35)
    req = request()
    assert rig.broker.place(req, NOW) == []  # Kite's acceptance is not a status
    (order,) = rig.book.orders()
    assert order["tag"] == kite_tag(req.client_order_id) and len(order["tag"]) <= 20 and order["tag"].isalnum()
    assert order["market_protection"] == -1 and order["product"] == "MIS" and order["quantity"] == 10
    events = rig.broker.poll()
    (fill,) = [e.fill for e in events if isinstance(e, FillEvent)]
    (trade,) = rig.book.trades()
    assert (fill.client_order_id, fill.qty, fill.price, fill.side) == (req.client_order_id, 10, 1504.35, Side.BUY)
    assert fill.fill_id == f"kite:{trade['trade_id']}"
    assert fill.time == dt.datetime(2026, 12, 3, 10, 15, 30, tzinfo=IST)  # Kite's naive IST, made aware
    assert rig.broker.tracked_order_id(req.client_order_id) == order["order_id"]
    assert rig.broker.poll() == []  # nothing new: nothing reported twice


def test_a_limit_rests_open_then_fills_at_its_limit_when_the_market_comes_to_it(rig: KiteRig) -> None:
    rig.book.set_price("NSE:INFY", 1510.0)
    req = request(order_type=OrderType.LIMIT, limit=1500.03)  # off the grid: rounded to 1500.05
    rig.broker.place(req, NOW)
    events = rig.broker.poll()
    assert updates(events) == [OrderStatus.OPEN] and events[0].limit_price == 1500.05 and events[0].qty == 10
    assert events[0].broker_order_id == rig.book.orders()[0]["order_id"]
    rig.book.set_price("NSE:INFY", 1499.0)
    assert fills(rig.broker.poll()) == [(10, 1500.05)]


def test_partial_fills_arrive_once_each_whether_by_postback_or_by_poll(rig: KiteRig) -> None:
    rig.book.listeners.append(rig.broker.on_postback)
    rig.book.fill_chunk = 4
    rig.book.set_price("NSE:INFY", 1500.0)
    rig.broker.place(request(order_type=OrderType.LIMIT, limit=1490.0), NOW)
    rig.book.set_price("NSE:INFY", 1489.0)
    rig.book.set_price("NSE:INFY", 1488.0)
    first = rig.broker.drain() + rig.broker.poll()  # the same changes, twice over
    rig.book.set_price("NSE:INFY", 1487.0)
    second = rig.broker.drain() + rig.broker.poll()
    assert fills(first) == [(4, 1490.0), (4, 1490.0)] and fills(second) == [(2, 1490.0)]
    ids = [e.fill.fill_id for e in first + second if isinstance(e, FillEvent)]
    assert len(set(ids)) == 3
    assert rig.book.orders()[0]["status"] == "COMPLETE"


def test_a_stop_market_exit_triggers_when_the_price_falls_through_it(rig: KiteRig) -> None:
    rig.book.set_price("NSE:INFY", 1500.0)
    stop = request("INFY-ema_cross-20261203T1015|S", side=Side.SELL, order_type=OrderType.SL_M, trigger=1490.0)
    rig.broker.place(stop, NOW)
    assert rig.book.orders()[0]["status"] == "TRIGGER PENDING"
    assert updates(rig.broker.poll()) == [OrderStatus.OPEN]
    rig.book.set_price("NSE:INFY", 1491.0)
    assert fills(rig.broker.poll()) == []
    rig.book.set_price("NSE:INFY", 1487.5)
    assert fills(rig.broker.poll()) == [(10, 1487.5)]


def test_trailing_a_stop_modifies_it_at_kite_and_the_broker_says_so(rig: KiteRig) -> None:
    rig.book.set_price("NSE:INFY", 1500.0)
    stop = request("INFY-ema_cross-20261203T1015|S", side=Side.SELL, order_type=OrderType.SL_M, trigger=1490.0)
    rig.broker.place(stop, NOW)
    rig.broker.poll()
    (ack,) = rig.broker.modify(stop.client_order_id, NOW, trigger_price=1495.02)
    assert isinstance(ack, OrderUpdate) and ack.status is OrderStatus.OPEN and ack.trigger_price == 1495.0
    order = rig.book.orders()[0]
    assert order["trigger_price"] == 1495.0 and order["modified"] is True
    rig.book.set_price("NSE:INFY", 1494.0)
    assert fills(rig.broker.poll()) == [(10, 1494.0)]


def test_cancel_and_an_rms_rejection_come_back_as_those_statuses(rig: KiteRig) -> None:
    rig.book.set_price("NSE:INFY", 1500.0)
    rest = request(order_type=OrderType.LIMIT, limit=1400.0)
    rig.broker.place(rest, NOW)
    rig.broker.poll()
    events = rig.broker.cancel(rest.client_order_id, NOW) + rig.broker.poll()
    assert updates(events) == [OrderStatus.CANCELLED]
    rig.book.reject_next()
    rig.broker.place(request("INFY-ema_cross-20261203T1030|E"), NOW)
    (rejected,) = rig.broker.poll()
    assert isinstance(rejected, OrderUpdate) and rejected.status is OrderStatus.REJECTED
    assert "Insufficient funds" in rejected.message


def test_kite_refusing_the_input_is_a_rejection_that_is_never_retried(rig: KiteRig) -> None:
    (event,) = rig.broker.place(request(symbol="NOSUCH"), NOW)  # not in Kite's instruments
    assert isinstance(event, OrderUpdate) and event.status is OrderStatus.REJECTED
    assert "InputException" in event.message and rig.gateway.retries == 0
    assert rig.book.orders() == []
    with pytest.raises(kex.InputException, match="market protection"):  # what a bare client would meet
        rig.kite.place_order(variety="regular", exchange="NSE", tradingsymbol="INFY", transaction_type="BUY",
                             quantity=1, product="MIS", order_type="MARKET")


def test_a_placement_whose_answer_is_lost_is_found_by_its_tag_and_never_sent_twice(rig: KiteRig) -> None:
    rig.book.set_price("NSE:INFY", 1500.0)
    rig.replica.faults.drop_responses = 1  # Kite takes the order, the answer never arrives
    req = request()
    rig.broker.place(req, NOW)
    (order,) = rig.book.orders()
    assert rig.broker.tracked_order_id(req.client_order_id) == order["order_id"]
    assert [m for m, p in rig.replica.requests if p.startswith("/orders/regular")] == ["POST"]


def test_a_gateway_failure_before_kite_acts_is_retried_once_it_is_known_not_to_have_landed(rig: KiteRig) -> None:
    rig.replica.faults.fail_next(2, status=503, error_type="NetworkException", message="Gateway timed out")
    rig.broker.place(request(), NOW)
    assert len(rig.book.orders()) == 1 and rig.gateway.retries >= 1


def test_a_429_storm_is_waited_out_and_a_burst_never_goes_past_kites_order_limit(rig: KiteRig) -> None:
    rig.replica.faults.storm_429 = 3
    rig.broker.place(request("INFY-ema_cross-20261203T0915|E"), NOW)
    assert len(rig.book.orders()) == 1 and rig.gateway.retries == 3
    for n in range(24):
        rig.broker.place(request(f"INFY-ema_cross-20261203T{1000 + n}|E", order_type=OrderType.LIMIT,
                                 limit=1400.0), NOW)
    assert len(rig.book.orders()) == 25
    assert rig.replica.limiter.most_in_one_second("orders") <= 10
    assert rig.replica.over_limit == 0  # the client waited: Kite never had to refuse one


def test_an_expired_session_is_a_typed_error_and_the_broker_says_log_in_again(rig: KiteRig) -> None:
    expired: list[bool] = []
    rig.kite.set_session_expiry_hook(lambda: expired.append(True))
    rig.replica.expire_tokens()
    (event,) = rig.broker.place(request(), NOW)
    assert event.status is OrderStatus.REJECTED and rig.broker.session_expired and expired == [True]
    with pytest.raises(BrokerSessionExpired, match="log in again"):
        rig.gateway.orders()
    assert rig.gateway.retries == 0


def test_login_with_a_request_token_gives_a_working_session(rig: KiteRig) -> None:
    from kiteconnect import KiteConnect

    kite = KiteConnect(rig.replica.api_key, root=rig.replica.root)
    session = kite.generate_session(rig.replica.mint_request_token(), api_secret=rig.replica.api_secret)
    assert kite.access_token == session["access_token"] and kite.profile()["user_id"] == rig.book.user_id
    with pytest.raises(kex.TokenException):
        kite.generate_session("made-up-token", api_secret=rig.replica.api_secret)


def test_the_instrument_dump_positions_and_quotes_read_as_kite_shapes_them(rig: KiteRig) -> None:
    rows = rig.kite.instruments("NSE")
    infy = next(r for r in rows if r["tradingsymbol"] == "INFY")
    assert infy["tick_size"] == 0.05 and infy["lot_size"] == 1 and infy["instrument_token"] & 0xFF == 1
    rig.book.set_price("NSE:INFY", 1500.0)
    rig.book.adjust_position("NSE:INFY", -5, 1500.0)  # traded from another terminal
    (row,) = rig.gateway.positions()["net"]
    assert (row["tradingsymbol"], row["quantity"], row["sell_price"]) == ("INFY", -5, 1500.0)
    assert rig.gateway.ltp("NSE:INFY", "NSE:NOSUCH") == {"NSE:INFY": {"instrument_token": infy["instrument_token"],
                                                                      "last_price": 1500.0}}


def test_the_replicas_objects_carry_every_field_of_kites_own_sample_responses(rig: KiteRig) -> None:
    import json
    from pathlib import Path

    mocks = Path(__file__).resolve().parents[3] / "shared" / "kite-mocks"
    if not mocks.is_dir():
        pytest.skip(f"Kite's sample responses are not present at {mocks} (they are not shipped with the project)")
    rig.book.set_price("NSE:INFY", 1500.0)
    rig.broker.place(request(), NOW)

    def keys(name: str) -> set[str]:
        data = json.loads((mocks / name).read_text())["data"]
        row = data[0] if isinstance(data, list) else data["net"][0] if "net" in data else data
        return set(row)

    assert keys("orders.json") <= set(rig.book.orders()[0])
    assert keys("order_info.json") <= set(rig.book.order_history(rig.book.orders()[0]["order_id"])[0])
    assert keys("trades.json") <= set(rig.book.trades()[0])
    assert keys("positions.json") <= set(rig.book.positions()["net"][0])
    assert set(json.loads((mocks / "margins.json").read_text())["data"]["equity"]) <= set(rig.book.margins()["equity"])
    rig.book.set_holding("NSE:INFY", 5, 1400.0)
    assert keys("holdings.json") <= set(rig.gateway.holdings()[0])
    basket = json.loads((mocks / "basket_margins.json").read_text())["data"]
    ours = rig.gateway.basket_order_margins([{"exchange": "NSE", "tradingsymbol": "INFY", "transaction_type": "BUY",
                                              "variety": "regular", "product": "MIS", "order_type": "MARKET",
                                              "quantity": 1, "price": 0, "trigger_price": 0}])
    assert set(basket) <= set(ours) and set(basket["final"]) <= set(ours["final"])
    assert set(basket["orders"][0]) <= set(ours["orders"][0])


def open_long_with_stop(rig: KiteRig) -> None:
    rig.book.set_price("NSE:INFY", 1500.0)
    rig.broker.place(request("INFY-ema_cross-20261203T1015|E"), NOW)
    rig.broker.place(request("INFY-ema_cross-20261203T1015|S", side=Side.SELL, order_type=OrderType.SL_M,
                             trigger=1490.0, purpose=Purpose.EXIT), NOW)
    rig.broker.poll()


def test_a_market_exit_cancels_the_positions_stop_at_kite_first(rig: KiteRig) -> None:
    open_long_with_stop(rig)
    exit_ = request("INFY-ema_cross-20261203T1015|X1", side=Side.SELL, purpose=Purpose.EXIT)
    events = rig.broker.place(exit_, NOW) + rig.broker.poll()
    by_type = {o["order_type"]: o["status"] for o in rig.book.orders()}
    assert by_type == {"MARKET": "COMPLETE", "SL-M": "CANCELLED"}  # the entry and the exit complete
    assert updates(events)[0] is OrderStatus.CANCELLED and fills(events) == [(10, 1500.0)]


def test_a_market_exit_is_not_sent_when_the_stop_already_closed_the_position_at_kite(rig: KiteRig) -> None:
    open_long_with_stop(rig)
    rig.book.set_price("NSE:INFY", 1489.0)  # the stop fires at Kite; the engine has not heard yet
    exit_ = request("INFY-ema_cross-20261203T1015|X1", side=Side.SELL, purpose=Purpose.EXIT)
    events = rig.broker.place(exit_, NOW)
    assert fills(events) == [(10, 1489.0)]  # the stop's fill, learnt before anything was sent
    assert isinstance(events[-1], OrderUpdate) and events[-1].status is OrderStatus.REJECTED
    assert "already closed" in events[-1].message
    assert [o["order_type"] for o in rig.book.orders()].count("MARKET") == 1  # only the entry: nothing sold twice


def test_orders_carry_the_configured_product_and_the_exchanges_algo_id(rig: KiteRig) -> None:
    from core.execution.kite_broker import KiteBroker

    broker = KiteBroker(rig.gateway, rig.broker.master, product="NRML", algo_id="ALGO42", poll_s=0.0)
    rig.book.set_price("NSE:INFY", 1500.0)
    broker.place(request(), NOW)
    [placed] = rig.book.orders()
    assert (placed["product"], placed["algo_id"], placed["tag"]) == ("NRML", "ALGO42", kite_tag(request().client_order_id))
    assert rig.book.positions()["net"][0]["product"] == "NRML"
