"""A loopback Kite replica and the real ``kiteconnect`` client pointed at it, for the Kite tests."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from kiteconnect import KiteConnect

from core.clock import IST
from core.execution.kite_broker import KiteBroker
from core.execution.kite_gateway import KiteGateway
from core.execution.orders import OrderRequest, OrderType, Purpose, Side
from core.kite_replica.book import ReplicaBook, instruments_from_master
from core.kite_replica.server import KiteReplica
from core.market.instruments import default_master

MARKET_TIME = dt.datetime(2026, 12, 3, 10, 15, 30, tzinfo=IST)


@dataclass
class KiteRig:
    replica: KiteReplica
    kite: KiteConnect
    gateway: KiteGateway
    broker: KiteBroker

    @property
    def book(self) -> ReplicaBook:
        return self.replica.book


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> Iterator[KiteRig]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a proxy in the environment would take loopback calls
    master = default_master()
    book = ReplicaBook(instruments_from_master(master), now=lambda: MARKET_TIME)
    replica = KiteReplica(book).start()
    kite = KiteConnect(replica.api_key, access_token=replica.issue_access_token(), root=replica.root, timeout=5)
    gateway = KiteGateway(kite, sleep=lambda s: time.sleep(min(s, 0.02)))  # backoff shortened; limits are real
    broker = KiteBroker(gateway, master, poll_s=0.0)
    try:
        yield KiteRig(replica, kite, gateway, broker)
    finally:
        replica.stop()


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.005) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


def request(coid: str = "INFY-ema_cross-20261203T1015|E", *, symbol: str = "INFY", side: Side = Side.BUY,
            qty: int = 10, order_type: OrderType = OrderType.MARKET, limit: float | None = None,
            trigger: float | None = None, purpose: Purpose = Purpose.ENTRY) -> OrderRequest:
    return OrderRequest(coid, symbol, "ema_cross", side, qty, order_type, purpose, coid.split("|")[0],
                        limit_price=limit, trigger_price=trigger)


def free_port_pair() -> int:
    """A free port whose neighbour is free too (the replica's ticker listens on its REST port + 1)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
        with socket.socket() as b:
            try:
                b.bind(("127.0.0.1", port + 1))
                return int(port)
            except OSError:
                continue
    raise RuntimeError("no two free neighbouring ports")
