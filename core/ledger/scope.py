"""Which rows a query sees: a mode, and for simulated days which simulator run.

Every simulator run keeps its own sessions, trades and day summaries, so two runs over the same
day never add up. Unless a run is named, a query sees, for each simulated day, the **latest**
run that covered it (the highest run id with a session that day); days of other modes are seen
as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from core.errors import LedgerError
from core.ledger.models import TradingSession
from core.ledger.modes import MODES, SIM


def check_mode(mode: str | None) -> str | None:
    """``mode`` when it is one of MODES (or None)."""
    if mode is not None and mode not in MODES:
        raise LedgerError(f"unknown mode {mode!r}; one of {', '.join(MODES)}", where="mode")
    return mode


def visible(table: Any, mode: str | None, sim_run_id: int | None) -> ColumnElement[bool]:
    """Filter on a table with ``day``, ``mode`` and ``sim_run_id`` columns."""
    check_mode(mode)
    if sim_run_id is not None:
        if mode not in (None, SIM):
            raise LedgerError(f"a simulator run is mode sim, not {mode}", where="--run")
        return and_(table.c.mode == SIM, table.c.sim_run_id == sim_run_id)
    latest = (
        select(func.max(TradingSession.sim_run_id))
        .where(TradingSession.mode == SIM, TradingSession.day == table.c.day)
        .scalar_subquery()
    )
    sim_latest = and_(
        table.c.mode == SIM,
        or_(table.c.sim_run_id == latest, and_(table.c.sim_run_id.is_(None), latest.is_(None))),
    )
    if mode == SIM:
        return sim_latest
    if mode is not None:
        return table.c.mode == mode
    return or_(table.c.mode != SIM, sim_latest)


def run_filter(table: Any, sim_run_id: int | None) -> ColumnElement[bool]:
    """``sim_run_id IS NULL`` or ``= sim_run_id``."""
    return table.c.sim_run_id.is_(None) if sim_run_id is None else table.c.sim_run_id == sim_run_id
