"""A live session against the loopback Kite replica, end to end, in a process of its own.

    python tests/integration/kite_session_child.py HOME

The replica plays one demo session of DEMO_TREND (10:00 to 15:05 IST, four trades a minute:
open, the two extremes, close) through its WebSocket; the real ``KiteTicker`` under ``KiteFeed``
hands the ticks to the engine, which builds its bars, trades ``ema_cross`` (a stop at 1.5
ATR, trailing at 1 ATR) through ``KiteBroker`` on the real ``KiteConnect``, and journals and ledgers everything
under HOME (mode ``live``). Each tick is sent once the engine has handled the previous one, so
the run is the same every time. At the end (past the cutoff, flat) it prints one JSON object:
the replica's orders and trades, and the journal's and ledger's view of the same session.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import threading
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kiteconnect import KiteConnect  # noqa: E402

from core.automation.live import open_live_session, run_live  # noqa: E402
from core.automation.replay import resume_split  # noqa: E402
from core.clock import IST, SimClock  # noqa: E402
from core.execution.kite_broker import KiteBroker  # noqa: E402
from core.execution.kite_gateway import KiteGateway  # noqa: E402
from core.journal.reader import iter_records, journal_files  # noqa: E402
from core.kite_replica.book import ReplicaBook, instruments_from_master  # noqa: E402
from core.kite_replica.demo import trades_of  # noqa: E402
from core.kite_replica.server import KiteReplica  # noqa: E402
from core.kite_replica.ticker import ReplicaTicker  # noqa: E402
from core.market.feeds.kite import KiteFeed, Subscription  # noqa: E402
from core.market.instruments import default_master  # noqa: E402
from core.market.loader import load_many  # noqa: E402
from core.paths import resource  # noqa: E402
from core.strategies import create  # noqa: E402
from tests.integration.kite_fixtures import wait_until  # noqa: E402

SYMBOL = "DEMO_TREND"
DAY_FROM = dt.datetime(2025, 1, 21, 10, 0, tzinfo=IST)
DAY_TO = dt.datetime(2025, 1, 21, 15, 6, tzinfo=IST)


def ticks_of(bars):  # type: ignore[no-untyped-def]
    """Four trades a minute per bar, as the replica's market player makes them."""
    for bar in bars:
        yield from trades_of(bar)


def main() -> None:
    home = Path(sys.argv[1])
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    master = default_master()
    data = load_many([str(resource("demo", f"{SYMBOL}.csv"))])
    warm, rest = resume_split(data.series, DAY_FROM)
    bars = [b for b in rest[0].bars() if b.start < DAY_TO]
    market = [bars[0].start]
    book = ReplicaBook(instruments_from_master(master), now=lambda: market[0])
    replica = KiteReplica(book).start()
    ticker = ReplicaTicker(replica, clock=lambda: market[0].timestamp()).start()
    token = replica.issue_access_token()
    broker = KiteBroker(KiteGateway(KiteConnect(replica.api_key, access_token=token, root=replica.root)), master,
                        poll_s=2.0)
    inst = book.instruments[f"NSE:{SYMBOL}"]
    feed = KiteFeed(replica.api_key, token, [Subscription(inst.token, SYMBOL, inst.tick_size)], root=ticker.root,
                    on_order_update=broker.on_postback).start()
    assert feed.connected.wait(10) and wait_until(lambda: ticker.subscribed() == {inst.token: "full"})
    clock = SimClock(bars[0].start - dt.timedelta(minutes=1))
    session = open_live_session("live", broker, feed, [create("ema_cross", qty="50", stop="1.5atr", trail="2.5atr")], [(SYMBOL, "ema_cross")],
                                clock=clock, home=home, master=master, warmup=warm)
    engine = session.engine
    done = threading.Event()
    failure: list[str] = []

    def drive() -> None:
        try:
            run_live(session, stop=done.is_set, poll_s=0.05)
        except Exception:  # noqa: BLE001 - reported in the findings
            failure.append(traceback.format_exc())

    runner = threading.Thread(target=drive)
    runner.start()
    for when, price, qty in ticks_of(bars):
        market[0] = when
        book.set_price(f"NSE:{SYMBOL}", price, qty)
        if not wait_until(lambda at=when: engine.last_tick_time is not None and engine.last_tick_time >= at):
            failure.append(f"the engine did not take the tick of {when}")
            break
    flat = wait_until(lambda: not engine.orders.working() and all(s.manager.position is None for s in engine.slots.values()),
                timeout=15)
    done.set()
    runner.join(30)

    orders = book.orders()
    records = [r for path in journal_files(home, mode="live") for r in iter_records(path)]
    con = sqlite3.connect(home / "ledger.sqlite")
    ledger_orders = con.execute("select client_order_id, broker_order_id, status from orders").fetchall()
    ledger_trades = con.execute("select symbol, strategy, qty, entry_price, exit_price, exit_reason, "
                                "gross, net, position_id, trace_id from trades order by entry_time").fetchall()
    out = {
        "flat": flat, "state": engine.risk.state.value if hasattr(engine.risk, "state") else "",
        "replica_orders": [{k: o[k] for k in ("order_id", "tag", "status", "order_type", "transaction_type",
                                              "quantity", "average_price", "trigger_price")} for o in orders],
        "replica_trades": book.trades(),
        "journal": [{"type": r.type, "trace": r.trace_id, "payload": r.payload} for r in records],
        "ledger_orders": ledger_orders, "ledger_trades": ledger_trades,
        "access_token": token,  # for the test's scan of every file and log for it
        "broker_error": broker.last_error, "failure": failure, "alerts": [a.text for a in engine.alerts],
    }
    print(json.dumps(out, default=str))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
