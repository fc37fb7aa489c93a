"""The sending side of ``kite_ticker_bench.py``: the replica's WebSocket in a process of its own.

    python tests/bench/kite_ticker_producer.py INSTRUMENTS RATE SECONDS

Serves the replica's ticker for INSTRUMENTS made-up NSE instruments, prints ``port <p> key <k>
token <t>`` and waits until one client has subscribed all of them in full mode. Then, for
SECONDS, sends one frame of every instrument's full packet at a time, RATE ticks a second
(``0``: as fast as the socket takes them), each packet's exchange-timestamp field stamped with the send time
(``time.monotonic_ns() // 1000`` mod 2^32, a clock shared by every process of the machine), and
prints ``sent <ticks>``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.kite_replica.book import ReplicaBook, ReplicaInstrument  # noqa: E402
from core.kite_replica.server import KiteReplica  # noqa: E402
from core.kite_replica.ticker import ReplicaTicker  # noqa: E402


def instruments(count: int) -> list[ReplicaInstrument]:
    return [ReplicaInstrument(token=(1000 + n) << 8 | 1, exchange="NSE", tradingsymbol=f"SYM{n:03d}")
            for n in range(count)]


def main() -> None:
    count, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    book = ReplicaBook(instruments(count))
    replica = KiteReplica(book)
    stamp = [0]
    ticker = ReplicaTicker(replica, heartbeat_s=1.0, clock=lambda: stamp[0]).start()
    print(f"port {ticker.root.rsplit(':', 1)[1]} key {replica.api_key} token {replica.issue_access_token()}",
          flush=True)
    tokens = [i.token for i in book.instruments.values()]
    for inst in book.instruments.values():
        state = ticker.state(inst)
        state.trade(1000.0, 1, int(time.time()))
        state.close = 995.0
        state.depth = [(100, 999.95 - k * 0.05, 3) for k in range(5)] + [(120, 1000.05 + k * 0.05, 4) for k in range(5)]
    while len(ticker.subscribed()) < count or set(ticker.subscribed().values()) != {"full"}:
        time.sleep(0.01)
    sent = 0
    start = time.monotonic()
    step = 0
    while time.monotonic() - start < seconds:
        step += 1
        for n, token in enumerate(tokens):
            ticker.states[token].trade(1000.0 + ((step + n) % 40) * 0.05, 1 + n % 7, int(time.time()))
        stamp[0] = (time.monotonic_ns() // 1000) % 2**32
        ticker.broadcast(tokens)
        sent += count
        if rate > 0:
            due = start + sent / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        else:
            while ticker.backlog() > 4:  # as fast as the client reads: never more than a few frames queued
                time.sleep(0.0005)
    print(f"sent {sent}", flush=True)
    time.sleep(1.0)
    ticker.stop()


if __name__ == "__main__":
    main()
