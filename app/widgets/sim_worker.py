"""The simulator tab's background work: load bar files, run the simulator, save to the ledger.

Everything here except :class:`SimWorker` and :class:`LoadWorker` is plain Python (no Qt): the
settings of a run, building it with the same core functions ``atw sim`` uses
(``build_strategies``, ``load_many``, ``simulate``, ``cost_model``), and the immutable result.
The two workers run that code on a thread pool and report through signals, which Qt queues
to the UI thread. A run is cancelled between progress steps: the progress wrapper raises
:class:`Cancelled` inside ``simulate``'s loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from PySide6.QtCore import QObject, QRunnable, Signal

from core.automation.replay import window_split
from core.cli import build_strategies
from core.errors import AtwError, ConfigError, DataError
from core.market.bars import BarSeries
from core.market.loader import LoadResult, load_many
from core.paths import atw_home
from core.risk.settings import load_limits
from core.simulator.costs import cost_model
from core.simulator.risk_compare import run_guarded
from core.simulator.run import simulate
from core.strategies import Strategy

log = logging.getLogger(__name__)

ProgressHook = Callable[[int, int], None]
REPORT_EVERY_S = 0.05


class Cancelled(Exception):
    """Raised between simulator steps when the trader pressed Cancel (never shown as an error)."""


@dataclass(frozen=True)
class SimSettings:
    """Everything that decides a run, as the trader entered it (the ``atw sim`` options)."""

    files: tuple[str, ...]
    strategies: tuple[str, ...]
    symbols: tuple[str, ...] | None = None  # None: every instrument in the files
    sets: tuple[str, ...] = ()  # "key=value" / "strategy.key=value" lines, as --set
    qty: int | None = None
    capital: float = 1_000_000.0
    costs: str = "zerodha"
    slippage: str | None = None
    engine: str = "fast"
    priority: str = "best"
    fill: str = "next_open"
    start: dt.date | None = None
    end: dt.date | None = None
    save_to_ledger: bool = True
    risk: tuple[str, ...] = ()  # "key=value" risk settings, as --risk: the run goes through the live engine

    def all_sets(self) -> list[str]:
        """The ``--set`` items with ``--slippage`` folded in, exactly as ``core.cli.main`` does."""
        return [*self.sets, *([f"slippage={self.slippage}"] if self.slippage else [])]

    def cli_argv(self) -> list[str]:
        """The equivalent ``atw sim`` command line (without an instrument filter, which it lacks)."""
        argv = ["sim", *[x for f in self.files for x in ("--data", f)]]
        argv += [x for s in self.strategies for x in ("--strategy", s)]
        argv += [x for s in self.sets for x in ("--set", s)]
        if self.qty is not None:
            argv += ["--qty", str(self.qty)]
        argv += ["--capital", repr(float(self.capital)), "--costs", self.costs]
        if self.slippage:
            argv += ["--slippage", self.slippage]
        argv += ["--engine", self.engine, "--priority", self.priority, "--fill", self.fill]
        if self.start:
            argv += ["--from", self.start.isoformat()]
        if self.end:
            argv += ["--to", self.end.isoformat()]
        argv += [x for r in self.risk for x in ("--risk", r)]
        return argv if self.save_to_ledger else [*argv, "--no-ledger"]


@dataclass(frozen=True)
class SimRun:
    """A finished run: its settings, trades (one row per leg), the core's report, and a label.

    Treat ``trades`` and ``report`` as read-only: several views share them.
    """

    settings: SimSettings
    trades: pd.DataFrame = field(repr=False)
    report: dict[str, Any] = field(repr=False)
    label: str
    series: tuple[BarSeries, ...] = field(repr=False, default=())
    ledger_run: int | None = None
    ledger_error: str | None = None

    @property
    def net_pnl(self) -> float:
        return float(self.report["net_pnl"])

    def bars_for(self, symbol: str) -> pd.DataFrame:
        """The bars of ``symbol`` this run traded on (KeyError if it had none)."""
        for s in self.series:
            if s.symbol == symbol:
                return s.frame
        raise KeyError(f"{symbol} is not in run {self.label!r}")


# -- pure helpers (candidates for core; see the module doc) -------------------------------------

_cache_lock = threading.Lock()
_cache: dict[tuple[tuple[str, int, int], ...], LoadResult] = {}
_CACHE_SIZE = 4


def _file_key(files: Sequence[str]) -> tuple[tuple[str, int, int], ...]:
    key = []
    for f in files:
        path = Path(f)
        if not path.is_file():
            raise DataError("file not found", where=str(path))
        st = path.stat()
        key.append((str(path.resolve()), st.st_mtime_ns, st.st_size))
    return tuple(key)


def load_files(files: Sequence[str]) -> LoadResult:
    """``load_many(files)`` as ``atw sim`` loads them (strict policy), memoised by path, mtime and size.

    A re-run over unchanged files reuses the loaded series (they are immutable).
    """
    if not files:
        raise ConfigError("choose at least one data file", where="data files")
    key = _file_key(files)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    result = load_many(files)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
    return result


def pick_series(data: LoadResult, symbols: Sequence[str] | None) -> list[BarSeries]:
    """The loaded series of the chosen instruments (all when ``symbols`` is None)."""
    if symbols is None:
        return list(data.series)
    if not symbols:
        raise ConfigError("tick at least one instrument", where="instruments")
    missing = sorted(set(symbols) - set(data.symbols))
    if missing:
        raise ConfigError(f"{missing[0]} is not in the chosen files ({', '.join(data.symbols)})", where="instruments")
    return [s for s in data.series if s.symbol in symbols]


def progress_wrapper(
    report: ProgressHook, cancelled: threading.Event, steps_without_len: int
) -> Callable[[Iterable[Any]], Iterable[Any]]:
    """The ``progress`` hook of ``simulate``: counts finished steps, and stops when cancelled.

    The fast engine wraps the list of series (a few long steps: each is reported); the event
    engine a merged bar iterator without a length, whose total is ``steps_without_len`` (its
    bars). Many short steps are reported at most every ``REPORT_EVERY_S`` and always at the
    end: each report is a queued signal the UI thread must take the GIL to handle, and a
    flood of them makes the progress bar lag seconds behind the run.
    """

    def wrap(iterable: Iterable[Any]) -> Iterator[Any]:
        total = len(iterable) if hasattr(iterable, "__len__") else steps_without_len  # type: ignore[arg-type]
        total = max(total, 1)
        every_step = total <= 100
        last = time.monotonic()
        report(0, total)
        for done, item in enumerate(iterable, start=1):
            if cancelled.is_set():
                raise Cancelled
            yield item
            if every_step or done >= total or time.monotonic() - last >= REPORT_EVERY_S:
                last = time.monotonic()
                report(min(done, total), total)

    return wrap


def save_run(result: Any, strategies: Sequence[Strategy], series: Sequence[BarSeries], *,
             engine: str, costs: str) -> int:
    """Record the run in the ledger as ``atw sim`` does (``core.cli._save_run``); its run id."""
    from core.clock import LiveClock
    from core.ledger import Ledger

    prints = "|".join(s.fingerprint() for s in series)
    with Ledger.open() as ledger:
        return ledger.record_sim_run(
            result.report, result.trades, engine=engine, costs=costs,
            strategies=[s.name for s in strategies], parameters={s.name: s.describe() for s in strategies},
            data_fingerprint=hashlib.sha256(prints.encode()).hexdigest(), created_at=LiveClock().now(),
        )


def execute(
    settings: SimSettings,
    *,
    label: str,
    progress: ProgressHook,
    phase: Callable[[str], None],
    cancelled: threading.Event,
) -> SimRun:
    """Build and run ``settings`` with the core (as ``cmd_sim``); raises AtwError or Cancelled."""
    strategies = build_strategies(list(settings.strategies), settings.all_sets(), settings.qty)
    costs = cost_model(settings.costs)
    phase("loading data")
    data = load_files(settings.files)
    series = pick_series(data, settings.symbols)
    if cancelled.is_set():
        raise Cancelled
    cut = [s.between(None, settings.end) for s in series] if settings.end else series
    if settings.risk:
        phase("simulating the portfolio under the risk settings (through the live engine)")
        limits = load_limits(atw_home(), settings.risk, capital=settings.capital)
        warm, window = window_split(series, settings.start, settings.end)
        result: Any = run_guarded([s for s in window if len(s)], strategies, limits, costs=settings.costs,
                                  priority=settings.priority, warmup=warm)
    else:
        phase("simulating")
        result = simulate(
            series, strategies, engine=settings.engine, costs=costs, capital=settings.capital,
            priority=settings.priority, fill=settings.fill, start=settings.start, end=settings.end,
            progress=progress_wrapper(progress, cancelled, sum(len(s) for s in cut)),
        )
    result.report["data_quality"] = data.report.to_dict()
    if cancelled.is_set():
        raise Cancelled
    run_id, ledger_error = None, None
    if settings.save_to_ledger:
        phase("saving to the ledger")
        try:
            run_id = save_run(result, strategies, series, engine=str(result.report.get("engine", settings.engine)),
                              costs=settings.costs)
            result.report["ledger_run"] = run_id
        except AtwError as exc:  # the run itself is good: show it, and say why it was not saved
            ledger_error = str(exc)
    return SimRun(settings, result.trades, result.report, label, tuple(series), run_id, ledger_error)


def error_text(exc: BaseException) -> str:
    """One line for the trader: the core's typed message (what and where), never a traceback."""
    if isinstance(exc, AtwError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file"
    return f"unexpected {type(exc).__name__}: {exc}"


# -- Qt workers ------------------------------------------------------------------------------------


class WorkerSignals(QObject):
    """Signals of one background job (created on the UI thread, so slots run there)."""

    progress = Signal(int, int)  # done, total steps
    phase = Signal(str)
    finished = Signal(object)  # SimRun (SimWorker) or LoadResult (LoadWorker)
    failed = Signal(str)
    cancelled = Signal()


class SimWorker(QRunnable):
    """One simulator run on a thread pool; :meth:`cancel` stops it at the next step."""

    def __init__(self, settings: SimSettings, label: str) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the tab keeps it until it reports, so cancel() stays safe
        self.settings = settings
        self.label = label
        self.signals = WorkerSignals()
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancelled.is_set()

    def run(self) -> None:
        started = time.perf_counter()
        try:
            out = execute(self.settings, label=self.label, progress=self.signals.progress.emit,
                          phase=self.signals.phase.emit, cancelled=self._cancelled)
        except Cancelled:
            self.signals.cancelled.emit()
            return
        except Exception as exc:  # noqa: BLE001 - every failure is shown in the tab, none crashes it
            if not isinstance(exc, (AtwError, FileNotFoundError)):
                log.exception("simulator run failed")
            self.signals.failed.emit(error_text(exc))
            return
        log.info("simulator run %s took %.2f s", self.label, time.perf_counter() - started)
        self.signals.finished.emit(out)


class LoadWorker(QRunnable):
    """Load bar files in the background (to list their instruments and warm the cache)."""

    def __init__(self, files: Sequence[str]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.files = tuple(files)
        self.signals = WorkerSignals()

    def run(self) -> None:
        try:
            data = load_files(self.files)
        except Exception as exc:  # noqa: BLE001 - shown in the tab
            if not isinstance(exc, (AtwError, FileNotFoundError)):
                log.exception("loading %s failed", self.files)
            self.signals.failed.emit(error_text(exc))
            return
        self.signals.finished.emit(data)


__all__ = [
    "Cancelled", "LoadWorker", "SimRun", "SimSettings", "SimWorker", "error_text", "execute", "load_files",
    "pick_series", "progress_wrapper", "save_run",
]
