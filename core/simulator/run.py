"""Run strategies over history: the fast research path or the bar-by-bar event path.

Both paths take the same inputs and give the same trades. The **fast** path computes each
strategy's vectorized signals and runs the compiled trade-management kernel once per
(instrument, strategy). The **event** path feeds bars one at a time, in time order across
instruments, through each strategy's streaming twin and a :class:`TradeManager` — the objects
the live engine hosts. Fills are at the next bar's open plus slippage (``next_open``).
"""

from __future__ import annotations

import datetime as dt
import heapq
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.clock import NseCalendar, nse_calendar
from core.errors import ConfigError, DataError
from core.market.bars import IST_OFFSET_NS, Bar, BarSeries
from core.market.instruments import InstrumentMaster, default_master
from core.simulator.costs import CostModel, NoCosts
from core.simulator.kernel import run_fast
from core.simulator.legs import LegColumns, concat, from_kernel, from_trade_legs
from core.simulator.metrics import compute_metrics, per_strategy, per_symbol, worst_day
from core.simulator.trades import TRADE_COLUMNS, build_trades
from core.strategies.base import Strategy
from core.strategies.priority import prioritise, prioritise_one
from core.trading.manager import TradeLeg, TradeListener, TradeManager

ENGINES = ("fast", "event")
FILLS = ("next_open",)
NS_PER_MINUTE = 60_000_000_000


@dataclass(frozen=True)
class SimResult:
    """Trades (one row per leg), the report dict, and how long the run took."""

    trades: pd.DataFrame
    report: dict[str, Any]
    legs: LegColumns = field(repr=False)


def _check(strategies: Sequence[Strategy], engine: str) -> None:
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; use fast or event", where="engine")
    names = [s.name for s in strategies]
    if not names:
        raise ConfigError("name at least one strategy", where="strategy")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"strategy {dupes[0]} named twice; run a sweep to compare settings", where="strategy")


def simulate_legs(
    series: Sequence[BarSeries],
    strategies: Sequence[Strategy],
    *,
    engine: str = "fast",
    master: InstrumentMaster | None = None,
    priority: str = "best",
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    listener: TradeListener | None = None,
) -> LegColumns:
    """Closed trade legs of every (instrument, strategy): the simulator's core.

    ``listener`` (event engine only) is told of every fill as it happens (e.g. a journal).
    """
    _check(strategies, engine)
    master = master or default_master()
    wrap = progress or (lambda it: it)
    if engine == "fast":
        if listener is not None:
            raise ConfigError("recording fills as they happen needs the event engine", where="engine")
        return _fast(series, strategies, master, priority, wrap)
    return _event(series, strategies, master, priority, wrap, listener)


def _tick(master: InstrumentMaster, s: BarSeries) -> float:
    return master.for_prices(s.symbol, s.arrays.close).tick_size


def _fast(series, strategies, master, priority, wrap) -> LegColumns:  # type: ignore[no-untyped-def]
    parts: list[LegColumns] = []
    for s in wrap(series):
        if not len(s):
            continue
        arrays = s.arrays
        signals = prioritise({st.name: st.signals(arrays) for st in strategies}, priority)
        tick = _tick(master, s)
        for st in strategies:
            legs = run_fast(arrays, signals[st.name], st.trade, tick)
            parts.append(from_kernel(legs, arrays, s.symbol, st.name, s.interval_minutes * NS_PER_MINUTE))
    return concat(parts)


def _event(series, strategies, master, priority, wrap, listener=None) -> LegColumns:  # type: ignore[no-untyped-def]
    books = []
    for s in series:
        if not len(s):
            continue
        tick = _tick(master, s)
        books.append(
            (
                s.bars(),
                {st.name: st.stream() for st in strategies},
                {st.name: TradeManager(s.symbol, st.name, st.trade, tick, listener) for st in strategies},
            )
        )
    merged = heapq.merge(*[_keyed(k, bars) for k, (bars, _, _) in enumerate(books)])
    out: list[TradeLeg] = []
    for _start, k, j in wrap(merged):
        bars, streams, managers = books[k]
        bar: Bar = bars[j]
        for tm in managers.values():
            out.extend(tm.on_bar(bar))
        decided = prioritise_one({name: st.update(bar) for name, st in streams.items()}, priority)
        last = j + 1 == len(bars) or bars[j + 1].start.date() != bar.start.date()
        for name, tm in managers.items():
            if last:
                out.extend(tm.close_session(bar))
            else:
                tm.on_signal(decided[name], bar)
    return from_trade_legs(out)


def _keyed(book: int, bars: list[Bar]) -> Iterable[tuple[dt.datetime, int, int]]:
    """(start, book, index) for each bar, the merge key that interleaves instruments in time."""
    return ((bar.start, book, j) for j, bar in enumerate(bars))


def session_days(series: Sequence[BarSeries], calendar: NseCalendar | None = None) -> list[dt.date]:
    """Every NSE session from the first to the last day of the data."""
    days = [d for s in series for d in (s.frame.index[0].date(), s.frame.index[-1].date()) if len(s)]
    if not days:
        return []
    cal = calendar or nse_calendar()
    return [sess.day for sess in cal.sessions(min(days), max(days))]


def in_window(legs: LegColumns, start: dt.date | None, end: dt.date | None) -> LegColumns:
    """The legs whose position was entered on a day in ``[start, end]`` (IST)."""
    if start is None and end is None:
        return legs
    days = (legs.entry_ns + IST_OFFSET_NS) // (NS_PER_MINUTE * 1440)
    keep = np.ones(len(legs), dtype=bool)
    if start is not None:
        keep &= days >= (start - _EPOCH_DAY).days
    if end is not None:
        keep &= days <= (end - _EPOCH_DAY).days
    return LegColumns(*(getattr(legs, f)[keep] for f in LegColumns.__dataclass_fields__))


_EPOCH_DAY = dt.date(1970, 1, 1)


def simulate(
    series: Sequence[BarSeries],
    strategies: Sequence[Strategy],
    *,
    engine: str = "fast",
    costs: CostModel | None = None,
    master: InstrumentMaster | None = None,
    capital: float = 1_000_000.0,
    priority: str = "best",
    fill: str = "next_open",
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    listener: TradeListener | None = None,
) -> SimResult:
    """Run, price and measure: the trades table and the report of DESIGN.md §4.

    With ``start``/``end``, only positions entered on those days count; the bars before
    ``start`` still run through the strategies, so their indicators are warmed up.
    """
    if fill not in FILLS:
        raise ConfigError(f"unknown fill model {fill!r}; supported: next_open", where="fill")
    master = master or default_master()
    costs = costs or NoCosts()
    started = time.perf_counter()
    if end is not None:
        series = [s.between(None, end) for s in series]
    legs = simulate_legs(series, strategies, engine=engine, master=master, priority=priority, progress=progress,
                         listener=listener)
    legs = in_window(legs, start, end)
    core_s = time.perf_counter() - started
    trades = build_trades(legs, costs, master)
    shown = [s.between(start, end) for s in series] if start is not None else list(series)
    if not any(len(s) for s in shown):
        raise DataError(f"no bars between {start or '-'} and {end or '-'}", where="--from/--to")
    days = session_days(shown)
    report = build_report(trades, shown, strategies, days, capital)
    elapsed = time.perf_counter() - started
    bars = sum(len(s) for s in shown)
    # Wall-clock figures of this run, including numba's one-time start-up on a process's first
    # run (about a second); tests/bench/sim_bench.py measures the warm core.
    report.update(
        engine=engine,
        costs=getattr(costs, "name", "custom"),
        fill=fill,
        priority=priority,
        bars=bars,
        elapsed_s=round(elapsed, 6),
        bars_per_s=round(bars / elapsed, 1) if elapsed > 0 else None,
        core_elapsed_s=round(core_s, 6),
        core_bars_per_s=round(sum(len(s) for s in series) * len(strategies) / core_s, 1) if core_s > 0 else None,
    )
    return SimResult(trades=trades, report=report, legs=legs)


def build_report(
    trades: pd.DataFrame,
    series: Sequence[BarSeries],
    strategies: Sequence[Strategy],
    days: list[dt.date],
    capital: float,
) -> dict[str, Any]:
    contract = trades.loc[:, list(TRADE_COLUMNS)]
    report: dict[str, Any] = dict(compute_metrics(contract, capital, days))
    report["per_strategy"] = per_strategy(contract, capital, days)
    report["per_symbol"] = per_symbol(contract, capital, days)
    report["exit_reasons"] = {str(k): int(v) for k, v in trades["exit_reason"].value_counts().sort_index().items()}
    report["strategies"] = {st.name: st.describe() for st in strategies}
    report["data"] = [
        {
            "symbol": s.symbol,
            "source": s.source,
            "bars": len(s),
            "interval_minutes": s.interval_minutes,
            "first": s.frame.index[0].isoformat() if len(s) else None,
            "last": s.frame.index[-1].isoformat() if len(s) else None,
        }
        for s in series
    ]
    report["first_day"] = days[0].isoformat() if days else None
    report["last_day"] = days[-1].isoformat() if days else None
    report["worst_day_pnl"] = worst_day(trades)[1]
    report["refusals"] = None  # entries the risk checks refused: a run through the engine counts them
    return report
