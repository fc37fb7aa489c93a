"""Parameter sweeps over a grid (in a process pool) and walk-forward optimisation.

A sweep runs one strategy once per grid point on the fast path and ranks the points by an
objective. Walk-forward rolls a window over the sessions: optimise on ``train`` sessions
(in-sample), then trade the best point on the next ``test`` sessions (out-of-sample), step by
``test``. Out-of-sample runs include the in-sample bars as indicator warm-up but keep only
trades entered on test days; nothing is held overnight, so the boundary cannot leak a position.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.errors import ConfigError
from core.market.bars import BarSeries
from core.market.instruments import InstrumentMaster, default_master
from core.simulator.costs import cost_model
from core.simulator.metrics import compute_metrics
from core.simulator.run import in_window, session_days, simulate_legs
from core.simulator.trades import TRADE_COLUMNS, build_trades, empty_trades
from core.strategies import create

OBJECTIVES = ("net_pnl", "sharpe", "sortino", "calmar", "profit_factor", "expectancy", "win_rate")
Progress = Callable[[Iterable[Any]], Iterable[Any]]


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """``["fast=5,9,13", "slow=21:41:10"]`` -> {"fast": [...], "slow": ["21", "31", "41"]}."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise ConfigError(f"cannot read {item!r}: use key=v1,v2 or key=start:stop:step", where="grid")
        if values.count(":") == 2 and "," not in values:
            grid[key] = _range_values(item, values)
        else:
            grid[key] = [v.strip() for v in values.split(",") if v.strip()]
    return grid


def _range_values(item: str, values: str) -> list[str]:
    try:
        start, stop, step = (float(v) for v in values.split(":"))
    except ValueError as exc:
        raise ConfigError(f"cannot read range in {item!r}", where="grid") from exc
    if step <= 0 or stop < start:
        raise ConfigError(f"{item!r}: the range needs start <= stop and step > 0", where="grid")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    out = [start + k * step for k in range(count)]
    return [str(int(v)) if float(v).is_integer() else f"{v:g}" for v in out]


def grid_points(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


@dataclass(frozen=True)
class _Job:
    strategy: str
    params: dict[str, str]
    costs: str
    capital: float
    start: dt.date | None = None
    end: dt.date | None = None


_SERIES: list[BarSeries] = []
_MASTER: InstrumentMaster | None = None


def _init(series: list[BarSeries], master: InstrumentMaster) -> None:
    global _SERIES, _MASTER
    _SERIES, _MASTER = series, master


def _evaluate(job: _Job) -> dict[str, Any]:
    """Metrics of one grid point (runs in a worker process)."""
    master = _MASTER or default_master()
    try:
        strategy = create(job.strategy, **job.params)
    except ConfigError as exc:
        return {**job.params, "error": str(exc)}
    series = [s.between(None, job.end) for s in _SERIES] if job.end else _SERIES
    legs = in_window(simulate_legs(series, [strategy], engine="fast", master=master), job.start, job.end)
    trades = build_trades(legs, cost_model(job.costs), master)
    days = session_days([s.between(job.start, job.end) for s in series])
    metrics = compute_metrics(trades.loc[:, list(TRADE_COLUMNS)], job.capital, days)
    return {**job.params, **{k: metrics.get(k) for k in _REPORTED}}


_REPORTED = ("trades", "win_rate", "net_pnl", "gross_pnl", "charges", "profit_factor", "expectancy",
             "max_drawdown", "sharpe", "sortino", "calmar")


def _run_jobs(series: list[BarSeries], jobs: list[_Job], workers: int, progress: Progress | None,
              master: InstrumentMaster) -> list[dict[str, Any]]:
    wrap = progress or (lambda it: it)
    if workers <= 1 or len(jobs) == 1:
        _init(series, master)
        return [_evaluate(j) for j in wrap(jobs)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(series, master)) as pool:
        return list(wrap(pool.map(_evaluate, jobs)))


def check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}", where="objective")


def rank(rows: list[dict[str, Any]], objective: str) -> pd.DataFrame:
    """Rows sorted best first by ``objective`` (missing values last)."""
    check_objective(objective)
    frame = pd.DataFrame(rows)
    if objective not in frame:
        frame[objective] = None
    key = pd.to_numeric(frame[objective], errors="coerce").fillna(-math.inf)
    return frame.assign(_key=key).sort_values("_key", ascending=False, kind="stable").drop(columns="_key").reset_index(drop=True)


def sweep(
    series: list[BarSeries],
    strategy: str,
    grid: dict[str, list[str]],
    *,
    base: dict[str, str] | None = None,
    objective: str = "net_pnl",
    costs: str = "zerodha",
    capital: float = 1_000_000.0,
    workers: int | None = None,
    progress: Progress | None = None,
    master: InstrumentMaster | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Every grid point's metrics, best first (positions entered in ``[start, end]``; earlier
    bars warm the indicators up)."""
    create(strategy, **(base or {}))  # fail fast on a bad base setting
    check_objective(objective)
    points = grid_points(grid)
    jobs = [_Job(strategy, {**(base or {}), **p}, costs, capital, start, end) for p in points]
    rows = _run_jobs(series, jobs, workers or os.cpu_count() or 1, progress, master or default_master())
    return rank(rows, objective)


@dataclass(frozen=True)
class WalkForwardResult:
    folds: pd.DataFrame
    oos_trades: pd.DataFrame
    oos_metrics: dict[str, Any]


def walk_forward(
    series: list[BarSeries],
    strategy: str,
    grid: dict[str, list[str]],
    *,
    train: int,
    test: int,
    base: dict[str, str] | None = None,
    objective: str = "net_pnl",
    costs: str = "zerodha",
    capital: float = 1_000_000.0,
    workers: int | None = None,
    progress: Progress | None = None,
    master: InstrumentMaster | None = None,
) -> WalkForwardResult:
    """Rolling in-sample optimisation, out-of-sample test; returns folds and the stitched OOS run."""
    if train < 1 or test < 1:
        raise ConfigError("train and test must be at least one session each", where="walkforward")
    check_objective(objective)
    master = master or default_master()
    days = session_days(series)
    if len(days) < train + test:
        raise ConfigError(
            f"{len(days)} sessions of data, need at least train + test = {train + test}", where="walkforward"
        )
    points = grid_points(grid)
    workers = workers or os.cpu_count() or 1
    folds: list[dict[str, Any]] = []
    oos_parts: list[pd.DataFrame] = []
    starts = range(0, len(days) - train - test + 1, test)
    for start in (progress or (lambda it: it))(list(starts)):
        train_days = days[start:start + train]
        test_days = days[start + train:start + train + test]
        window = [s.between(train_days[0], train_days[-1]) for s in series]
        jobs = [_Job(strategy, {**(base or {}), **p}, costs, capital) for p in points]
        ranked = rank(_run_jobs(window, jobs, workers, None, master), objective)
        best = {k: str(ranked.iloc[0][k]) for k in grid}
        full = [s.between(train_days[0], test_days[-1]) for s in series]
        chosen = create(strategy, **{**(base or {}), **best})
        trades = build_trades(simulate_legs(full, [chosen], master=master), cost_model(costs), master)
        keep = set(test_days)
        trades = trades[[t.date() in keep for t in trades["entry_time"]]]
        oos = compute_metrics(trades.loc[:, list(TRADE_COLUMNS)], capital, test_days)
        folds.append({
            "fold": len(folds) + 1,
            "train_from": train_days[0], "train_to": train_days[-1],
            "test_from": test_days[0], "test_to": test_days[-1],
            **{f"best_{k}": v for k, v in best.items()},
            f"is_{objective}": ranked.iloc[0][objective],
            "oos_trades": oos["trades"], "oos_net_pnl": oos["net_pnl"], f"oos_{objective}": oos.get(objective),
        })
        oos_parts.append(trades)
    oos_trades = pd.concat(oos_parts, ignore_index=True) if oos_parts else empty_trades()
    test_span = days[train:train + len(folds) * test]
    oos_metrics = compute_metrics(oos_trades.loc[:, list(TRADE_COLUMNS)], capital, test_span)
    return WalkForwardResult(pd.DataFrame(folds), oos_trades, oos_metrics)
