"""A live engine against a Kite replica served by the parent test process; started, killed, restarted.

    python tests/integration/kite_restart_child.py HOME REST_ROOT WS_ROOT API_KEY TOKEN start|restart WARM_UNTIL TOKEN_ID

``start`` opens a fresh live session (mode ``live``) trading ``ema_cross`` on DEMO_TREND through
KiteBroker and KiteFeed. ``restart`` reads the journal back, restores the engine from it (warmed
on the demo bars before WARM_UNTIL, as a live restart fetches history) and lets KiteBroker find
its working orders at Kite by their tags. Either way it prints ``ready`` once subscribed (and,
on a restart, reconciled), then ``took <iso time>`` after each tick the engine has handled,
and when its standard input closes it finishes and prints ``done <json>``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kiteconnect import KiteConnect  # noqa: E402

from core.automation.broker_watch import BrokerWatch  # noqa: E402
from core.automation.live import open_live_session, run_live  # noqa: E402
from core.automation.recovery import latest_book  # noqa: E402
from core.automation.replay import resume_split  # noqa: E402
from core.clock import SimClock  # noqa: E402
from core.execution.kite_broker import KiteBroker  # noqa: E402
from core.execution.kite_gateway import KiteGateway  # noqa: E402
from core.market.feeds.kite import KiteFeed, Subscription  # noqa: E402
from core.market.instruments import default_master  # noqa: E402
from core.market.loader import load_many  # noqa: E402
from core.paths import resource  # noqa: E402
from core.strategies import create  # noqa: E402

SYMBOL = "DEMO_TREND"


def main() -> None:
    home, rest_root, ws_root, api_key, token, phase = sys.argv[1:7]
    warm_until = dt.datetime.fromisoformat(sys.argv[7])
    instrument_token = int(sys.argv[8])
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    master = default_master()
    data = load_many([str(resource("demo", f"{SYMBOL}.csv"))])
    warm, _rest = resume_split(data.series, warm_until)
    broker = KiteBroker(KiteGateway(KiteConnect(api_key, access_token=token, root=rest_root)), master, poll_s=1.0)
    feed = KiteFeed(api_key, token, [Subscription(instrument_token, SYMBOL, 0.05)], root=ws_root,
                    on_order_update=broker.on_postback)
    strategies = [create("ema_cross", qty="50", stop="1.5atr", trail="2.5atr")]
    book, _ = latest_book(Path(home), "live") if phase == "restart" else (None, None)
    clock = SimClock((book.last_time if book is not None and book.last_time else warm_until) - dt.timedelta(seconds=1))
    session = open_live_session("live", broker, feed, strategies, [(SYMBOL, "ema_cross")], clock=clock,
                                home=Path(home), master=master, warmup=[] if book is not None else warm,
                                resume=book is not None)
    engine = session.engine
    if book is not None:
        engine.restore(book, warm)
    watch = BrokerWatch(engine, broker, every_s=5.0)
    watch.turn()  # reconcile before anything trades
    first_clean = watch.last.clean if watch.last is not None else None
    restored = {f"{s.symbol}:{s.strategy.name}": (s.manager.position.side * s.manager.position.qty
                                                  if s.manager.position else 0) for s in engine.slots.values()}
    feed.start()
    if not feed.connected.wait(15):
        raise SystemExit("the feed did not connect")
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    real_events = feed.events

    def events(poll_s: float = 0.25):  # type: ignore[no-untyped-def]
        for event in real_events(poll_s):
            yield event
            if event is not None:  # the engine has handled it (and the watch has had its turn)
                print("took", event.time.isoformat(), flush=True)

    feed.events = events  # type: ignore[method-assign]
    print("ready", flush=True)
    run_live(session, stop=stop.is_set, poll_s=0.05, watch=watch)
    reconciles = [r.clean for r in ([watch.last] if watch.last else [])]
    out = {"positions": {f"{s.symbol}:{s.strategy.name}": (s.manager.position.side * s.manager.position.qty
                                                            if s.manager.position else 0)
                         for s in engine.slots.values()},
           "working": sorted(o.client_order_id for o in engine.orders.working()),
           "entry_hold": engine.entry_hold, "last_reconcile_clean": reconciles,
           "first_reconcile_clean": first_clean, "restored": restored,
           "alerts": [f"{a.level}: {a.text}" for a in engine.alerts]}
    print("done", json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
