"""The ledger repository: the only door to the ledger database (no SQL outside core/ledger/).

``Ledger.open()`` opens (or creates) ``ATW_HOME/ledger.sqlite``, migrates it to the current
schema and returns the repository. Every write is one transaction that takes the write lock up
front (``BEGIN IMMEDIATE``); if it fails — the file is locked, read-only or the disk is full —
it rolls back whole and raises :class:`~core.errors.LedgerError` naming the file, and what was
committed before stays. Day summaries are rewritten in the same transaction as the trades
that change them, so they are never stale.

Instants are passed in (the ledger never reads the machine's clock); naive times are
Asia/Kolkata. Money comes back as :class:`~decimal.Decimal`, trades as the simulator's frame.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    String,
    exc,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from core import __version__
from core.errors import AtwError, LedgerError
from core.ledger import migrate, simruns
from core.ledger import statements as st
from core.ledger.db import DEFAULT_BUSY_TIMEOUT_S, WRITE, make_engine, translate
from core.ledger.frames import frame_to_rows, rows_to_frame
from core.ledger.models import (
    ORDER_SIDES,
    PURPOSES,
    DaySummary,
    Fill,
    JournalAnchor,
    Order,
    RuleBreak,
    SimRun,
    Trade,
    TradingSession,
)
from core.ledger.modes import ALL, SIM
from core.ledger.scope import check_mode, visible
from core.ledger.summaries import SUMMARY_FIELDS, public, summarise
from core.ledger.types import as_day, day_of, rupees, to_ns, to_units
from core.paths import atw_home
from core.simulator.trades import DETAIL_COLUMNS, TRADE_COLUMNS

if TYPE_CHECKING:
    from core.ledger.snapshot import LedgerSnapshot

LEDGER_FILE = "ledger.sqlite"
EXTRA_COLUMNS = ("mode", "sim_run_id", "position_id", "trace_id")


class DayRow(NamedTuple):
    """One day x mode in the ledger (for mode sim: of one simulator run)."""

    day: dt.date
    mode: str
    trades: int
    net: Decimal  # rupees
    sim_run_id: int | None


class Ledger:
    """Sessions, orders, fills, trades, day summaries and simulator runs in one SQLite file."""

    def __init__(self, engine: Engine, path: Path, *, readonly: bool, busy_timeout_s: float) -> None:
        self._engine: Engine | None = engine
        self._writer = engine.execution_options(**{WRITE: True})
        self.path = path
        self.readonly = readonly
        self._busy = busy_timeout_s
        self._batch: Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, path: Path | str | None = None, *, readonly: bool = False,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, max_pages: int | None = None, durable: bool = True,
    ) -> Ledger:
        """Open (create) the ledger at ``path`` (default ``ATW_HOME/ledger.sqlite``), migrated to
        the current schema. ``readonly`` opens without writing anything (no migration).
        ``durable=False`` skips the fsync per commit: for rebuilding a ledger from the journal,
        which can simply be run again after a crash."""
        path = Path(path) if path is not None else atw_home() / LEDGER_FILE
        if readonly and not path.is_file():
            raise LedgerError("no ledger here yet", where=str(path))
        if not path.parent.is_dir():
            raise LedgerError("the ledger's folder does not exist", where=str(path.parent))
        if not readonly and path.exists() and not os.access(path, os.W_OK):
            raise LedgerError("the ledger file is read-only; make it writable (queries can open it read-only)",
                              where=str(path))
        if not readonly and not os.access(path.parent, os.W_OK):
            raise LedgerError("the ledger's folder is read-only (SQLite must create its -wal/-shm files there)",
                              where=str(path.parent))
        engine = make_engine(path, readonly=readonly, busy_timeout_s=busy_timeout_s, max_pages=max_pages,
                             durable=durable)
        try:
            if readonly:
                with engine.connect() as conn:
                    rev = migrate.check_version(conn, path)
                if rev != migrate.head():
                    raise LedgerError(
                        f"the ledger is at schema revision {rev}, this atw needs {migrate.head()}; "
                        "open it once writable to upgrade it", where=str(path),
                    )
            else:
                migrate.upgrade(engine, path)
        except AtwError:
            engine.dispose()
            raise
        except (exc.SQLAlchemyError, sqlite3.Error) as error:
            engine.dispose()
            raise translate(error, path, "opening of the ledger", busy_timeout_s) from error
        return cls(engine, path, readonly=readonly, busy_timeout_s=busy_timeout_s)

    def close(self) -> None:
        """Release the database (idempotent)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except AtwError:
            raise
        except (exc.SQLAlchemyError, sqlite3.Error) as error:
            raise translate(error, self.path, action, self._busy) from error

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run many writes as one transaction (all or nothing): a rebuild from the journal."""
        if self._batch is not None:
            yield
            return
        with self._write("batch") as conn:
            self._batch = conn
            try:
                yield
            finally:
                self._batch = None

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        if self._engine is None:
            raise LedgerError("the ledger is closed", where=str(self.path))
        if self.readonly:
            raise LedgerError(f"the ledger was opened read-only; nothing of this write ({action}) was saved",
                              where=str(self.path))
        if self._batch is not None:
            with self._guard(action):
                yield self._batch
            return
        with self._guard(action), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self, action: str = "query") -> Iterator[Connection]:
        if self._engine is None:
            raise LedgerError("the ledger is closed", where=str(self.path))
        with self._guard(action), self._engine.connect() as conn:
            yield conn

    # -- sessions, orders, fills, rule breaks --------------------------------------------------

    def start_session(
        self, day: dt.date | str, mode: str, config_hash: str, app_version: str, started_at: Any,
        *, sim_run_id: int | None = None,
    ) -> int:
        """A new trading session; returns its id."""
        check_mode(mode)
        day_ = as_day(day)
        with self._write("session start") as conn:
            sid = st.insert_session(conn, day_, mode, config_hash, app_version, started_at, sim_run_id)
            st.refresh(conn, mode, sim_run_id, [day_])
        return sid

    def open_session(self, day: dt.date | str, mode: str) -> int | None:
        """The newest session of ``day`` and ``mode`` that has not ended (a restart goes on with
        it), or None."""
        t = TradingSession
        with self._read("session lookup") as conn:
            row = conn.execute(select(t.id).where(t.day == as_day(day), t.mode == mode, t.ended_at.is_(None),
                                                  t.sim_run_id.is_(None)).order_by(t.id.desc())).first()
        return None if row is None else int(row[0])

    def end_session(self, session_id: int, ended_at: Any) -> None:
        """Mark a session ended."""
        with self._write("session end") as conn:
            done = conn.execute(
                update(TradingSession).where(TradingSession.id == session_id).values(ended_at=ended_at)
            )
            if done.rowcount == 0:
                raise LedgerError(f"no session {session_id}", where="session_id")

    def record_order(
        self, session_id: int, client_order_id: str, *, symbol: str, strategy: str, side: str, qty: int,
        order_type: str, purpose: str, status: str, created_at: Any, limit_price: Any = None,
        trigger_price: Any = None, reason: str | None = None, position_id: str | None = None,
        trace_id: str | None = None, broker_order_id: str | None = None,
    ) -> int:
        """An order as sent (client order ids are unique); returns its id."""
        if side not in ORDER_SIDES:
            raise LedgerError(f"order side must be BUY or SELL, got {side!r}", where=client_order_id)
        if purpose not in PURPOSES:
            raise LedgerError(f"order purpose must be entry or exit, got {purpose!r}", where=client_order_id)
        if int(qty) <= 0:
            raise LedgerError(f"order qty must be positive, got {qty!r}", where=client_order_id)
        values = dict(
            session_id=session_id, client_order_id=client_order_id, broker_order_id=broker_order_id,
            symbol=symbol, strategy=strategy, side=side, qty=int(qty), order_type=order_type,
            limit_price=_opt_units(limit_price, "limit_price"), trigger_price=_opt_units(trigger_price, "trigger_price"),
            status=status, purpose=purpose, reason=reason, position_id=position_id, trace_id=trace_id,
            created_at=to_ns(created_at, "created_at"), updated_at=to_ns(created_at, "created_at"),
        )
        with self._write("order") as conn:
            st.get_session(conn, session_id)
            if conn.execute(select(Order.id).where(Order.client_order_id == client_order_id)).first():
                raise LedgerError("this client order id is already recorded", where=client_order_id)
            return int(conn.execute(insert(Order).values(**st.raw(Order, values))).inserted_primary_key[0])

    def update_order(
        self, client_order_id: str, *, updated_at: Any, status: str | None = None,
        broker_order_id: str | None = None, reason: str | None = None,
    ) -> None:
        """An acknowledgement or status change of a recorded order."""
        values: dict[str, Any] = {"updated_at": to_ns(updated_at, "updated_at")}
        for key, value in (("status", status), ("broker_order_id", broker_order_id), ("reason", reason)):
            if value is not None:
                values[key] = value
        with self._write("order update") as conn:
            done = conn.execute(update(Order).where(Order.client_order_id == client_order_id).values(**st.raw(Order, values)))
            if done.rowcount == 0:
                raise LedgerError("no such order in the ledger", where=client_order_id)

    def record_fill(
        self, client_order_id: str, fill_id: str, qty: int, fill_price: Any, time: Any, trace_id: str | None = None,
    ) -> int:
        """A fill of a recorded order; a repeated identical fill id is ignored (returns the same id)."""
        units, ns, qty = to_units(fill_price, "fill price"), to_ns(time, "fill time"), int(qty)
        if qty <= 0:
            raise LedgerError(f"fill qty must be positive, got {qty}", where=fill_id)
        with self._write("fill") as conn:
            order = conn.execute(
                select(Order.id, Order.qty).where(Order.client_order_id == client_order_id)
            ).first()
            if order is None:
                raise LedgerError(f"fill {fill_id} is for an order the ledger does not have", where=client_order_id)
            seen = conn.execute(
                select(Fill.id, Fill.order_id, Fill.qty, type_coerce(Fill.price, BigInteger), type_coerce(Fill.time, BigInteger))
                .where(Fill.fill_id == fill_id)
            ).first()
            if seen is not None:
                if tuple(seen[1:]) == (order.id, qty, units, ns):
                    return int(seen[0])
                raise LedgerError("a different fill with this fill id is already recorded", where=fill_id)
            filled = conn.execute(select(func.coalesce(func.sum(Fill.qty), 0)).where(Fill.order_id == order.id)).scalar_one()
            if filled + qty > order.qty:
                raise LedgerError(f"fill of {qty} would take order {client_order_id} to {filled + qty} of {order.qty}",
                                  where=fill_id)
            values = dict(order_id=order.id, fill_id=fill_id, qty=qty, price=units, time=ns, trace_id=trace_id)
            return int(conn.execute(insert(Fill).values(**st.raw(Fill, values))).inserted_primary_key[0])

    def record_rule_break(
        self, session_id: int, time: Any, rule: str, *, strategy: str | None = None, symbol: str | None = None,
        detail: str = "", trace_id: str | None = None,
    ) -> int:
        """A trading rule seen broken (counted in that day's summary); returns its id."""
        ns = to_ns(time, "rule break time")
        day_ = day_of(ns)
        with self._write("rule break") as conn:
            sess = st.get_session(conn, session_id)
            values = dict(session_id=session_id, mode=sess.mode, day=day_, time=ns, rule=rule, strategy=strategy,
                          symbol=symbol, detail=detail, trace_id=trace_id)
            rid = int(conn.execute(insert(RuleBreak).values(**st.raw(RuleBreak, values))).inserted_primary_key[0])
            st.refresh(conn, sess.mode, sess.sim_run_id, [day_])
        return rid

    def set_journal_anchor(self, day: dt.date | str, mode: str, seq: int, digest: str) -> None:
        """Remember the last journal record of ``day``'s ``mode`` file (it only moves forward)."""
        day_ = as_day(day)
        with self._write("journal anchor") as conn:
            known = conn.execute(select(JournalAnchor.seq).where(
                JournalAnchor.day == day_, JournalAnchor.mode == mode)).scalar_one_or_none()
            if known is None:
                conn.execute(insert(JournalAnchor).values(day=day_, mode=mode, seq=int(seq), hash=digest))
            elif int(seq) >= known:
                conn.execute(update(JournalAnchor).where(JournalAnchor.day == day_, JournalAnchor.mode == mode)
                             .values(seq=int(seq), hash=digest))
            else:
                raise LedgerError(f"journal anchor would move back from seq {known} to {seq}",
                                  where=f"{day_} {mode}")

    def journal_anchor(self, day: dt.date | str, mode: str) -> tuple[int, str] | None:
        """``(seq, hash)`` of the last record of that journal file the ledger saw, if any."""
        with self._read("journal anchor") as conn:
            row = conn.execute(select(JournalAnchor.seq, JournalAnchor.hash).where(
                JournalAnchor.day == as_day(day), JournalAnchor.mode == mode)).first()
        return (int(row[0]), str(row[1])) if row else None

    # -- trades and simulator runs -------------------------------------------------------------

    def record_trades(self, session_id: int, trades: pd.DataFrame, sim_run_id: int | None = None) -> int:
        """The trades table of a session (one row per leg; the simulator's columns, detail columns
        optional); rewrites the day summaries of the days they exit on. Returns the row count."""
        rows = frame_to_rows(trades)
        with self._write("trades") as conn:
            sess = st.get_session(conn, session_id)
            if sim_run_id is not None and sim_run_id != sess.sim_run_id:
                raise LedgerError(f"session {session_id} belongs to simulator run {sess.sim_run_id}, not {sim_run_id}",
                                  where="sim_run_id")
            n = len(rows["day"])
            st.insert_trades(conn, rows, np.full(n, session_id, dtype=np.int64), sess.mode, sess.sim_run_id)
            st.refresh(conn, sess.mode, sess.sim_run_id, sorted(set(rows["day"].tolist())))
        return n

    def record_sim_run(
        self, result_report: dict[str, Any], trades: pd.DataFrame, *, engine: str, costs: str,
        strategies: Sequence[str], parameters: dict[str, Any], data_fingerprint: str, created_at: Any,
        days: Sequence[dt.date] | None = None, app_version: str = __version__,
    ) -> int:
        """A simulator run with its trades, as mode ``sim``: one session per day it covers (``days``,
        default the NSE sessions from the report's first_day to last_day), its trades and day
        summaries. The report's money totals must equal the trades' to the paisa. Returns the run id."""
        from core.simulator.output import json_safe

        rows = frame_to_rows(trades)
        simruns.reconcile(result_report, rows)
        covered = simruns.covered_days(result_report, days, rows["day"].tolist())
        first, last = result_report.get("first_day"), result_report.get("last_day")
        config_hash = simruns.config_hash({"engine": engine, "costs": costs, "strategies": list(strategies),
                                           "parameters": parameters, "data_fingerprint": data_fingerprint})
        run_values = dict(
            created_at=to_ns(created_at, "created_at"), engine=engine, costs=costs,
            strategies=json_safe(list(strategies)), parameters=json_safe(parameters), data_fingerprint=data_fingerprint,
            first_day=as_day(first) if first else None, last_day=as_day(last) if last else None,
            metrics=json_safe(result_report),
        )
        with self._write("simulator run") as conn:
            run_id = int(conn.execute(insert(SimRun).values(**st.raw(SimRun, run_values))).inserted_primary_key[0])
            session_of = {
                day: st.insert_session(conn, as_day(day), SIM, config_hash, app_version, created_at, run_id)
                for day in covered
            }
            sessions = np.array([session_of[d] for d in rows["day"]], dtype=np.int64)
            first_id = st.insert_trades(conn, rows, sessions, SIM, run_id)
            legs = st.legs_from_rows(rows, first_id)
            st.write_summaries(conn, summarise(legs, None, covered), SIM, run_id, None)
        return run_id

    # -- day summaries ---------------------------------------------------------------------------

    def refresh_day_summaries(self, day: dt.date | str, mode: str, sim_run_id: int | None = None) -> list[dict[str, Any]]:
        """Recompute a day's summaries from its trades (for mode sim without a run: every run that
        covered the day). Returns the rows written."""
        check_mode(mode)
        day_ = as_day(day)
        with self._write("day summary refresh") as conn:
            runs = [sim_run_id] if sim_run_id is not None or mode != SIM else st.run_scopes(conn, mode, day_)
            out: list[dict[str, Any]] = []
            for run in runs:
                out += [public(r, mode, run) for r in st.refresh(conn, mode, run, [day_])]
        return out

    def rebuild_day_summaries(self, mode: str | None = None) -> int:
        """Recompute every day's summaries from the trades table; returns the rows written."""
        check_mode(mode)
        written = 0
        with self._write("day summary rebuild") as conn:
            modes = [mode] if mode else sorted({r[0] for r in conn.execute(select(TradingSession.mode).distinct())}
                                               | {r[0] for r in conn.execute(select(Trade.mode).distinct())})
            for m in modes:
                for run in st.run_scopes(conn, m, None):
                    written += len(st.refresh(conn, m, run, None))
        return written

    # -- queries ---------------------------------------------------------------------------------

    def days(self, mode: str | None = None, sim_run_id: int | None = None) -> list[DayRow]:
        """Every day x mode with a session or a trade: trades (positions) and net P&L.
        Simulated days show the latest run that covered them unless ``sim_run_id`` is given."""
        d = DaySummary.__table__
        q = (select(d.c.day, d.c.mode, d.c.trades, st.plain(d.c.net), d.c.sim_run_id)
             .where(d.c.strategy == ALL, visible(d, mode, sim_run_id)).order_by(d.c.day, d.c.mode))
        with self._read() as conn:
            return [DayRow(day, m, int(n), rupees(net), run) for day, m, n, net, run in conn.execute(q)]

    def day_summary(self, day: dt.date | str, mode: str | None = None, sim_run_id: int | None = None) -> list[dict[str, Any]]:
        """A day's summary rows: per mode, one per strategy then ``ALL`` (money as Decimal)."""
        d = DaySummary.__table__
        cols = ["mode", "sim_run_id", *SUMMARY_FIELDS]
        q = (select(*[type_coerce(d.c.day, String) if c == "day" else st.plain(d.c[c]) for c in cols])
             .where(d.c.day == as_day(day), visible(d, mode, sim_run_id))
             .order_by(d.c.mode, d.c.strategy == ALL, d.c.strategy))
        with self._read() as conn:
            rows = [dict(zip(cols, r)) for r in conn.execute(q)]
        return [public(r, r["mode"], r["sim_run_id"]) for r in rows]

    def trades_frame(
        self, start: dt.date | str | None = None, end: dt.date | str | None = None, mode: str | None = None,
        sim_run_id: int | None = None,
    ) -> pd.DataFrame:
        """Trades exiting in ``[start, end]``: the simulator's columns, detail columns, then
        mode, sim_run_id, position_id, trace_id; in recording order within each day."""
        return self._frame(start, end, mode, sim_run_id, [*_STORED.keys(), *EXTRA_COLUMNS])

    def _frame(self, start: Any, end: Any, mode: str | None, sim_run_id: int | None, names: list[str]) -> pd.DataFrame:
        t = Trade.__table__
        conds = [visible(t, mode, sim_run_id)]
        if start is not None:
            conds.append(t.c.day >= as_day(start))
        if end is not None:
            conds.append(t.c.day <= as_day(end))
        q = select(*[st.plain(t.c[_STORED.get(n, n)]) for n in names]).where(*conds).order_by(t.c.day, t.c.mode, t.c.id)
        with self._read() as conn:
            rows = conn.execute(q).all()
        stored = [_STORED.get(n, n) for n in names]
        return rows_to_frame({name: col for name, col in zip(stored, zip(*rows) if rows else [()] * len(stored))})

    def export_trades(
        self, start: dt.date | str, end: dt.date | str, mode: str | None = None, sim_run_id: int | None = None,
    ) -> pd.DataFrame:
        """The trades.csv columns (DESIGN.md §4) exactly, for trades exiting in ``[start, end]``."""
        return self._frame(start, end, mode, sim_run_id, list(TRADE_COLUMNS))

    def sim_runs(self) -> list[dict[str, Any]]:
        """The simulator runs recorded: id, created_at, engine, costs, strategies, fingerprint, days."""
        r = SimRun
        q = select(r.id, r.created_at, r.engine, r.costs, r.strategies, r.data_fingerprint, r.first_day, r.last_day)
        with self._read() as conn:
            return [dict(row._mapping) for row in conn.execute(q.order_by(r.id))]

    def pragmas(self) -> dict[str, Any]:
        """The connection settings in force: journal_mode, foreign_keys, busy_timeout (ms), synchronous."""
        with self._read("settings check") as conn:
            return {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")}

    def snapshot(self) -> LedgerSnapshot:
        """A canonical, comparable picture of the ledger (see core.ledger.snapshot)."""
        from core.ledger.snapshot import take

        with self._read("snapshot") as conn:
            return take(conn)


# frame column -> trades-table column
_STORED = {**{c: c for c in (*TRADE_COLUMNS, *DETAIL_COLUMNS)}, "gross_pnl": "gross", "net_pnl": "net"}


def _opt_units(value: Any, what: str) -> int | None:
    return None if value is None else to_units(value, what)
