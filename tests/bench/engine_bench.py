"""Automation-engine benchmark (run by hand): 200 instruments x 4 strategies through the live engine.

    .venv/bin/python tests/bench/engine_bench.py [--ticks 10000000] [--instruments 200] [--seed 1]

The engine is driven the way ``core.automation.replay.run_replay`` drives it: a ``SimClock``, a
``PaperBroker``, ``RiskEngine(RiskLimits(...), PaperRms(...), clock)``, the four strategies from
the registry, every (instrument, strategy) pair a standing arm (re-armed at each session's first
tick), and ``ReplayFeed`` events over synthetic bars (``generate_series``), generated a few
sessions at a time so nothing holds the whole run. Risk limits are loose (positions, order rate,
capital) so that no entry is refused for count or rate. Figures:

1. tick -> order latency: for each order the broker receives, the time from the start of the
   ``engine.handle(event)`` that caused it to the ``broker.place`` call; p50/p99/max. Target p99
   < 1 ms.
2. throughput: events/s and ticks/s of the engine (time inside ``engine.handle`` only; the feed's
   own cost is reported apart). Target >= 50,000 ticks/s.
3. memory: RSS every 1,000,000 ticks; growth from the 2M-tick sample to the last. Target < 20 MB.

A second, shorter run records every record into a ``JournalWriter`` (see the README for why it is
not fsync-free). Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import shutil
import sys
import tempfile
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

STRATEGIES = ("atr_reversal", "atr_divergence", "ema_cross", "range_breakout")
START = dt.date(2023, 1, 2)
MILLION = 1_000_000
TARGET_P99_US = 1000.0
TARGET_TICKS_S = 50_000.0
TARGET_GROWTH_MB = 20.0
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 2**20


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def symbols(n: int) -> list[str]:
    return [f"BENCH{k:03d}" for k in range(n)]


def bench_master(names: Sequence[str]) -> Any:
    from core.market.instruments import Instrument, InstrumentMaster

    return InstrumentMaster({s: Instrument(s, tick_size=0.05, name=f"bench instrument {s}") for s in names})


def session_days(start: dt.date, count: int) -> list[dt.date]:
    from core.market.synthetic import first_sessions

    table = first_sessions(start, count)
    return [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in table.day]


def market_events(names: Sequence[str], days: Sequence[dt.date], chunk: int, seed: int) -> Iterator[Any]:
    """ReplayFeed events, ``chunk`` sessions of bars for every instrument at a time (prices continue)."""
    from core.market.feed import ReplayFeed
    from core.market.synthetic import generate_series

    last = {s: 500.0 + 10.0 * k for k, s in enumerate(names)}
    for c, lo in enumerate(range(0, len(days), chunk)):
        count = min(chunk, len(days) - lo)
        series = [
            generate_series(s, days[lo], count, seed=seed * 100_003 + k * 1_009 + c, start_price=last[s])
            for k, s in enumerate(names)
        ]
        for s in series:
            last[s.symbol] = float(s.arrays.close[-1])
        yield from ReplayFeed(series).events()
        del series


def live_events(names: Sequence[str], days: Sequence[dt.date], per_bar: int, seed: int) -> Iterator[Any]:
    """SyntheticFeed ticks (the market's own path, ``per_bar`` a minute per instrument), nothing else:
    the engine's BarBuilder closes the bars by the clock, as with the Kite ticker."""
    from core.market.feed import SyntheticFeed

    yield from SyntheticFeed(list(names), days[0], len(days), seed=seed, ticks_per_bar=per_bar).events()


class Run:
    """One engine on a stream of events, with the hooks the figures need."""

    def __init__(self, names: Sequence[str], record: Callable[..., None] | None, clock: Any,
                 build_bars: bool = False) -> None:
        from core.automation.engine import Engine
        from core.execution.paper import PaperBroker
        from core.risk.engine import RiskEngine
        from core.risk.limits import RiskLimits
        from core.risk.rms import PaperRms
        from core.strategies import REGISTRY, create

        missing = [s for s in STRATEGIES if s not in REGISTRY]
        if missing:
            raise SystemExit(f"strategies not in the registry: {missing} (registry: {sorted(REGISTRY)})")
        master = bench_master(names)
        strategies = {name: create(name) for name in STRATEGIES}
        self.limits = RiskLimits(capital="1000cr", max_open_positions=1000, orders_per_second=1_000_000,
                                 orders_per_minute=10_000_000)
        broker = PaperBroker(master, slippage_for=lambda request: strategies[request.strategy].trade.slippage)
        risk = RiskEngine(self.limits, PaperRms(self.limits.capital, master), clock)
        self.engine = Engine(clock, broker, risk, strategies, record=record, master=master, mode="replay",
                             costs="none", priority="best", id_prefix="bench|", build_bars=build_bars)
        self.engine.standing_arms = [(s, st) for s in names for st in STRATEGIES]
        self.latency = array("q")  # from the start of the event's handle() to broker.place
        self.decision = array("q")  # from the start of the order's cause (its bar close, its fill) to broker.place
        self.started = 0  # perf_counter_ns at the start of the event being handled
        self.bar_started = 0  # ... and of the bar close or fill being handled (0 outside one)
        place = broker.place

        self.standing_down = False  # inside a cutoff or kill stand-down: every position's exit at once
        self.stand_down = array("q")  # those orders, from the start of their event
        self.roles: list[str] = []  # each decision's order role: E entry, S stop, T target, P scale-out, X exit

        def timed_place(request: Any, now: dt.datetime) -> Any:
            t = time.perf_counter_ns()
            if self.standing_down:
                self.stand_down.append(t - self.started)
            else:
                self.latency.append(t - self.started)
                self.decision.append(t - (self.bar_started or self.started))
                self.roles.append(request.client_order_id.rsplit("|", 1)[-1][:1])
            return place(request, now)

        stand_down = self.engine.stand_down

        def timed_stand_down(why: str, exit_reason: str) -> None:
            self.standing_down = True
            try:
                stand_down(why, exit_reason)
            finally:
                self.standing_down = False

        def timed(cause: Callable[[Any], None]) -> Callable[[Any], None]:
            def run(arg: Any) -> None:
                outer, self.bar_started = self.bar_started, time.perf_counter_ns()
                try:
                    cause(arg)
                finally:
                    self.bar_started = outer
            return run

        broker.place = timed_place  # type: ignore[method-assign]
        self.engine._on_bar = timed(self.engine._on_bar)  # type: ignore[method-assign]
        self.engine._on_fill = timed(self.engine._on_fill)  # type: ignore[method-assign]
        self.engine.stand_down = timed_stand_down  # type: ignore[method-assign]
        self.events = self.ticks = 0
        self.engine_ns = self.wall_ns = 0
        self.rss: list[tuple[int, float]] = []
        self.by_kind: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # count, ns, max ns

    def consume(self, events: Iterator[Any], ticks: int, sample_every: int = MILLION) -> None:
        from core.market.events import Tick

        engine, handle, clock_ns = self.engine, self.engine.handle, time.perf_counter_ns
        n_events = n_ticks = spent = 0
        next_sample = sample_every
        self.rss.append((0, rss_mb()))
        begun = clock_ns()
        by_kind = self.by_kind
        for event in events:
            t0 = clock_ns()
            self.started = t0
            handle(event)
            took = clock_ns() - t0
            spent += took
            n_events += 1
            kind = by_kind[type(event).__name__]
            kind[0] += 1
            kind[1] += took
            if took > kind[2]:
                kind[2] = took
            if type(event) is Tick:
                n_ticks += 1
                if n_ticks >= next_sample:
                    self.rss.append((n_ticks, rss_mb()))
                    next_sample += sample_every
                if n_ticks >= ticks:
                    break
        t0 = clock_ns()
        self.started = t0
        engine.drain_commands()
        engine.finish()
        spent += clock_ns() - t0
        self.wall_ns = clock_ns() - begun
        self.engine_ns, self.events, self.ticks = spent, n_events, n_ticks
        if not self.rss or self.rss[-1][0] != n_ticks:
            self.rss.append((n_ticks, rss_mb()))


def percentile(values: Sequence[int], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def latency_line(run: Run, which: str = "latency") -> tuple[str, float]:
    lat = getattr(run, which)
    if not lat:
        return "no orders", float("nan")
    p50, p99, top = (percentile(lat, 0.5) / 1e3, percentile(lat, 0.99) / 1e3, max(lat) / 1e3)
    return f"{len(lat):,} orders   p50 {p50:,.1f} us   p99 {p99:,.1f} us   max {top:,.1f} us", p99


def engine_summary(run: Run) -> str:
    e = run.engine
    orders = e.orders.orders
    filled = sum(1 for o in orders.values() if o.filled_qty)
    open_now = sum(1 for s in e.slots.values() if s.manager.position is not None)
    return (f"slots {len(e.slots)} ({sum(1 for s in e.slots.values() if s.armed)} armed at the end), orders {len(orders):,} "
            f"({filled:,} filled), refusals {e.refusals}, alerts {len(e.alerts)}, open positions {open_now}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ticks", type=int, default=10 * MILLION, help="ticks of the main run (default 10,000,000)")
    ap.add_argument("--instruments", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=2, help="sessions of bars generated at a time (default 2)")
    ap.add_argument("--feed", choices=("live", "replay"), default="live",
                    help="live: SyntheticFeed ticks, bars built by the engine (default); replay: ReplayFeed")
    ap.add_argument("--ticks-per-bar", type=int, default=60,
                    help="live feed: ticks a minute per instrument (default 60: a tick a second, Kite full mode)")
    ap.add_argument("--gc", choices=("steady", "default"), default="steady",
                    help="steady: core.automation.gc_tuning.steady_gc() once the engine is built (as the hosts do)")
    ap.add_argument("--replay-ticks", type=int, default=500_000,
                    help="ticks of an informational ReplayFeed run after a live main run (0 skips it)")
    ap.add_argument("--journal-ticks", type=int, default=MILLION,
                    help="ticks of the run that records into a JournalWriter (0 skips it; default 1,000,000)")
    ap.add_argument("--profile", metavar="FILE", help="cProfile the main run into FILE (figures then include its overhead)")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="atw-engine-bench-"))
    os.environ["ATW_HOME"] = str(home)
    try:
        return bench(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def bench(args: argparse.Namespace, home: Path) -> int:
    import numpy as np

    from core.clock import SimClock

    names = symbols(args.instruments)
    per_bar = args.ticks_per_bar if args.feed == "live" else 4  # ReplayFeed makes up to 4 ticks a bar
    ticks_per_session = args.instruments * 375 * per_bar
    sessions = max(2, -(-args.ticks // ticks_per_session) + 2)
    days = session_days(START, sessions)
    first = dt.datetime.combine(days[0], dt.time(9, 14), tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))

    print(f"atw engine benchmark  {dt.datetime.now():%Y-%m-%dT%H:%M:%S}")
    print(f"  machine   {platform.platform()}; {cpu_model()}; {os.cpu_count()} CPUs "
          f"({len(os.sched_getaffinity(0))} usable)")
    print(f"  python    {platform.python_version()}   numpy {np.__version__}   gc thresholds {gc.get_threshold()}")
    print(f"  load      {args.instruments} instruments x {len(STRATEGIES)} strategies ({', '.join(STRATEGIES)}), "
          f"all armed each session; {args.ticks:,} ticks from {days[0]} (up to {len(days)} sessions)")
    feed_text = (f"live-like: SyntheticFeed, {per_bar} ticks a minute per instrument, bars built by the engine"
                 if args.feed == "live" else f"ReplayFeed over bars generated {args.chunk} sessions at a time")
    print(f"  feed      {feed_text}")

    warm = Run(names[:8], None, SimClock(first), build_bars=args.feed == "live")  # JIT and caches, untimed
    warm.consume(live_events(names[:8], days[:1], per_bar, args.seed) if args.feed == "live"
                 else market_events(names[:8], days[:1], 1, args.seed), 40_000)
    del warm
    clock = SimClock(first)
    run = Run(names, None, clock, build_bars=args.feed == "live")
    if args.gc == "steady":
        from core.automation.gc_tuning import steady_gc

        steady_gc()
    print(f"  gc        {args.gc}: thresholds {gc.get_threshold()}, frozen objects {gc.get_freeze_count():,}")
    print(f"  limits    capital {run.limits.capital:,} Rs, max_open_positions {run.limits.max_open_positions}, "
          f"orders_per_second {run.limits.orders_per_second:,}, orders_per_minute {run.limits.orders_per_minute:,}")
    print()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    source = (live_events(names, days, per_bar, args.seed) if args.feed == "live"
              else market_events(names, days, args.chunk, args.seed))
    run.consume(source, args.ticks)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    day = run.engine.clock.now()

    ok = True
    print(f"1. Pure engine (record sink None): {run.ticks:,} ticks, {run.events:,} events, up to {day:%Y-%m-%d %H:%M}")
    print(f"  {engine_summary(run)}")
    text, p99 = latency_line(run, "decision")
    passed = p99 < TARGET_P99_US
    ok &= passed
    print(f"  cause (bar close, fill) -> order at the broker: {text}   target p99 < {TARGET_P99_US:,.0f} us   "
          f"{'PASS' if passed else 'FAIL'}")
    by_role: defaultdict[str, list[int]] = defaultdict(list)
    for role, ns in zip(run.roles, run.decision, strict=True):
        by_role[role].append(ns)
    print("  ... by order role: " + "; ".join(
        f"{role} {len(v):,}: p50 {percentile(v, 0.5) / 1e3:,.0f} us p99 {percentile(v, 0.99) / 1e3:,.0f} us"
        for role, v in sorted(by_role.items())))
    text, _ = latency_line(run)
    print(f"  event -> order at the broker (incl. the other symbols' bars closed by the same tick): {text}")
    text, _ = latency_line(run, "stand_down")
    print(f"  cutoff stand-down, event -> each exit at the broker (all positions at once): {text}")
    engine_s, wall_s = run.engine_ns / 1e9, run.wall_ns / 1e9
    ticks_s = run.ticks / engine_s
    passed = ticks_s >= TARGET_TICKS_S
    ok &= passed
    print(f"  throughput (engine.handle only, {engine_s:.1f} s): {run.events / engine_s:,.0f} events/s   "
          f"{ticks_s:,.0f} ticks/s   target >= {TARGET_TICKS_S:,.0f} ticks/s   {'PASS' if passed else 'FAIL'}")
    kinds = "; ".join(f"{k} {c:,} x {ns / c / 1e3:.1f} us (max {top / 1e3:,.0f} us)"
                      for k, (c, ns, top) in sorted(run.by_kind.items(), key=lambda kv: -kv[1][1]))
    print(f"  per event: {kinds}")
    feed_s = wall_s - engine_s
    print(f"  feed (outside handle): {feed_s:.1f} s = "
          f"{feed_s / max(run.events, 1) * 1e6:.2f} us/event; with the feed {run.ticks / wall_s:,.0f} ticks/s "
          f"({wall_s:.1f} s wall)")
    series = "  ".join(f"{t / MILLION:g}M:{mb:.0f}" for t, mb in run.rss)
    print(f"  RSS MB by ticks: {series}")
    base = next(((t, mb) for t, mb in run.rss if t >= 2 * MILLION), None)
    if base is not None and run.rss[-1][0] > base[0]:
        growth = run.rss[-1][1] - base[1]
        passed = growth < TARGET_GROWTH_MB
        ok &= passed
        print(f"  RSS growth {base[0] / MILLION:g}M -> {run.rss[-1][0] / MILLION:g}M ticks: {growth:+.1f} MB "
              f"({growth / base[1]:+.1%})   target < {TARGET_GROWTH_MB:g} MB   {'PASS' if passed else 'FAIL'}")
    else:
        print("  RSS growth: not judged (needs samples after 2M ticks: run with --ticks >= 3000000)")
    e = run.engine
    print(f"  engine containers at the end: orders {len(e.orders.orders):,}, traces {len(e.orders.traces):,}, "
          f"ignored updates {len(e.orders.ignored):,}, alerts {len(e.alerts):,}, "
          f"history bars {sum(len(h) for h in e.history.values()):,}, "
          f"paper book {sum(len(b) for b in e.broker._book.values())}, rms blocks {len(e.risk.rms._blocks)}")

    if args.feed == "live" and args.replay_ticks > 0:
        del run, e
        gc.collect()
        print()
        replay_days = session_days(START, max(2, -(-args.replay_ticks // (args.instruments * 375 * 4)) + 2))
        rrun = Run(names, None, SimClock(first))
        rrun.consume(market_events(names, replay_days, args.chunk, args.seed), args.replay_ticks)
        engine_s = rrun.engine_ns / 1e9
        bars = rrun.by_kind["BarClosed"][0]
        print(f"3. Replay load (ReplayFeed: 4 ticks and a close per bar, informational): {rrun.ticks:,} ticks, "
              f"{bars:,} bars in {engine_s:.1f} s = {bars / engine_s:,.0f} bars/s, {rrun.ticks / engine_s:,.0f} ticks/s")
        text, _ = latency_line(rrun)
        print(f"  tick -> order latency: {text}")
        kinds = "; ".join(f"{k} {c:,} x {ns / c / 1e3:.1f} us" for k, (c, ns, _top) in rrun.by_kind.items())
        print(f"  per event: {kinds}")
        run = rrun
        e = run.engine

    if args.journal_ticks > 0:
        del run, e
        gc.collect()
        from core.journal.writer import JournalWriter

        print()
        clock = SimClock(first)
        writer = JournalWriter(clock, "replay", home=home / "journal-run", batch_ms=50.0, durable_types=())
        jrun = Run(names, writer.append, clock, build_bars=args.feed == "live")
        with writer:
            source = (live_events(names, days, per_bar, args.seed) if args.feed == "live"
                      else market_events(names, days, args.chunk, args.seed))
            jrun.consume(source, args.journal_ticks)
        size = sum(p.stat().st_size for p in (home / "journal-run").rglob("*.jsonl"))
        print(f"2. Engine + JournalWriter (durable_types=(), batch_ms=50: no write-ahead fsync on the engine's "
              f"thread): {jrun.ticks:,} ticks, {jrun.events:,} events; journal {size / 2**20:.1f} MB")
        text, _ = latency_line(jrun)
        print(f"  tick -> order latency: {text}   (informational)")
        engine_s = jrun.engine_ns / 1e9
        print(f"  throughput (engine.handle + journal appends, {engine_s:.1f} s): {jrun.events / engine_s:,.0f} "
              f"events/s   {jrun.ticks / engine_s:,.0f} ticks/s   (informational)")

    print()
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
