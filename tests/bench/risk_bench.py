"""Portfolio-risk benchmark (run by hand): the pre-trade check and a full tail-risk recompute.

    .venv/bin/python tests/bench/risk_bench.py [--positions 200] [--checks 20000] [--seed 1]

A :class:`~core.risk.portfolio_risk.PortfolioRisk` holds ``--positions`` open positions (one per
instrument, random sides and sizes, each with a stop) over a day of correlated one-minute
prices (375 bars per instrument, fed through ``on_bar`` as the engine does). Every rule is on
and loose enough that each check runs to its end: exposure caps by instrument, sector,
strategy, underlying, gross and net, the heat cap, the correlation limit, and VaR, CVaR and
stress limits (the entry's tail figures are computed for every check). Figures:

1. pre-trade check: ``pre_trade`` of a new entry in a random instrument (one of the held, or a
   new one), p50/p99/max. Target p99 < 200 µs with 200 open positions.
2. full recompute: the tail cache reloaded (returns over the horizon, covariance, the book's
   P&L rows) and every figure computed (historical and parametric VaR/CVaR at 95% and 99%, the
   four stress scenarios), as after a fill or a bar. Target < 20 ms.
3. peer: the same VaR/CVaR figures the way a research notebook computes them (pandas
   ``pct_change``, ``DataFrame.cov``, a Series quantile), run in this process; the ratio.

Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.clock import IST  # noqa: E402
from core.market.bars import Bar  # noqa: E402
from core.market.instruments import default_master  # noqa: E402
from core.risk.limits import RiskLimits  # noqa: E402
from core.risk.portfolio_risk import VAR_HORIZON_BARS, PortfolioRisk  # noqa: E402

TARGET_CHECK_P99_US = 200.0
TARGET_RECOMPUTE_MS = 20.0
BARS = 375


def build(positions: int, seed: int) -> tuple[PortfolioRisk, list[str], np.random.Generator]:
    rng = np.random.default_rng(seed)
    limits = RiskLimits.from_mapping({
        "capital": "50cr", "max_open_positions": "1000", "heat_cap_pct": "90", "max_instrument_pct": "50",
        "max_sector_pct": "900", "max_strategy_pct": "900", "max_underlying_pct": "50", "max_gross_pct": "900",
        "max_net_pct": "900", "max_corr": "0.99", "var_limit_pct": "90", "cvar_limit_pct": "90",
        "stress_limit_pct": "90"})
    risk = PortfolioRisk(lambda: limits, default_master())
    symbols = [f"SYM{i:03d}" for i in range(positions + 1)]  # one more than held: a new instrument too
    market = rng.normal(0, 0.0008, BARS)
    start = dt.datetime(2026, 12, 3, 9, 15, tzinfo=IST)
    prices = {s: 100.0 + 900.0 * rng.random() for s in symbols}
    for t in range(BARS):
        when = start + dt.timedelta(minutes=t)
        for s in symbols:
            prices[s] *= 1 + 0.6 * market[t] + rng.normal(0, 0.001)
            p = prices[s]
            risk.on_bar(Bar(s, when, when + dt.timedelta(minutes=1), p, p, p, p, 1000.0))
    for i, s in enumerate(symbols[:positions]):
        side = 1 if rng.random() < 0.6 else -1
        price = prices[s]
        qty = int(rng.integers(10, 500))
        risk.put(risk.exposure(f"P{i}", s, "ema_cross", side, qty, price, price * (1 - side * 0.01)))
    return risk, symbols, rng


def bench_checks(risk: PortfolioRisk, symbols: list[str], rng: np.random.Generator, n: int) -> np.ndarray:
    now = dt.datetime(2026, 12, 3, 15, 0, tzinfo=IST)
    risk.figures()  # the cache is loaded once, as after the last bar
    out = np.empty(n)
    for k in range(n):
        s = symbols[int(rng.integers(0, len(symbols)))]
        side = 1 if rng.random() < 0.5 else -1
        price = 500.0
        new = risk.exposure(f"E{k}", s, "range_breakout", side, int(rng.integers(1, 50)), price,
                            price * (1 - side * 0.005))
        t0 = time.perf_counter_ns()
        risk.pre_trade(new, now)
        out[k] = (time.perf_counter_ns() - t0) / 1000.0
    return out


def bench_recompute(risk: PortfolioRisk, reps: int) -> np.ndarray:
    out = np.empty(reps)
    for k in range(reps):
        t0 = time.perf_counter_ns()
        risk._book_changed = True  # noqa: SLF001 - what a fill does
        risk.figures(0.99)
        risk.tail.figures(confidence=0.95)
        out[k] = (time.perf_counter_ns() - t0) / 1e6
    return out


def peer_recompute(risk: PortfolioRisk, symbols: list[str], reps: int) -> tuple[np.ndarray, float, float]:
    """The notebook way: a price DataFrame, pct_change over the horizon, cov, a quantile."""
    rows = risk.returns._prices[: risk.returns._rows]  # noqa: SLF001 - the same prices
    frame = pd.DataFrame(rows[:, : len(symbols)], columns=symbols)
    w = pd.Series(0.0, index=symbols)
    for item in risk.book.items.values():
        w[item.symbol] += item.side * item.notional
    out = np.empty(reps)
    var = cvar = 0.0
    for k in range(reps):
        t0 = time.perf_counter_ns()
        r = frame.pct_change(VAR_HORIZON_BARS).dropna()
        pnl = r.dot(w)
        losses = -pnl
        var = float(losses.quantile(0.99, interpolation="higher"))
        cvar = float(losses[losses >= var].mean())
        cov = r.cov()
        sigma = math.sqrt(float(w @ cov @ w))
        _ = sigma
        out[k] = (time.perf_counter_ns() - t0) / 1e6
    return out, var, cvar


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--positions", type=int, default=200)
    p.add_argument("--checks", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    print(f"risk_bench: {args.positions} open positions, {BARS} bars each, python {platform.python_version()}, "
          f"numpy {np.__version__}, {platform.machine()}")
    risk, symbols, rng = build(args.positions, args.seed)
    checks = bench_checks(risk, symbols, rng, args.checks)
    p50, p99, worst = np.percentile(checks, 50), np.percentile(checks, 99), checks.max()
    print(f"pre-trade check: p50 {p50:.1f} µs  p99 {p99:.1f} µs  max {worst:.1f} µs  "
          f"(target p99 < {TARGET_CHECK_P99_US:.0f} µs)")
    full = bench_recompute(risk, 100)
    print(f"full recompute (VaR/CVaR 95+99, stress): p50 {np.percentile(full, 50):.2f} ms  "
          f"max {full.max():.2f} ms  (target < {TARGET_RECOMPUTE_MS:.0f} ms)")
    peer, var, cvar = peer_recompute(risk, symbols, 20)
    ours = risk.figures(0.99)
    assert ours is not None
    same = math.isclose(ours.var_hist, var, rel_tol=1e-9) and math.isclose(ours.cvar_hist, cvar, rel_tol=1e-9)
    print(f"peer (pandas notebook): p50 {np.percentile(peer, 50):.2f} ms; ours is "
          f"{np.percentile(peer, 50) / np.percentile(full, 50):.1f}x faster; same 99% VaR/CVaR: {same} "
          f"(Rs {ours.var_hist:,.0f} / Rs {ours.cvar_hist:,.0f})")
    met = p99 < TARGET_CHECK_P99_US and full.max() < TARGET_RECOMPUTE_MS and same
    print("targets met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
