"""The statements behind the repository, each on an open connection inside its transaction.

Money, prices and instants are read and bound here as the stored integers (``type_coerce`` to
BIGINT skips the column types' Decimal/Timestamp conversion), so bulk paths stay fast and exact.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Connection, String, delete, func, insert, select, type_coerce
from sqlalchemy.types import TypeDecorator

from core.errors import LedgerError
from core.ledger.frames import ROW_COLUMNS
from core.ledger.models import DaySummary, RuleBreak, Trade, TradingSession
from core.ledger.scope import run_filter
from core.ledger.summaries import LEG_COLUMNS, SUMMARY_FIELDS, summarise
from core.ledger.types import as_day, to_ns

_TEXT_LEGS = ("day", "strategy", "symbol", "side")


def plain(col: Any) -> Any:
    """A money/price/instant column read as stored (ints)."""
    return type_coerce(col, BigInteger) if isinstance(col.type, TypeDecorator) else col


def raw(model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Values already in storage form (ints) bound as they are."""
    table = model.__table__
    return {
        k: type_coerce(v, BigInteger) if isinstance(table.c[k].type, TypeDecorator) and isinstance(v, int) else v
        for k, v in values.items()
    }


def get_session(conn: Connection, session_id: int) -> Any:
    """(id, mode, sim_run_id, day) of a session, or LedgerError."""
    row = conn.execute(
        select(TradingSession.id, TradingSession.mode, TradingSession.sim_run_id, TradingSession.day)
        .where(TradingSession.id == session_id)
    ).first()
    if row is None:
        raise LedgerError(f"no session {session_id} in the ledger", where="session_id")
    return row


def insert_session(conn: Connection, day: dt.date, mode: str, config_hash: str, app_version: str,
                   started_at: Any, sim_run_id: int | None) -> int:
    """A new session row; its id."""
    values = dict(day=day, mode=mode, config_hash=config_hash, app_version=app_version,
                  started_at=to_ns(started_at, "started_at"), sim_run_id=sim_run_id)
    return int(conn.execute(insert(TradingSession).values(**raw(TradingSession, values))).inserted_primary_key[0])


def run_scopes(conn: Connection, mode: str, day: dt.date | None) -> list[int | None]:
    """The run scopes (sim_run_id or None) with sessions or trades in ``mode`` (on ``day``)."""
    found: set[int | None] = set()
    for model in (TradingSession, Trade):
        q = select(model.sim_run_id).where(model.mode == mode).distinct()
        if day is not None:
            q = q.where(model.day == day)
        found |= {r[0] for r in conn.execute(q)}
    return sorted(found, key=lambda r: -1 if r is None else r)


def insert_trades(conn: Connection, rows: dict[str, np.ndarray], session_ids: np.ndarray, mode: str,
                  run: int | None) -> int:
    """Bulk insert of frame_to_rows() output; the id of the first row (ids are consecutive)."""
    n = len(rows["day"])
    before = int(conn.execute(select(func.coalesce(func.max(Trade.id), 0))).scalar_one())
    if n:
        cols = ["session_id", "sim_run_id", "mode", *ROW_COLUMNS]
        data = [session_ids.tolist(), [run] * n, [mode] * n, *(rows[c].tolist() for c in ROW_COLUMNS)]
        conn.exec_driver_sql(
            f"INSERT INTO trades ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(zip(*data))
        )
    return before + 1


def legs_from_rows(rows: dict[str, np.ndarray], first_id: int) -> dict[str, np.ndarray]:
    """The summary input (LEG_COLUMNS) of rows just inserted from first_id on."""
    n = len(rows["day"])
    return {
        "day": rows["day"], "strategy": rows["strategy"], "symbol": rows["symbol"], "side": rows["side"],
        "entry_ns": rows["entry_time"], "exit_ns": rows["exit_time"], "seq": np.arange(first_id, first_id + n),
        "qty": rows["qty"], "points": rows["points"], "gross": rows["gross"], "charges": rows["charges"],
        "net": rows["net"],
    }


def refresh(conn: Connection, mode: str, run: int | None, days: list[Any] | None) -> list[dict[str, Any]]:
    """Recompute and rewrite the summaries of ``days`` (None: all) of one mode x run scope."""
    t, s, b = Trade.__table__, TradingSession.__table__, RuleBreak.__table__
    day_list = None if days is None else [as_day(d) for d in days]

    def where(table: Any) -> list[Any]:
        conds = [table.c.mode == mode]
        if table is not b:
            conds.append(run_filter(table, run))
        if day_list is not None:
            conds.append(table.c.day.in_(day_list))
        return conds

    cols = [type_coerce(t.c.day, String)] + [
        plain(t.c[c]) for c in ("strategy", "symbol", "side", "entry_time", "exit_time", "id",
                                "qty", "points", "gross", "charges", "net")
    ]
    found = conn.execute(select(*cols).where(*where(t))).all()
    legs = {name: np.array(col, dtype=object if name in _TEXT_LEGS else np.int64)
            for name, col in zip(LEG_COLUMNS, zip(*found) if found else [()] * len(LEG_COLUMNS))}
    breaks: dict[tuple[str, str | None], int] = {}
    if run is None:
        q = (select(type_coerce(b.c.day, String), b.c.strategy, func.count())
             .where(*where(b)).group_by(b.c.day, b.c.strategy))
        breaks = {(d, st): int(n) for d, st, n in conn.execute(q)}
    session_days = [d for (d,) in conn.execute(select(type_coerce(s.c.day, String)).where(*where(s)).distinct())]
    rows = summarise(legs, breaks, session_days)
    write_summaries(conn, rows, mode, run, day_list)
    return rows


def write_summaries(conn: Connection, rows: list[dict[str, Any]], mode: str, run: int | None,
                    days: list[dt.date] | None) -> None:
    """Replace the summaries of ``days`` (None: all) of one mode x run scope with ``rows``."""
    d = DaySummary.__table__
    conds = [d.c.mode == mode, run_filter(d, run)]
    if days is not None:
        conds.append(d.c.day.in_(days))
    conn.execute(delete(d).where(*conds))
    if rows:
        cols = ["mode", "sim_run_id", *SUMMARY_FIELDS]
        conn.exec_driver_sql(
            f"INSERT INTO day_summaries ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [(mode, run, *(r[f] for f in SUMMARY_FIELDS)) for r in rows],
        )
