"""A canonical picture of a ledger, for proving two ledgers equal ("rebuilt from the journal ==
written live, to the paisa").

Surrogate ids are replaced by natural keys (a session by day, mode, config hash, app version,
simulator run ordinal and its ordinal among equal sessions; an order by its client order id; a
simulator run by its ordinal), and wall-clock bookkeeping is left out (sessions' started/ended,
orders' created/updated, runs' created_at). Money stays in integer paise, prices in 0.0001
units and instants in UTC epoch ns, so equality is exact. Rows are sorted, so recording order
does not matter, except where it changes a number (a day summary's drawdown), which is compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import BigInteger, Connection, String, select, type_coerce
from sqlalchemy.types import TypeDecorator

from core.ledger.models import DaySummary, Fill, Order, RuleBreak, SimRun, Trade, TradingSession

_SKIP = {"id", "session_id", "sim_run_id", "order_id", "started_at", "ended_at", "created_at", "updated_at"}


@dataclass(frozen=True)
class LedgerSnapshot:
    """Sorted tuples per table; ``==`` is the ledger equality, :meth:`diff` says where they differ."""

    sim_runs: tuple[tuple[Any, ...], ...]
    sessions: tuple[tuple[Any, ...], ...]
    orders: tuple[tuple[Any, ...], ...]
    fills: tuple[tuple[Any, ...], ...]
    trades: tuple[tuple[Any, ...], ...]
    day_summaries: tuple[tuple[Any, ...], ...]
    rule_breaks: tuple[tuple[Any, ...], ...]

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}

    def diff(self, other: LedgerSnapshot, limit: int = 5) -> list[str]:
        """Human-readable differences (at most ``limit`` per table); empty when equal."""
        out: list[str] = []
        for f in fields(self):
            mine, theirs = set(getattr(self, f.name)), set(getattr(other, f.name))
            only_a = sorted(mine - theirs, key=repr)[:limit]
            only_b = sorted(theirs - mine, key=repr)[:limit]
            out += [f"{f.name}: only in first: {row}" for row in only_a]
            out += [f"{f.name}: only in second: {row}" for row in only_b]
            if not only_a and not only_b and getattr(self, f.name) != getattr(other, f.name):
                out.append(f"{f.name}: same rows, different multiplicity")
        return out


def take(conn: Connection) -> LedgerSnapshot:
    """Read every table through ``conn`` into a :class:`LedgerSnapshot`."""
    runs = _rows(conn, SimRun, order="id")
    run_key = {r["id"]: i + 1 for i, r in enumerate(runs)}
    sessions = _rows(conn, TradingSession, order="id")
    seen: dict[tuple[Any, ...], int] = {}
    session_key: dict[int, tuple[Any, ...]] = {}
    for s in sessions:
        base = (s["day"], s["mode"], s["config_hash"], s["app_version"], run_key.get(s["sim_run_id"]))
        seen[base] = seen.get(base, 0) + 1
        session_key[s["id"]] = (*base, seen[base])
    orders = _rows(conn, Order, order="id")
    order_key = {o["id"]: o["client_order_id"] for o in orders}
    return LedgerSnapshot(
        sim_runs=_sorted((run_key[r["id"]], *_values(r)) for r in runs),
        sessions=_sorted(session_key.values()),
        orders=_sorted((session_key[o["session_id"]], *_values(o)) for o in orders),
        fills=_sorted((order_key[f["order_id"]], *_values(f)) for f in _rows(conn, Fill, order="id")),
        trades=_sorted(
            (session_key[t["session_id"]], run_key.get(t["sim_run_id"]), *_values(t)) for t in _rows(conn, Trade, order="id")
        ),
        day_summaries=_sorted((run_key.get(d["sim_run_id"]), *_values(d)) for d in _rows(conn, DaySummary, order="id")),
        rule_breaks=_sorted((session_key[b["session_id"]], *_values(b)) for b in _rows(conn, RuleBreak, order="id")),
    )


def _rows(conn: Connection, model: Any, order: str) -> list[dict[str, Any]]:
    table = model.__table__
    cols = [
        type_coerce(c, BigInteger) if isinstance(c.type, TypeDecorator)
        else type_coerce(c, String) if c.name in ("day", "first_day", "last_day") else c
        for c in table.c
    ]
    names = [c.name for c in table.c]
    return [dict(zip(names, r)) for r in conn.execute(select(*cols).order_by(table.c[order]))]


def _values(row: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for k, v in row.items():
        if k in _SKIP:
            continue
        if isinstance(v, (dict, list)):
            v = json.dumps(v, sort_keys=True)
        out.append((k, v))
    return tuple(out)


def _sorted(rows: Any) -> tuple[tuple[Any, ...], ...]:
    return tuple(sorted(rows, key=repr))
