"""Simulator benchmark, run by hand (pytest does not collect it): speed, parity with peers, memory.

    .venv/bin/python tests/bench/sim_bench.py [--sessions 2004] [--repeat 7] [--seed 1]

Needs the ``bench`` extra (vectorbt, backtesting) and TA-Lib (``dev``). It prints:

1. the data: ``generate_series`` over ``--sessions`` NSE sessions from 2015-01-01 (1-minute bars);
2. the simulator core per strategy (defaults): ``strategy.signals(arrays)`` + ``run_fast``,
   numba warmed up first, best of ``--repeat`` wall times;
3. the EMA-cross reference rule of DESIGN.md §4 (fast 9, slow 21, no stop/trail/target, qty 1,
   no costs) in our core, in vectorbt and in backtesting.py, all three in this process: the
   trade lists must be equal (entry/exit time, side, prices), then bars/s and the ratios;
4. the peak RSS of a fresh process that builds the bars and runs the four strategies through
   ``simulate_legs`` (fast engine).

Every timed peer section is the whole pipeline from price arrays to a list of trades:
indicators, signals, portfolio simulation, trade records. All three get the same inputs: the
OHLC arrays plus each bar's IST day and minute (the session structure our core gets from
``BarArrays``). The exit code is 1 when trade lists differ or a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Every engine here allocates arrays of a few MB per run. glibc maps each fresh one with mmap
# (page faults on first touch) until frees raise its dynamic threshold, so whichever engine
# runs first in the process pays faults the later ones do not. A fixed, high threshold gives
# all engines the same warm heap; the benchmark re-executes itself once with it set.
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(256 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(1024 * 1024 * 1024)}


def _with_fixed_malloc_thresholds() -> None:
    if platform.system() == "Linux" and any(os.environ.get(k) != v for k, v in _MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **_MALLOC_ENV})


if __name__ == "__main__":
    _with_fixed_malloc_thresholds()

# Before anything imports tqdm (backtesting.py draws a progress bar through it) or reads ATW_HOME.
os.environ["TQDM_DISABLE"] = "1"
_HOME = tempfile.TemporaryDirectory(prefix="atw_bench_")
os.environ["ATW_HOME"] = _HOME.name

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.indicators import adx, atr, ema  # noqa: E402
from core.market.bars import NS_PER_MINUTE, BarArrays, BarSeries  # noqa: E402
from core.market.synthetic import generate_series  # noqa: E402
from core.simulator.kernel import KernelLegs, run_fast  # noqa: E402
from core.strategies import REGISTRY, create  # noqa: E402

START = dt.date(2015, 1, 1)
TICK = 0.05
FAST, SLOW = 9, 21
CUTOFF_MINUTE = 15 * 60  # 15:00 IST, the default cutoff
STRATEGIES = ("atr_reversal", "atr_divergence", "ema_cross", "range_breakout")
REFERENCE = dict(fast=FAST, slow=SLOW, stop="none", trail="none", target="none")
STOP_TRAIL = dict(fast=FAST, slow=SLOW, stop="1.5atr", trail="1atr")
TARGET_VS_VBT, TARGET_VS_BT, TARGET_STOP_TRAIL_VS_VBT = 2.0, 50.0, 1.0
MEMORY_LIMIT_BYTES = 1_000_000_000  # "< 1 GB"

Trade = tuple[str, int, float, int, float]  # side, entry ns, entry price, exit ns, exit price


# ---------------------------------------------------------------------------- helpers


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls (the caller warms up first) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def rate(bars: int, seconds: float) -> str:
    per_s = bars / seconds
    return f"{per_s / 1e6:8.2f} M/s" if per_s >= 1e6 else f"{per_s / 1e3:8.1f} k/s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def version(module: str) -> str:
    try:
        mod = __import__(module)
    except ImportError:
        return "not installed"
    return str(getattr(mod, "__version__", "?"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine_info() -> None:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"atw simulator benchmark  {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"  machine   {platform.platform()}; {cpu_model()}; {os.cpu_count()} CPUs ({affinity} usable)")
    print(f"  python    {platform.python_version()}   numpy {version('numpy')}   pandas {version('pandas')}"
          f"   numba {version('numba')}")
    print(f"  peers     vectorbt {version('vectorbt')} (vectorbt-rust {version('vectorbt_rust')})"
          f"   backtesting {version('backtesting')}   TA-Lib {version('talib')}")


# ---------------------------------------------------------------------------- 1. data


def make_series(sessions: int, seed: int) -> BarSeries:
    return generate_series("BENCH", START, sessions, seed=seed)


def describe_data(series: BarSeries, sessions: int, seed: int, seconds: float) -> None:
    a = series.arrays
    days, counts = np.unique(a.day, return_counts=True)
    regular = int((counts == 375).sum())
    odd = ", ".join(f"{str(np.datetime64(int(d), 'D'))}:{c}" for d, c in zip(days, counts) if c != 375)
    first, last = series.frame.index[0], series.frame.index[-1]
    print(f"\n1. Data  generate_series('BENCH', {START}, {sessions}, seed={seed})  ({seconds:.1f} s)")
    print(f"  {len(a):,} one-minute bars, {len(days)} sessions ({regular} regular x 375 bars), "
          f"{first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} IST")
    if odd:
        print(f"  special sessions from the NSE calendar (day:bars): {odd}")


# ---------------------------------------------------------------------------- 2. core speed


def core_run(strategy: Any, a: BarArrays) -> KernelLegs:
    return run_fast(a, strategy.signals(a), strategy.trade, TICK)


def core_speed(a: BarArrays, repeat: int) -> None:
    n = len(a)
    print(f"\n2. Simulator core per strategy (defaults): signals + run_fast, best of {repeat}, {n:,} bars")
    print(f"  {'strategy':<16}{'signals ms':>11}{'kernel ms':>11}{'total ms':>10}{'bars/s':>14}{'trades':>9}")
    for name in STRATEGIES:
        st = create(name)
        sig = st.signals(a)  # warms the JIT (cached compiles load here)
        core_run(st, a)
        t_total, legs = best_of(lambda st=st: core_run(st, a), repeat)
        t_sig, _ = best_of(lambda st=st: st.signals(a), repeat)
        t_ker, _ = best_of(lambda st=st, sig=sig: run_fast(a, sig, st.trade, TICK), repeat)
        print(f"  {name:<16}{t_sig * 1e3:>11.1f}{t_ker * 1e3:>11.1f}{t_total * 1e3:>10.1f}"
              f"{rate(n, t_total):>14}{len(legs):>9,}")


def ema_cross_profile(a: BarArrays, repeat: int) -> str:
    """Where the reference rule's time goes inside ``EmaCross.signals``."""
    parts = {
        "2x EMA": lambda: (ema(a.close, FAST), ema(a.close, SLOW)),
        "ATR(14)": lambda: atr(a.high, a.low, a.close, 14),
        "ADX(14) confidence": lambda: adx(a.high, a.low, a.close, 14),
    }
    out = []
    for label, fn in parts.items():
        fn()
        out.append(f"{label} {best_of(fn, repeat)[0] * 1e3:.1f} ms")
    return ", ".join(out)


# ---------------------------------------------------------------------------- 3. reference rule


def session_masks(day: np.ndarray, minute: np.ndarray, cutoff: int = CUTOFF_MINUTE) -> tuple[np.ndarray, np.ndarray]:
    """(fill_ok, cutoff_bar): bar i may take a fill decided at i-1; bar i is a session's first at/after cutoff."""
    n = len(day)
    same = np.zeros(n, dtype=bool)
    same[1:] = day[1:] == day[:-1]
    fill_ok = same & (minute < cutoff)
    after = minute >= cutoff
    prev_after = np.zeros(n, dtype=bool)
    prev_after[1:] = after[:-1]
    cutoff_bar = after & (~same | ~prev_after)
    return fill_ok, cutoff_bar


def sessions_ending_before_cutoff(day: np.ndarray, minute: np.ndarray) -> int:
    """Sessions whose last bar starts before the cutoff (the rule exits those at the last close)."""
    last = np.r_[day[1:] != day[:-1], True]
    return int((minute[last] < CUTOFF_MINUTE).sum())


def ours_trades(a: BarArrays, legs: KernelLegs) -> list[Trade]:
    exit_ns = a.ts[legs.exit_index] + np.where(legs.exit_at_close, NS_PER_MINUTE, 0)
    rows = zip(legs.side, a.ts[legs.entry_index], legs.entry_price, exit_ns, legs.exit_price)
    return sorted((("LONG" if s > 0 else "SHORT"), int(e), float(ep), int(x), float(xp)) for s, e, ep, x, xp in rows)


# -- vectorbt


def vectorbt_reference(open_: np.ndarray, close: np.ndarray, day: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """The rule in vectorbt: TA-Lib EMAs via vbt.talib, masks, Portfolio.from_signals, exit trades."""
    import vectorbt as vbt

    emas = vbt.talib("EMA").run(close, timeperiod=[FAST, SLOW]).real.to_numpy()
    fast, slow = emas[:, 0], emas[:, 1]
    n = len(close)
    up = np.zeros(n, dtype=bool)
    down = np.zeros(n, dtype=bool)
    up[1:] = (fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])
    down[1:] = (fast[1:] < slow[1:]) & (fast[:-1] >= slow[:-1])
    fill_ok, cutoff_bar = session_masks(day, minute)
    long_in = np.zeros(n, dtype=bool)  # decided at t's close -> an order at t+1, priced at its open
    short_in = np.zeros(n, dtype=bool)
    long_in[1:] = up[:-1] & fill_ok[1:]
    short_in[1:] = down[:-1] & fill_ok[1:]
    pf = vbt.Portfolio.from_signals(
        close, entries=long_in, exits=cutoff_bar, short_entries=short_in, short_exits=cutoff_bar,
        price=open_, size=1.0, size_type="amount", init_cash=1e12, fees=0.0, fixed_fees=0.0,
        slippage=0.0, accumulate=False, upon_opposite_entry="reverse", freq="1min",
    )
    return pf.exit_trades.values


def vectorbt_trades(a: BarArrays, records: np.ndarray) -> list[Trade]:
    if (records["status"] != 1).any():
        raise AssertionError("vectorbt left a position open")
    rows = zip(records["direction"], a.ts[records["entry_idx"]], records["entry_price"],
               a.ts[records["exit_idx"]], records["exit_price"])
    return sorted(("LONG" if d == 0 else "SHORT", int(e), float(ep), int(x), float(xp)) for d, e, ep, x, xp in rows)


# -- backtesting.py


def _backtesting_strategy() -> type:
    import talib
    from backtesting import Strategy

    class EmaCrossReference(Strategy):
        """The rule in next(): decide at the close, market orders fill at the next open."""

        day: Any = None  # per-bar IST day and minute (the session structure), passed to run()
        minute: Any = None

        def init(self) -> None:
            fast = self.I(talib.EMA, self.data.Close, FAST, name="fast")
            slow = self.I(talib.EMA, self.data.Close, SLOW, name="slow")
            # plain lists: per-bar indexing in next() is far cheaper than on _Indicator slices
            self.f, self.s = np.asarray(fast).tolist(), np.asarray(slow).tolist()
            fill_ok, cutoff_bar = session_masks(self.day, self.minute)
            same = np.r_[False, self.day[1:] == self.day[:-1]]
            self.next_fills = np.r_[fill_ok[1:], False].tolist()  # bar i+1 may take an order from i
            self.next_cutoff = np.r_[(cutoff_bar & same)[1:], False].tolist()  # i+1: first bar >= 15:00

        def next(self) -> None:
            i = len(self.data) - 1
            if self.next_cutoff[i]:  # bar i+1 is the session's first at/after 15:00: flat at its open
                if self.position:
                    self.position.close()
                return
            if not self.next_fills[i]:
                return
            f, s = self.f, self.s
            if f[i] > s[i] and f[i - 1] <= s[i - 1]:
                if self.position.size <= 0:
                    self.buy(size=1)  # exclusive_orders: closes a short first (reversal)
            elif f[i] < s[i] and f[i - 1] >= s[i - 1]:
                if self.position.size >= 0:
                    self.sell(size=1)

    return EmaCrossReference


def backtesting_reference(frame: Any, day: np.ndarray, minute: np.ndarray) -> Any:
    from backtesting import Backtest

    bt = Backtest(frame, _backtesting_strategy(), cash=1e12, spread=0.0, commission=0.0, margin=1.0,
                  trade_on_close=False, hedging=False, exclusive_orders=True, finalize_trades=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run(day=day, minute=minute)
    return stats["_trades"]


def backtesting_trades(a: BarArrays, trades: Any) -> list[Trade]:
    rows = zip(trades["Size"].to_numpy(), a.ts[trades["EntryBar"].to_numpy()], trades["EntryPrice"].to_numpy(),
               a.ts[trades["ExitBar"].to_numpy()], trades["ExitPrice"].to_numpy())
    return sorted(("LONG" if q > 0 else "SHORT", int(e), float(ep), int(x), float(xp)) for q, e, ep, x, xp in rows)


def first_difference(ours: list[Trade], theirs: list[Trade]) -> str | None:
    def show(t: Trade | None) -> str:
        if t is None:
            return "(none)"
        side, e, ep, x, xp = t
        ist = dt.timedelta(hours=5, minutes=30)
        when = lambda ns: (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=ns // 1000) + ist).strftime("%Y-%m-%d %H:%M")  # noqa: E731
        return f"{side} {when(e)} @ {ep:.2f} -> {when(x)} @ {xp:.2f}"

    for k in range(max(len(ours), len(theirs))):
        a = ours[k] if k < len(ours) else None
        b = theirs[k] if k < len(theirs) else None
        if a != b:  # exact: same side, same bar times, the very same float prices
            return f"trade {k}: ours {show(a)}  vs  {show(b)}  ({len(ours)} vs {len(theirs)} trades)"
    return None


def reference_rule(series: BarSeries, repeat: int) -> dict[str, bool]:
    a = series.arrays
    n = len(a)
    print(f"\n3. EMA-cross reference rule (DESIGN.md §4): fast={FAST} slow={SLOW}, stop/trail/target none, "
          f"qty 1, no costs, {n:,} bars")
    early = sessions_ending_before_cutoff(a.day, a.minute)
    if early:
        raise SystemExit(f"FAIL: {early} session(s) end before 15:00; the peer encodings here fill only at "
                         "opens and cannot exit at a session's last close (see README)")

    # ours and vectorbt, timed in alternation (best of each) so that a slow spell of this
    # shared machine hits both alike; vectorbt's numba functions are warmed on a slice first
    ref = create("ema_cross", **REFERENCE)
    core_run(ref, a)
    small = slice(0, 20 * 375)
    vectorbt_reference(a.open[small], a.close[small], a.day[small], a.minute[small])
    t_ours = t_vbt = float("inf")
    for _ in range(repeat):
        t, legs = best_of(lambda: core_run(ref, a), 1)
        t_ours = min(t_ours, t)
        t, records = best_of(lambda: vectorbt_reference(a.open, a.close, a.day, a.minute), 1)
        t_vbt = min(t_vbt, t)
    ours = ours_trades(a, legs)
    vbt_list = vectorbt_trades(a, records)
    sig_ms = best_of(lambda: ref.signals(a), repeat)[0] * 1e3
    sig = ref.signals(a)
    ker_ms = best_of(lambda: run_fast(a, sig, ref.trade, TICK), repeat)[0] * 1e3

    # backtesting.py: once on the full series (after a small warm-up)
    frame = series.frame.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    backtesting_reference(frame.iloc[small], a.day[small], a.minute[small])
    started = time.perf_counter()
    bt_raw = backtesting_reference(frame, a.day, a.minute)
    t_bt = time.perf_counter() - started
    bt_list = backtesting_trades(a, bt_raw)

    import talib

    ours_ema = [ema(a.close, p) for p in (FAST, SLOW)]
    peer_ema = [talib.EMA(a.close, p) for p in (FAST, SLOW)]
    valid = ~np.isnan(ours_ema[1])  # both EMAs warmed up
    ulps = sum(int(np.sum(x[valid] != y[valid])) for x, y in zip(ours_ema, peer_ema))
    rel = max(float(np.max(np.abs(x[valid] - y[valid]) / np.abs(y[valid]))) for x, y in zip(ours_ema, peer_ema))
    flips = int(np.sum(np.sign(ours_ema[0] - ours_ema[1])[valid] != np.sign(peer_ema[0] - peer_ema[1])[valid]))
    print(f"  EMAs, atw vs TA-Lib (the peers' EMA): {ulps} of {2 * n:,} values differ, max relative "
          f"{rel:.1e}; fast-vs-slow sign differs at {flips} bars")
    for peer, theirs in (("vectorbt", vbt_list), ("backtesting.py", bt_list)):
        diff = first_difference(ours, theirs)
        if diff is not None:
            raise SystemExit(f"FAIL: trade lists differ, atw vs {peer}: {diff}")
    print(f"  trade lists equal: {len(ours):,} trades (atw == vectorbt == backtesting.py, exactly: side, "
          "entry and exit bar time and price of every trade)")

    t_st = _stop_trail_time(a, repeat)
    rows = (
        (f"atw core: signals + run_fast (best of {repeat})", t_ours),
        (f"vectorbt: talib EMA + from_signals (best of {repeat})", t_vbt),
        ("backtesting.py: Strategy.next (one run)", t_bt),
        (f"atw ema_cross stop=1.5atr trail=1atr (best of {repeat})", t_st),
    )
    print(f"  {'engine':<56}{'seconds':>9}{'bars/s':>14}")
    for label, seconds in rows:
        print(f"  {label:<56}{seconds:>9.3f}{rate(n, seconds):>14}")
    print(f"  atw split (reference rule): signals {sig_ms:.1f} ms [{ema_cross_profile(a, repeat)}], "
          f"kernel {ker_ms:.1f} ms")
    checks = {
        "atw / vectorbt": (t_vbt / t_ours, TARGET_VS_VBT),
        "atw / backtesting.py": (t_bt / t_ours, TARGET_VS_BT),
        "atw stop+trail / vectorbt reference": (t_vbt / t_st, TARGET_STOP_TRAIL_VS_VBT),
    }
    results = {}
    for label, (ratio, target) in checks.items():
        results[label] = ratio >= target
        print(f"  {label:<38}{ratio:>9.1f}x   target >= {target:g}x   {verdict(ratio >= target)}")
    return results


def _stop_trail_time(a: BarArrays, repeat: int) -> float:
    st = create("ema_cross", **STOP_TRAIL)
    core_run(st, a)
    return best_of(lambda: core_run(st, a), repeat)[0]


# ---------------------------------------------------------------------------- 4. memory


def memory_child(sessions: int, seed: int) -> None:
    """Runs in a fresh process: build the bars, run the four strategies, report ru_maxrss."""
    import gc

    from core.simulator.run import simulate_legs

    def maxrss() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB

    def status(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return -1

    after_import = maxrss()
    series = make_series(sessions, seed)
    series.arrays  # noqa: B018 (built once, as the simulator would)
    gc.collect()
    after_data, data_rss = maxrss(), status("VmRSS")
    try:  # reset the high-water mark (Linux >= 4.0) to see the simulation's own peak
        Path("/proc/self/clear_refs").write_text("5")
        sim_peak: int | None = None
    except OSError:
        sim_peak = -1
    started = time.perf_counter()
    legs = simulate_legs([series], [create(name) for name in STRATEGIES], engine="fast")
    elapsed = time.perf_counter() - started
    if sim_peak is None:
        sim_peak = status("VmHWM")
    print(json.dumps({"bars": len(series), "legs": len(legs), "elapsed_s": elapsed,
                      "after_import": after_import, "after_data": after_data, "data_rss": data_rss,
                      "sim_peak": sim_peak, "peak": max(after_data, maxrss())}))


def memory(sessions: int, seed: int) -> bool:
    # Linux carries the launching process's peak RSS into ru_maxrss across fork+exec (exec_mmap
    # records the old memory map's high-water mark), so a child started straight from this
    # process would report *our* peak. A small shell in between forks the child from a tiny map.
    child = [sys.executable, str(Path(__file__).resolve()), "--memory-child", "--sessions", str(sessions),
             "--seed", str(seed)]
    cmd = ["/bin/sh", "-c", f"{shlex.join(child)}; exit $?"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"FAIL: memory subprocess exited {done.returncode}:\n{done.stderr}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    mb = lambda b: f"{b / 1e6:,.0f} MB"  # noqa: E731
    ok = r["peak"] < MEMORY_LIMIT_BYTES
    print(f"\n4. Peak memory: fresh process, {r['bars']:,} bars, simulate_legs(4 strategies, fast engine) "
          f"-> {r['legs']:,} legs in {r['elapsed_s']:.2f} s")
    print(f"  peak RSS (ru_maxrss) {mb(r['peak'])}   target < 1 GB   {verdict(ok)}")
    print(f"    after imports {mb(r['after_import'])}; after building the bars {mb(r['after_data'])} "
          f"(generator temporaries; resident afterwards {mb(r['data_rss'])}); "
          f"peak during simulate_legs {mb(r['sim_peak']) if r['sim_peak'] > 0 else 'n/a'}")
    return ok


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2004, help="NSE sessions of 1-minute bars (default 2004: just over 750,000 bars)")
    parser.add_argument("--repeat", type=int, default=7, help="best of N timed runs (default 7)")
    parser.add_argument("--seed", type=int, default=1, help="synthetic market seed (default 1)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.sessions, args.seed)
        return 0
    assert sorted(STRATEGIES) == sorted(REGISTRY), "the bench names every strategy"

    machine_info()
    started = time.perf_counter()
    series = make_series(args.sessions, args.seed)
    series.arrays  # noqa: B018
    describe_data(series, args.sessions, args.seed, time.perf_counter() - started)
    core_speed(series.arrays, args.repeat)
    results = reference_rule(series, args.repeat)
    results["peak memory"] = memory(args.sessions, args.seed)
    failed = [k for k, ok in results.items() if not ok]
    print(f"\n{'all targets met' if not failed else 'targets missed: ' + ', '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        _HOME.cleanup()
