"""One Kite ticker scenario in a process of its own (Twisted's reactor cannot restart in a process).

    python tests/integration/kite_ticker_child.py

Starts the loopback replica (REST + WebSocket), a KiteBroker over the real ``KiteConnect`` and a
KiteFeed over the real ``KiteTicker``, then: streams trades and reads them back as ticks; fills an
order whose fill arrives by postback; drops the socket while losing the postbacks of a fill and
recovers the fill by polling; checks the feed resubscribed. Prints one JSON object of findings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kiteconnect import KiteConnect  # noqa: E402

from core.execution.broker import FillEvent  # noqa: E402
from core.execution.kite_broker import KiteBroker  # noqa: E402
from core.execution.kite_gateway import KiteGateway  # noqa: E402
from core.execution.orders import OrderType  # noqa: E402
from core.kite_replica.book import ReplicaBook, instruments_from_master  # noqa: E402
from core.kite_replica.server import KiteReplica  # noqa: E402
from core.kite_replica.ticker import ReplicaTicker  # noqa: E402
from core.market.feeds.kite import KiteFeed, Subscription  # noqa: E402
from core.market.instruments import default_master  # noqa: E402
from tests.integration.kite_fixtures import MARKET_TIME, request, wait_until  # noqa: E402


def main() -> None:
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    master = default_master()
    book = ReplicaBook(instruments_from_master(master), now=lambda: MARKET_TIME)
    replica = KiteReplica(book).start()
    ticker = ReplicaTicker(replica, clock=lambda: MARKET_TIME.timestamp(), heartbeat_s=0.5).start()
    token = replica.issue_access_token()
    broker = KiteBroker(KiteGateway(KiteConnect(replica.api_key, access_token=token, root=replica.root)), master)
    subs = [Subscription(book.instruments[f"NSE:{s}"].token, s, 0.05) for s in ("INFY", "TCS")]
    feed = KiteFeed(replica.api_key, token, subs, root=ticker.root, on_order_update=broker.on_postback).start()
    out: dict[str, object] = {}
    out["connected"] = feed.connected.wait(10)
    full = {s.token: "full" for s in subs}
    out["subscribed_full"] = wait_until(lambda: ticker.subscribed() == full)

    book.set_price("NSE:INFY", 1500.05, qty=10)
    book.set_price("NSE:TCS", 3999.95, qty=5)
    book.set_price("NSE:INFY", 1500.10, qty=3)
    ticks: list = []  # type: ignore[type-arg]
    wait_until(lambda: len(ticks) >= 3 or bool(ticks.extend(feed.drain())))
    out["ticks"] = [[t.symbol, t.price, t.volume, t.time.isoformat()] for t in ticks]

    got = broker.place(request("INFY-ema_cross-20261203T1015|E"), MARKET_TIME)  # fills at once at 1500.10
    wait_until(lambda: bool(got.extend(broker.drain())) or any(isinstance(e, FillEvent) for e in got))
    out["postback_fills"] = [[e.fill.qty, e.fill.price] for e in got if isinstance(e, FillEvent)]
    out["rest_calls_before_fill"] = [p for _m, p in replica.requests if p == "/orders"]  # no poll was needed

    broker.place(request("INFY-ema_cross-20261203T1020|E", order_type=OrderType.LIMIT, limit=1499.0), MARKET_TIME)
    wait_until(lambda: bool(broker.drain()))  # its OPEN postback
    ticker.lose_postbacks = 10
    ticker.drop_connections()
    book.set_price("NSE:INFY", 1498.0, qty=20)  # the fill happens while the socket is down
    out["reconnected"] = wait_until(lambda: feed.connects >= 2 and ticker.subscribed() == full, timeout=15)
    out["disconnects"] = feed.disconnects
    time.sleep(0.3)
    out["drain_after_drop"] = [[e.fill.qty, e.fill.price] for e in broker.drain() if isinstance(e, FillEvent)]
    out["poll_after_drop"] = [[e.fill.qty, e.fill.price] for e in broker.poll() if isinstance(e, FillEvent)]
    feed.drain()
    book.set_price("NSE:TCS", 4001.0, qty=1)
    after: list = []  # type: ignore[type-arg]
    wait_until(lambda: bool(after.extend(feed.drain())) or bool(after))
    out["ticks_after_reconnect"] = [[t.symbol, t.price] for t in after]
    out["subscribe_requests"] = sum(1 for r in ticker.requests if r.get("a") == "subscribe")
    feed.stop()
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # the reactor thread is not stoppable and restartable; end the process outright


if __name__ == "__main__":
    main()
