"""The embedded default: a replay-paper session on the bundled demo data, ready to be watched.

The workstation opens on it when started with no arguments: the three synthetic demo
instruments, all four strategies armed on each at the session's open (as a trader arming every
morning would), paper fills with Zerodha charges and a tick of slippage, played at a watchable
speed from :data:`DEMO_PLAY_FROM`; the sessions before it warm the indicators and the chart up,
as the history a live start fetches would. Its journal and ledger rows (mode ``replay``) are
real: the journal, ledger and simulator tabs show what it did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from core.automation.market_tape import MarketTape
from core.automation.replay import ReplaySession, open_replay_session, resume_split
from core.automation.snapshot import Snapshot
from core.clock import IST
from core.errors import DataError
from core.market.loader import load_many
from core.paths import atw_home, resource
from core.risk.settings import load_limits
from core.strategies import REGISTRY, create

DEMO_SPEED = 60.0  # a minute of market time a second: a session in about six minutes
DEMO_PLAY_FROM = dt.datetime(2025, 1, 21, 9, 15, tzinfo=IST)  # the last six demo sessions play
DEMO_QTY = 50


def demo_files() -> list[Path]:
    """The bundled demo bar files."""
    files = sorted(resource("demo").glob("*.csv"))
    if not files:
        raise DataError("the bundled demo data is missing", where=str(resource("demo")))
    return files


def demo_strategy_names() -> list[str]:
    return sorted(REGISTRY)


def open_demo_session(
    *,
    speed: float | None = DEMO_SPEED,
    home: Path | None = None,
    tape: MarketTape | None = None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    snapshot_hz: float = 10.0,
    play_from: dt.datetime = DEMO_PLAY_FROM,
    ledger: bool = True,
    run: tuple[str, Path] | None = None,
) -> ReplaySession:
    """The demo as a :class:`ReplaySession` (see the module docstring)."""
    data = load_many([str(f) for f in demo_files()])
    names = demo_strategy_names()
    strategies = [create(name, qty=str(DEMO_QTY), slippage="1tick") for name in names]
    warm, rest = resume_split(data.series, play_from)
    arms = [(s.symbol, name) for s in data.series for name in names]
    limits = load_limits(home if home is not None else atw_home())  # config.toml's [risk], when there is one
    return open_replay_session(rest, strategies, arms, costs="zerodha", speed=speed, home=home, ledger=ledger,
                               warmup=warm, tape=tape, on_snapshot=on_snapshot, snapshot_hz=snapshot_hz,
                               run=run, limits=limits)
