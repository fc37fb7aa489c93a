"""The SQLite engine of a ledger file, and SQLite's errors in words a trader can act on.

Every connection runs with ``journal_mode=WAL`` (readers never block the writer),
``foreign_keys=ON``, ``synchronous=FULL`` (a commit is on disk when it returns; a rebuild
into a fresh file may ask for ``NORMAL``, since it can simply be run again) and a ``busy_timeout``. Transactions are explicit: reads ``BEGIN``, writes ``BEGIN IMMEDIATE`` (the
write lock is taken up front, so a busy database fails at the start of a write, never halfway).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.pool import NullPool, QueuePool

from core.errors import AtwError, LedgerError

DEFAULT_BUSY_TIMEOUT_S = 5.0
WRITE = "ledger_write"  # execution option: begin with BEGIN IMMEDIATE


def make_engine(
    path: Path, *, readonly: bool = False, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    max_pages: int | None = None, durable: bool = True,
) -> Engine:
    """An engine on ``path`` with the ledger's pragmas on every connection.

    ``max_pages`` caps the file size (``PRAGMA max_page_count``): a write beyond it fails as on
    a full disk. Tests use it to simulate one.
    """
    uri = f"file:{path.as_posix()}?mode=ro" if readonly else f"file:{path.as_posix()}"
    engine = create_engine(
        "sqlite+pysqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, check_same_thread=False),
        poolclass=NullPool if readonly else QueuePool,  # the URL has no file name: say it is a file
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        cur.execute("PRAGMA cache_size = -32768")
        if max_pages is not None:
            cur.execute(f"PRAGMA max_page_count = {int(max_pages)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

    return engine


def translate(error: BaseException, path: Path, action: str, busy_timeout_s: float) -> AtwError:
    """A database error as a :class:`LedgerError` that names the file and what to do."""
    if isinstance(error, exc.StatementError) and isinstance(error.orig, AtwError):
        return error.orig
    orig = getattr(error, "orig", None) or error
    text = str(orig).lower()
    where = str(path)
    untouched = f"nothing of this write ({action}) was saved; everything recorded before is intact"
    if "locked" in text or "busy" in text:
        msg = (f"the ledger is locked: another program or atw process holds its write lock and did not "
               f"release it within {busy_timeout_s:g} s; close it and retry. {untouched.capitalize()}")
    elif "readonly" in text or "read-only" in text:
        msg = f"the ledger is read-only (the file or its folder cannot be written); {untouched}"
    elif "disk is full" in text or "database or disk is full" in text:
        msg = f"the disk is full (or the ledger reached its size limit); free some space and retry. {untouched.capitalize()}"
    elif "unable to open" in text:
        msg = "cannot open the ledger file: its folder is missing or not accessible"
    elif "not a database" in text or "malformed" in text:
        msg = f"this file is not an atw ledger or is damaged ({orig})"
    elif "disk i/o" in text:
        msg = f"disk I/O error writing the ledger; {untouched}"
    elif isinstance(error, exc.IntegrityError):
        msg = f"{action} refused by the ledger's rules: {orig}"
    else:
        msg = f"{action} failed: {orig}"
    return LedgerError(msg, where=where)
