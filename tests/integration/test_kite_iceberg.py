"""Orders above an instrument's freeze quantity: Kite's iceberg variety, against the loopback replica
(which, as the exchange does, refuses a single order above the freeze) through the real client."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kiteconnect import KiteConnect

from core.clock import IST
from core.execution.broker import BrokerEvent, FillEvent, OrderUpdate
from core.execution.kite_broker import KiteBroker, iceberg_legs
from core.execution.kite_gateway import BrokerRejected, KiteGateway
from core.execution.kite_instruments import rows_for, with_kite_terms
from core.execution.kite_wire import kite_tag
from core.execution.orders import Order, OrderRequest, OrderStatus, OrderType, Purpose, Side
from core.kite_replica.book import ReplicaBook, instruments_from_master
from core.kite_replica.server import KiteReplica
from core.market.instruments import CostSegment, Instrument, InstrumentMaster, default_master
from tests.integration.kite_fixtures import MARKET_TIME

FUT = "NIFTY26DECFUT"
KEY = f"NFO:{FUT}"
NOW = MARKET_TIME


@dataclass
class Rig:
    book: ReplicaBook
    kite: KiteConnect
    broker: KiteBroker
    replica: KiteReplica


@pytest.fixture
def nfo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    future = Instrument(FUT, exchange="NFO", kind="FUT", tick_size=0.1, lot_size=75,
                        cost_segment=CostSegment.FUTURES, underlying="NIFTY", expiry=dt.date(2026, 12, 29),
                        freeze_qty=1800)
    master = InstrumentMaster({FUT: future, "INFY": default_master().get("INFY")})
    book = ReplicaBook(instruments_from_master(master), now=lambda: MARKET_TIME)
    replica = KiteReplica(book).start()
    kite = KiteConnect(replica.api_key, access_token=replica.issue_access_token(), root=replica.root, timeout=5)
    broker = KiteBroker(KiteGateway(kite, sleep=lambda s: time.sleep(min(s, 0.02))), master, poll_s=0.0)
    book.set_price(KEY, 24500.0)
    try:
        yield Rig(book, kite, broker, replica)
    finally:
        replica.stop()


def order(coid: str, qty: int, *, side: Side = Side.BUY, kind: OrderType = OrderType.MARKET,
          trigger: float | None = None, limit: float | None = None, purpose: Purpose = Purpose.ENTRY) -> OrderRequest:
    return OrderRequest(coid, FUT, "ema_cross", side, qty, kind, purpose, coid.split("|")[0],
                        trigger_price=trigger, limit_price=limit)


def fills(events: list[BrokerEvent]) -> list[tuple[int, float]]:
    return [(e.fill.qty, e.fill.price) for e in events if isinstance(e, FillEvent)]


def legs_at_kite(book: ReplicaBook, coid: str) -> list[dict[str, Any]]:
    return [o for o in book.orders() if o["tag"] == kite_tag(coid)]


def test_the_fewest_equal_whole_lot_legs_under_the_freeze() -> None:
    assert iceberg_legs(3600, 1800, 75) == (2, 1800)
    assert iceberg_legs(3675, 1800, 75) == (3, 1275)  # 49 lots: 17 + 17 + 15
    assert iceberg_legs(13500, 1800, 75) == (8, 1725)
    assert iceberg_legs(18000, 1800, 75) == (10, 1800)
    assert iceberg_legs(18075, 1800, 75) is None  # eleven legs: Kite takes at most ten


def test_the_exchange_refuses_one_order_above_the_freeze(nfo: Rig) -> None:
    with pytest.raises(BrokerRejected, match="freeze quantity"):
        nfo.broker.gateway.place_order({"variety": "regular", "exchange": "NFO", "tradingsymbol": FUT,
                                        "transaction_type": "BUY", "quantity": 3600, "product": "MIS",
                                        "order_type": "MARKET", "market_protection": -1}, "atwx")


def test_an_entry_above_the_freeze_goes_as_an_iceberg_and_fills_leg_by_leg_as_one_order(nfo: Rig) -> None:
    coid = "NIFTY26DECFUT|ema_cross|20261203T1015|E"
    events = nfo.broker.place(order(coid, 3675), NOW) + nfo.broker.poll()
    legs = legs_at_kite(nfo.book, coid)
    assert [(o["variety"], o["quantity"], o["meta"]["iceberg"]["leg"]) for o in legs] == [
        ("iceberg", 1275, 1), ("iceberg", 1275, 2), ("iceberg", 1125, 3)]
    assert all(o["status"] == "COMPLETE" for o in legs)
    assert fills(events) == [(1275, 24500.0), (1275, 24500.0), (1125, 24500.0)]
    acks = [e for e in events if isinstance(e, OrderUpdate)]
    assert acks and acks[0].broker_order_id == legs[0]["order_id"]  # Kite's id of the first leg
    assert not any(e.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED) for e in acks)
    assert nfo.broker.poll() == []  # nothing followed any more
    assert nfo.book.positions()["net"][0]["quantity"] == 3675


def test_a_stop_above_the_freeze_rests_as_its_first_leg_triggers_whole_or_cancels_whole(nfo: Rig) -> None:
    entry = "NIFTY26DECFUT|ema_cross|20261203T1015|E"
    stop = "NIFTY26DECFUT|ema_cross|20261203T1015|S"
    nfo.broker.place(order(entry, 3600), NOW)
    events = nfo.broker.place(order(stop, 3600, side=Side.SELL, kind=OrderType.SL_M, trigger=24400.0,
                                    purpose=Purpose.EXIT), NOW) + nfo.broker.poll()
    resting = [e for e in events if isinstance(e, OrderUpdate) and e.client_order_id == stop]
    assert resting[-1].status is OrderStatus.OPEN and resting[-1].qty == 3600  # 1800 resting + 1800 to come
    assert resting[-1].trigger_price == 24400.0
    assert [o["status"] for o in legs_at_kite(nfo.book, stop)] == ["TRIGGER PENDING"]

    nfo.book.set_price(KEY, 24390.0)  # through the trigger: the first leg fills, Kite sends the second
    events = nfo.broker.poll()
    assert fills(events) == [(1800, 24390.0), (1800, 24390.0)]
    assert nfo.book.positions()["net"][0]["quantity"] == 0

    again = "NIFTY26DECFUT|ema_cross|20261203T1030|S"
    nfo.broker.place(order("NIFTY26DECFUT|ema_cross|20261203T1030|E", 3600), NOW)
    nfo.broker.place(order(again, 3600, side=Side.SELL, kind=OrderType.SL_M, trigger=24300.0,
                           purpose=Purpose.EXIT), NOW)
    events = nfo.broker.cancel(again, NOW) + nfo.broker.poll()
    assert [e.status for e in events if isinstance(e, OrderUpdate)][-1] is OrderStatus.CANCELLED
    assert [o["status"] for o in legs_at_kite(nfo.book, again)] == ["CANCELLED"]  # no later leg placed


def test_more_than_ten_legs_is_refused_before_it_leaves(nfo: Rig) -> None:
    coid = "NIFTY26DECFUT|ema_cross|20261203T1015|E"
    [refused] = nfo.broker.place(order(coid, 18075), NOW)
    assert isinstance(refused, OrderUpdate) and refused.status is OrderStatus.REJECTED
    assert "10 iceberg legs" in refused.message and legs_at_kite(nfo.book, coid) == []


def test_a_restart_between_legs_reports_only_the_fills_not_journaled(nfo: Rig) -> None:
    coid = "NIFTY26DECFUT|ema_cross|20261203T1015|E"
    req = order(coid, 3600, kind=OrderType.LIMIT, limit=24450.0)
    nfo.broker.place(req, NOW)
    nfo.book.set_price(KEY, 24450.0)  # both legs fill at the limit
    before = [e.fill for e in nfo.broker.poll() if isinstance(e, FillEvent)]
    assert [f.qty for f in before] == [1800, 1800]
    journaled = Order(req, OrderStatus.PARTIALLY_FILLED, 1800, 24450.0, before[0].fill_id)
    journaled.fills.append(before[0])  # the process died after the first leg's fill was journaled
    fresh = KiteBroker(nfo.broker.gateway, nfo.broker.master, poll_s=0.0)
    events = fresh.resume([journaled], NOW)
    assert [f.fill_id for f in (e.fill for e in events if isinstance(e, FillEvent))] == [before[1].fill_id]


def test_kites_nfo_rows_give_a_derivatives_terms_and_its_underlyings_freeze(tmp_path) -> None:  # type: ignore[no-untyped-def]
    class Dumps:
        asked: list[str] = []

        def instruments(self, exchange: str) -> list[dict[str, Any]]:
            self.asked.append(exchange)
            if exchange == "NSE":
                return [{"instrument_token": 408065, "tradingsymbol": "INFY", "name": "INFOSYS", "expiry": "",
                         "strike": 0, "tick_size": 0.05, "lot_size": 1, "instrument_type": "EQ", "segment": "NSE",
                         "exchange": "NSE"}]
            return [{"instrument_token": 13238786, "tradingsymbol": FUT, "name": "NIFTY", "expiry": "2026-12-29",
                     "strike": 0, "tick_size": 0.1, "lot_size": 75, "instrument_type": "FUT",
                     "segment": "NFO-FUT", "exchange": "NFO"}]

    dumps = Dumps()
    now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=IST)
    rows = rows_for(dumps, ["INFY", FUT], tmp_path, now)
    assert dumps.asked == ["NSE", "NFO"] and rows[FUT]["instrument_token"] == "13238786"
    master = with_kite_terms(default_master(), rows)
    fut = master.get(FUT)
    assert (fut.exchange, fut.kind, fut.lot_size, fut.tick_size, fut.underlying, fut.expiry, fut.freeze_qty) == (
        "NFO", "FUT", 75, 0.1, "NIFTY", dt.date(2026, 12, 29), 1800)
    assert fut.cost_segment is CostSegment.FUTURES and master.get("INFY").freeze_qty is None
    assert rows_for(dumps, ["INFY"], tmp_path, now) and dumps.asked == ["NSE", "NFO"]  # cached: no new download


def test_a_later_leg_refused_ends_the_order_with_what_it_filled(nfo: Rig) -> None:
    coid = "NIFTY26DECFUT|ema_cross|20261203T1015|E"
    nfo.broker.place(order(coid, 3600, kind=OrderType.LIMIT, limit=24450.0), NOW)  # leg 1 rests
    nfo.book.reject_next("RMS:Margin Exceeds")  # the RMS refuses the second leg when Kite places it
    nfo.book.set_price(KEY, 24450.0)
    events = nfo.broker.poll()
    assert fills(events) == [(1800, 24450.0)]
    ended = [e for e in events if isinstance(e, OrderUpdate)][-1]
    assert ended.status is OrderStatus.CANCELLED and ended.message == "RMS:Margin Exceeds"
    assert nfo.broker.poll() == []  # followed no more


def test_a_quantity_kite_cannot_modify_cancels_the_order_for_the_engine_to_replace(nfo: Rig) -> None:
    entry, stop = "NIFTY26DECFUT|ema_cross|20261203T1015|E", "NIFTY26DECFUT|ema_cross|20261203T1015|S"
    nfo.broker.place(order(entry, 3600), NOW)
    nfo.broker.place(order(stop, 3600, side=Side.SELL, kind=OrderType.SL_M, trigger=24400.0, purpose=Purpose.EXIT),
                     NOW)
    events = nfo.broker.modify(stop, NOW, qty=1800) + nfo.broker.poll()  # a scale-out halved the position
    assert [e.status for e in events if isinstance(e, OrderUpdate)][-1] is OrderStatus.CANCELLED
    assert [o["status"] for o in legs_at_kite(nfo.book, stop)] == ["CANCELLED"]


def test_no_market_exit_goes_out_while_kites_order_book_cannot_be_read(nfo: Rig) -> None:
    entry, stop = "NIFTY26DECFUT|ema_cross|20261203T1015|E", "NIFTY26DECFUT|ema_cross|20261203T1015|S"
    nfo.broker.place(order(entry, 75), NOW)
    nfo.broker.place(order(stop, 75, side=Side.SELL, kind=OrderType.SL_M, trigger=24400.0, purpose=Purpose.EXIT), NOW)
    nfo.broker.poll()
    placed = len(nfo.book.orders())
    nfo.replica.faults.fail_next(50)  # Kite unreachable for a while: the stop's fate cannot be known
    [refused] = [e for e in nfo.broker.place(order("NIFTY26DECFUT|ema_cross|20261203T1015|X1", 75, side=Side.SELL,
                                                   purpose=Purpose.EXIT), NOW) if isinstance(e, OrderUpdate)]
    assert refused.status is OrderStatus.REJECTED and "order book could not be read" in refused.message
    nfo.replica.faults.failures.clear()
    assert len(nfo.book.orders()) == placed  # no exit went out beside a stop that may have filled
