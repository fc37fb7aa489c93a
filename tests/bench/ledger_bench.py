"""Ledger benchmark (run by hand): day-summary queries on a ledger of 100,000 trades.

    .venv/bin/python tests/bench/ledger_bench.py [--legs 100000] [--days 250] [--repeat 7]

Builds a ledger in a temporary ATW_HOME: 250 NSE-like days x 4 strategies, 100,000 trade legs
(about 1 in 10 positions scaled out in 2-3 legs), recorded day by day as the live engine would
(one paper session per day, one ``record_trades`` per day). Then times, best and median of
``--repeat`` runs each:

1. ``day_summary(day)``: the review query (`atw ledger day`), one day x every strategy + ALL.
2. ``days()``: every day's trades and net (`atw ledger days`).
3. ``refresh_day_summaries(day, mode)``: one day recomputed from its 400 legs in the 100,000-leg
   trades table (positions, intraday drawdown) and rewritten, in one write transaction.
4. ``rebuild_day_summaries(mode)``: every day's summaries recomputed from all 100,000 legs and
   rewritten: the heaviest summary work there is (after a migration or a journal rebuild; never
   on the trading path).

Targets: 1-3 < 200 ms (the issue's "day-summary query over 100,000 trades"); 4 < 2 s. Exit 1 on
a miss. The summaries of 4 are checked equal to those written incrementally in the set-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

STRATEGIES = ("atr_divergence", "atr_reversal", "ema_cross", "range_breakout")
SYMBOLS = ("INFY", "TCS", "RELIANCE", "HDFCBANK", "SBIN", "ITC")
NS_MIN = 60_000_000_000
IST_OFFSET_NS = 330 * NS_MIN


def trading_days(n: int) -> list[dt.date]:
    from core.clock import nse_calendar

    sessions = nse_calendar().sessions(dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    return [s.day for s in sessions[:n]]


def make_day(day: dt.date, legs: int, rng: np.random.Generator) -> pd.DataFrame:
    """``legs`` legs on ``day`` over 4 strategies, consistent to the paisa (numpy, integers)."""
    from core.clock import IST

    per = legs // len(STRATEGIES)
    strategy = np.repeat(np.array(STRATEGIES, dtype=object), per)
    n = len(strategy)
    n_legs = rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], size=n)  # legs of the position each row starts
    pos = np.repeat(np.arange(n), n_legs)[:n]  # position index of each row
    first = np.r_[True, pos[1:] != pos[:-1]]
    open_ns = int(pd.Timestamp(dt.datetime.combine(day, dt.time(9, 15)), tz=IST).value)
    entry_min = rng.integers(0, 300, size=n)[pos]
    exit_min = entry_min + rng.integers(1, 40, size=n) + np.where(first, 0, 5)
    side = np.where(rng.random(n) < 0.5, 1, -1)[pos]
    entry_ticks = rng.integers(20_000, 60_000, size=n)[pos]  # 0.05 ticks: 1000.00 .. 3000.00
    exit_ticks = entry_ticks + rng.integers(-80, 81, size=n)
    qty = rng.integers(1, 50, size=n)
    points_paise = (exit_ticks - entry_ticks) * 5 * side  # per unit
    gross = points_paise * qty
    parts = {c: rng.integers(0, 2000, size=n) for c in ("brokerage", "stt", "exchange_txn", "sebi_fee", "stamp_duty", "gst")}
    charges = sum(parts.values())
    net = gross - charges
    symbol = np.array(SYMBOLS, dtype=object)[rng.integers(0, len(SYMBOLS), size=n)][pos]
    entry_ns = open_ns + entry_min * NS_MIN
    frame = pd.DataFrame({
        "symbol": symbol, "strategy": strategy, "side": np.where(side > 0, "LONG", "SHORT"), "qty": qty,
        "entry_time": pd.to_datetime(entry_ns, utc=True).tz_convert(IST), "entry_price": entry_ticks / 20,
        "exit_time": pd.to_datetime(open_ns + np.minimum(exit_min, 374) * NS_MIN, utc=True).tz_convert(IST),
        "exit_price": exit_ticks / 20, "points": points_paise / 100, "gross_pnl": gross / 100,
        "charges": charges / 100, "net_pnl": net / 100, "exit_reason": "signal",
        "initial_stop": (entry_ticks - 40 * side) / 20, "confidence": rng.random(n),
        "signal_time": pd.to_datetime(entry_ns - NS_MIN, utc=True).tz_convert(IST),
        **{c: v / 100 for c, v in parts.items()},
    })
    return frame


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and median wall time (ms) of ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return min(times), statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--legs", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    home = tempfile.mkdtemp(prefix="atw-ledger-bench-")
    os.environ["ATW_HOME"] = home
    try:
        return run(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace, home: str) -> int:

    import sqlalchemy

    from core.clock import IST
    from core.ledger import ALL, Ledger

    print(f"atw ledger benchmark  {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"  machine   {platform.platform()}; {platform.processor() or platform.machine()}; {os.cpu_count()} CPUs")
    print(f"  python    {platform.python_version()}   sqlalchemy {sqlalchemy.__version__}   "
          f"sqlite {__import__('sqlite3').sqlite_version}   pandas {pd.__version__}   numpy {np.__version__}")

    rng = np.random.default_rng(args.seed)
    days = trading_days(args.days)
    per_day = args.legs // len(days)
    t = time.perf_counter()
    frames = [make_day(d, per_day, rng) for d in days]
    gen_s = time.perf_counter() - t
    total = sum(len(f) for f in frames)
    started = pd.Timestamp("2023-01-02 09:00", tz=IST)
    with Ledger.open() as ledger:
        t = time.perf_counter()
        for day, frame in zip(days, frames):
            sid = ledger.start_session(day, "paper", "bench", "0.1.0", started)
            ledger.record_trades(sid, frame)
        rec_s = time.perf_counter() - t
        size_mb = ledger.path.stat().st_size / 1e6
        all_rows = [d for d in ledger.days("paper")]
        positions = sum(d.trades for d in all_rows)
        print(f"\n1. Set-up: {total:,} legs ({positions:,} positions) over {len(days)} days x {len(STRATEGIES)} "
              f"strategies, {days[0]} .. {days[-1]}")
        print(f"  generated in {gen_s:.1f} s; recorded day by day ({len(days)} sessions, {len(days)} record_trades, each "
              f"rewriting its day's summaries) in {rec_s:.1f} s = {total / rec_s:,.0f} legs/s; file {size_mb:.1f} MB")

        mid = days[len(days) // 2]
        incremental = {d: ledger.day_summary(d, "paper") for d in days}
        results = []

        def check(name: str, best: float, median: float, target_ms: float, note: str) -> None:
            ok = best < target_ms
            results.append(ok)
            print(f"  {name:<52}{best:9.1f}{median:10.1f}   < {target_ms:,.0f} ms  {'PASS' if ok else 'FAIL'}   {note}")

        print(f"\n2. Queries on the {total:,}-leg ledger (best / median of {args.repeat}, ms)")
        print(f"  {'':<52}{'best':>9}{'median':>10}")
        b, m, rows = timed(lambda: ledger.day_summary(mid, "paper"), args.repeat)
        check(f"day_summary({mid}, 'paper')", b, m, 200, f"{len(rows)} rows")
        b, m, rows = timed(lambda: ledger.day_summary(mid), args.repeat)
        check(f"day_summary({mid})  (every mode)", b, m, 200, f"{len(rows)} rows")
        b, m, rows = timed(lambda: ledger.days(), args.repeat)
        check("days()", b, m, 200, f"{len(rows)} days")
        b, m, rows = timed(lambda: ledger.refresh_day_summaries(mid, "paper"), args.repeat)
        legs_mid = sum(r["legs"] for r in rows if r["strategy"] == ALL)
        check(f"refresh_day_summaries({mid}, 'paper')", b, m, 200, f"{legs_mid} legs recomputed, {len(rows)} rows written")
        b, m, n = timed(lambda: ledger.rebuild_day_summaries("paper"), max(3, args.repeat // 2))
        check("rebuild_day_summaries('paper')  (all days)", b, m, 2000, f"{total:,} legs -> {n:,} rows")
        same = all(ledger.day_summary(d, "paper") == incremental[d] for d in days)
        print(f"  rebuilt summaries == incremental summaries: {same}")
        results.append(same)
        b, m, frame = timed(lambda: ledger.export_trades(days[0], days[-1]), 3)
        print(f"  {'export_trades(all days)  (informational)':<52}{b:9.1f}{m:10.1f}   {len(frame):,} rows")
    big = pd.concat(frames, ignore_index=True)
    report = {"legs": len(big), "gross_pnl": float(big["gross_pnl"].sum().round(2)), "first_day": str(days[0]),
              "last_day": str(days[-1])}
    with Ledger.open(Path(home) / "sim.sqlite") as ledger:
        t = time.perf_counter()
        ledger.record_sim_run(report, big, engine="fast", costs="zerodha", strategies=list(STRATEGIES), parameters={},
                              data_fingerprint="bench", created_at=started, days=days)
        sim_s = time.perf_counter() - t
    print(f"\n3. record_sim_run of the same {total:,} legs as one simulator run (informational): {sim_s:.2f} s "
          f"(validation, {len(days)} sessions, trades, summaries from memory; one transaction)")
    print("\nall targets met" if all(results) else "\nTARGET MISSED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
