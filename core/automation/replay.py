"""Headless replay-paper runs: history through the live engine, paper fills (``atw replay``).

The engine, risk checks, order manager and paper broker are the live ones; only the feed (a
:class:`~core.market.feed.ReplayFeed`), the clock (a :class:`~core.clock.SimClock` moved to each
event) and the broker (paper) differ from live trading. Pairs named with ``--arm`` are armed at
each session's first tick, as a trader arming every morning would; the cutoff disarms them.

Every record goes to the run's own journal (``<home>/replays/<run>/journal/``, one file per day)
and, through the journal projector, to the ledger (mode ``replay``). The run's trades are the
journal's: they are folded back from the files just written, so what is reported is what was
recorded.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from core.automation.engine import Engine
from core.automation.live import closer
from core.automation.market_tape import MarketTape
from core.automation.snapshot import Snapshot
from core.clock import IST, SimClock
from core.errors import ConfigError
from core.execution.orders import OrderRequest
from core.execution.paper import PaperBroker
from core.journal.projector import LedgerProjector
from core.journal.reader import iter_records, journal_files
from core.journal.records import RecordType
from core.journal.replay import replay
from core.journal.writer import JournalWriter
from core.market.bars import Bar, BarSeries
from core.market.feed import ReplayFeed
from core.market.instruments import InstrumentMaster, default_master
from core.paths import atw_home
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.simulator.costs import cost_model
from core.simulator.run import build_report, session_days
from core.strategies.base import Strategy

MODE = "replay"


@dataclass(frozen=True)
class ReplayResult:
    trades: pd.DataFrame
    report: dict[str, Any]
    journal_dir: Path
    engine: Engine


def parse_arms(items: Sequence[str], strategies: Iterable[str]) -> list[tuple[str, str]]:
    """``SYMBOL:STRATEGY`` items (``SYMBOL:*`` arms every named strategy)."""
    names = list(strategies)
    arms: list[tuple[str, str]] = []
    for item in items:
        symbol, sep, strategy = item.partition(":")
        if not sep or not symbol.strip() or not strategy.strip():
            raise ConfigError(f"cannot read {item!r}: use SYMBOL:STRATEGY", where="--arm")
        chosen = names if strategy.strip() == "*" else [strategy.strip()]
        for name in chosen:
            if name not in names:
                raise ConfigError(f"{name} is armed but not named with --strategy (named: {', '.join(names)})",
                                  where="--arm")
            arms.append((symbol.strip().upper(), name))
    return arms


def next_run_dir(home: Path) -> tuple[str, Path]:
    """A fresh ``<home>/replays/rN`` (N counts up): each run keeps its own journal."""
    root = home / "replays"
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name[1:]) for p in root.iterdir() if p.name.startswith("r") and p.name[1:].isdigit()]
    run = f"r{max(taken, default=0) + 1}"
    return run, root / run


@dataclass
class ReplaySession:
    """A replay-paper engine wired to its feed, journal and ledger, ready to be driven."""

    engine: Engine
    feed: ReplayFeed
    run_id: str
    run_dir: Path
    close: Callable[[], None]

    @property
    def journal_dir(self) -> Path:
        return self.run_dir / "journal"


def open_replay_session(
    series: Sequence[BarSeries],
    strategies: Sequence[Strategy],
    arms: Sequence[tuple[str, str]],
    *,
    costs: str = "none",
    priority: str = "best",
    speed: float | None = None,
    limits: RiskLimits | None = None,
    master: InstrumentMaster | None = None,
    home: Path | None = None,
    ledger: bool = True,
    batch_ms: float = 50.0,
    run: tuple[str, Path] | None = None,
    warmup: Sequence[Bar] = (),
    tape: MarketTape | None = None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    snapshot_hz: float = 10.0,
) -> ReplaySession:
    """Build the engine, paper broker, journal and ledger projection of one replay run.

    ``warmup`` bars (oldest first, before the replayed ones) warm the indicators up as the
    history a live start fetches would. The caller drives ``engine`` with ``feed.events()``, then
    calls ``engine.finish()`` and ``close()`` (journal flushed, ledger closed), even on error.
    """
    if not series or not any(len(s) for s in series):
        raise ConfigError("no bars to replay", where="--data")
    home = home if home is not None else atw_home()
    master = master or default_master()
    run_id, run_dir = run or next_run_dir(home)
    by_name = {s.name: s for s in strategies}
    first = min(s.frame.index[0] for s in series if len(s)).to_pydatetime()
    clock = SimClock(first - dt.timedelta(minutes=1))
    limits = limits or RiskLimits()
    broker = PaperBroker(master, slippage_for=_slippage_of(by_name))
    risk = RiskEngine(limits, PaperRms(limits.capital, master), clock)
    writer = JournalWriter(clock, MODE, home=run_dir, batch_ms=batch_ms)
    projector = _ledger_projector(master) if ledger else None

    def record(rtype: RecordType, payload: Mapping[str, Any], trace: str) -> None:
        rec = writer.append(rtype, payload, trace)
        if projector is not None:
            projector.apply(rec)

    engine = Engine(clock, broker, risk, by_name, record=record, master=master, mode=MODE, costs=costs,
                    priority=priority, id_prefix=f"{run_id}|", tape=tape, on_snapshot=on_snapshot,
                    snapshot_hz=snapshot_hz)
    engine.standing_arms = list(arms)
    engine.warm(warmup)

    return ReplaySession(engine, ReplayFeed(series, speed=speed), run_id, run_dir, closer(writer, projector))


def run_replay(
    series: Sequence[BarSeries],
    strategies: Sequence[Strategy],
    arms: Sequence[tuple[str, str]],
    *,
    costs: str = "none",
    capital: float = 1_000_000.0,
    priority: str = "best",
    speed: float | None = None,
    limits: RiskLimits | None = None,
    master: InstrumentMaster | None = None,
    home: Path | None = None,
    ledger: bool = True,
    batch_ms: float = 50.0,
    run: tuple[str, Path] | None = None,
    on_engine: Callable[[Engine], None] | None = None,
    warmup: Sequence[Bar] = (),
) -> ReplayResult:
    """Replay ``series`` through the engine with ``arms`` (``warmup``: earlier bars, indicators
    only); the trades and the simulator's report."""
    master = master or default_master()
    started = time.perf_counter()
    session = open_replay_session(series, strategies, arms, costs=costs, priority=priority, speed=speed,
                                  limits=limits, master=master, home=home, ledger=ledger, batch_ms=batch_ms,
                                  run=run, warmup=warmup)
    engine = session.engine
    if on_engine is not None:
        on_engine(engine)
    try:
        engine.run(session.feed.events())
        engine.finish()
    finally:
        session.close()
    trades = _journal_trades(session.run_dir, costs, master)
    shown = list(series)
    report = build_report(trades, shown, strategies, session_days(shown), capital)
    elapsed = time.perf_counter() - started  # wall time of the run, for the report only
    bars = sum(len(s) for s in series)
    report.update(engine="replay", costs=costs, priority=priority, bars=bars, elapsed_s=round(elapsed, 6),
                  bars_per_s=round(bars / elapsed, 1) if elapsed > 0 else None,
                  run=session.run_id, journal=str(session.journal_dir), refusals=engine.refusals,
                  alerts=len(engine.alerts))
    return ReplayResult(trades, report, session.journal_dir, engine)


def window_split(series: Sequence[BarSeries], start: dt.date | None, end: dt.date | None
                 ) -> tuple[list[Bar], list[BarSeries]]:
    """``--from``/``--to`` for a run through the engine: the bars before ``start`` warm the
    indicators up (as the fast simulator uses them), the rest up to ``end`` (inclusive) is replayed."""
    cut = [s.between(None, end) for s in series] if end else list(series)
    if start is None:
        return [], cut
    return resume_split(cut, dt.datetime.combine(start, dt.time(0), IST))


def resume_split(series: Sequence[BarSeries], after: dt.datetime) -> tuple[list[Bar], list[BarSeries]]:
    """Where a replay stopped at ``after`` goes on: the bars started before it (the engine's
    warm-up, oldest first; a bar cut by the stop is history now, as a live restart would fetch
    it) and the series from the first bar starting at or after it."""
    warm: list[Bar] = []
    rest: list[BarSeries] = []
    stamp = pd.Timestamp(after)
    for s in series:
        before = s.frame.index < stamp
        warm += BarSeries(s.symbol, s.frame[before], s.interval_minutes, s.source).bars()
        rest.append(BarSeries(s.symbol, s.frame[~before], s.interval_minutes, s.source))
    warm.sort(key=lambda bar: (bar.start, bar.symbol))
    return warm, rest


def _slippage_of(strategies: Mapping[str, Strategy]) -> Callable[[OrderRequest], Any]:
    def slippage(request: OrderRequest) -> Any:
        return strategies[request.strategy].trade.slippage
    return slippage


def _ledger_projector(master: InstrumentMaster) -> LedgerProjector:
    from core.ledger import Ledger

    return LedgerProjector(Ledger.open(), master, anchors=False)


def _journal_trades(run_dir: Path, costs: str, master: InstrumentMaster) -> pd.DataFrame:
    """The closed trades folded back from the run's journal files (each one verified)."""
    records = chain.from_iterable(iter_records(path) for path in journal_files(run_dir, mode=MODE))
    return replay(records).trades(cost_model(costs), master)
