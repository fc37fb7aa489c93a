"""Kite ticker benchmark (run by hand): binary packets to the engine's queue, 500 instruments in full mode.

    .venv/bin/python tests/bench/kite_ticker_bench.py [--instruments 500] [--seconds 10] [--rate 10000]

The replica's WebSocket runs in a process of its own (``kite_ticker_producer.py``), so the
figures are the client's: the real ``KiteTicker`` (Twisted + autobahn, its own parser) and
``KiteFeed`` (raw frames parsed by ``kite_packets``, ticks on the grid, IST times, volume
deltas, onto the engine's queue).

1. **throughput**: the producer sends full-mode frames of every instrument as fast as the client
   reads them; ticks delivered to the engine's queue per second.
2. **latency, socket to engine queue**: at a paced rate (``--rate``), each packet carries its
   send time (monotonic, shared across processes); latency = tick on the queue - sent. p50/p99/max.
3. **parsing against the peer, in this process, on the same frames without a socket**: the
   client's own ``_parse_binary`` (what an app on kiteconnect's ``on_ticks`` pays), our
   ``parse_frame``, and ours plus KiteFeed's conversion onto the queue; ratios to the client's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PRODUCER = Path(__file__).with_name("kite_ticker_producer.py")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_socket(instruments: int, rate: float, seconds: float) -> tuple[int, float, list[float]]:
    """(ticks on the queue, seconds from first to last, latencies in ms) for one producer run."""
    from core.market.feeds.kite import KiteFeed, Subscription

    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    proc = subprocess.Popen([sys.executable, str(PRODUCER), str(instruments), str(rate), str(seconds)],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    _, port, _, key, _, token = proc.stdout.readline().split()
    subs = [Subscription((1000 + n) << 8 | 1, f"SYM{n:03d}") for n in range(instruments)]
    feed = KiteFeed(key, token, subs, root=f"ws://127.0.0.1:{port}")
    latencies: list[float] = []
    arrivals: list[float] = []

    def queued(raw, _arrived):  # type: ignore[no-untyped-def]
        latencies.append((((time.monotonic_ns() // 1000) - raw.epoch) % 2**32) / 1000.0)
        arrivals.append(time.monotonic())

    feed.received_at = queued
    feed.start()
    proc.wait(timeout=seconds + 60)
    feed.stop()
    delivered = len(latencies)
    span = (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else float("nan")
    return delivered, span, latencies


def run_parse_only(instruments: int, frames: int) -> tuple[float, float, float]:
    """Ticks/s on prebuilt frames, no socket: the client's parser, ours, ours + KiteFeed's conversion."""
    from kiteconnect import KiteTicker

    from core.kite_replica.packets import FULL, TickState, frame, packet
    from core.market.feeds.kite import KiteFeed, Subscription
    from core.market.feeds.kite_packets import parse_frame

    states = [TickState((1000 + n) << 8 | 1, 1000.0 + n * 0.05, 3, 1000 + n, 1e6, 10, 12, 999.0, 1001.0, 998.0,
                        995.0, int(time.time()), 0, [(100, 999.95, 3)] * 5 + [(120, 1000.05, 4)] * 5)
              for n in range(instruments)]
    blob = frame([packet(s, FULL, int(time.time())) for s in states])
    ticker = KiteTicker("k", "t")
    start = time.perf_counter()
    for _ in range(frames):
        ticker._parse_binary(blob)
    parse_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(frames):
        parse_frame(blob)
    ours_s = time.perf_counter() - start
    assert [(r.token, r.price) for r in parse_frame(blob)] == [
        (t["instrument_token"], t["last_price"]) for t in ticker._parse_binary(blob)]
    subs = [Subscription(s.token, f"SYM{n:03d}") for n, s in enumerate(states)]
    feed = KiteFeed("k", "t", subs)
    start = time.perf_counter()
    for _ in range(frames):
        feed._on_message(None, blob, True)
        feed.drain()
    full_s = time.perf_counter() - start
    n = instruments * frames
    return n / parse_s, n / ours_s, n / full_s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instruments", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=10_000.0, help="ticks/s for the latency run")
    args = ap.parse_args()
    import kiteconnect

    print(f"Kite ticker benchmark · Python {platform.python_version()} · kiteconnect {kiteconnect.__version__.__version__} · "
          f"{os.cpu_count()} CPUs")
    print(f"{args.instruments} instruments in full mode (184-byte packets), one frame = every instrument")
    client, ours, full = run_parse_only(args.instruments, 200)
    print(f"parsing, no socket: kiteconnect's parser {client:,.0f} ticks/s; ours (kite_packets) {ours:,.0f} "
          f"ticks/s = {ours / client:.1f}x the client's; ours + KiteFeed's ticks onto the queue {full:,.0f} ticks/s "
          f"= {full / client:.1f}x")
    delivered, span, _lat = run_socket(args.instruments, 0, args.seconds)
    print(f"throughput over the socket: {delivered:,} ticks onto the engine queue in {span:.1f} s = "
          f"{delivered / span:,.0f} ticks/s ({delivered / span / args.instruments:,.1f} updates/s per instrument)")
    delivered, span, lat = run_socket(args.instruments, args.rate, args.seconds)
    print(f"latency at {args.rate:,.0f} ticks/s ({delivered:,} ticks), socket send -> engine queue: "
          f"p50 {statistics.median(lat):.2f} ms, p99 {percentile(lat, 0.99):.2f} ms, max {max(lat):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
