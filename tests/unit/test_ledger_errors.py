"""Bad input at the database: locked, read-only, disk full. Each is one clear LedgerError naming
the file; the failed write leaves nothing behind and everything committed before stays.

(The lock is held by a second sqlite3 connection, as another process would hold it.)
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from core.clock import IST
from core.errors import LedgerError
from core.ledger import Ledger
from core.ledger.db import make_engine
from tests.unit.test_ledger_summaries import DAYS, make_trades

T0 = pd.Timestamp("2024-03-04 09:00", tz=IST)


def seeded(path: Path) -> tuple[int, dict[str, int]]:
    """A ledger with one committed day; returns its session id and row counts."""
    with Ledger.open(path) as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", T0)
        ledger.record_trades(sid, make_trades(1, days=[DAYS[0]], positions_per_day=20))
        return sid, ledger.snapshot().counts()


def counts(path: Path) -> dict[str, int]:
    with Ledger.open(path) as ledger:
        return ledger.snapshot().counts()


def test_locked_database(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    sid, before = seeded(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing and does not let go
    try:
        with Ledger.open(path, busy_timeout_s=0.2) as ledger:
            started = time.perf_counter()
            with pytest.raises(LedgerError, match="locked") as err:
                ledger.record_trades(sid, make_trades(2, days=[DAYS[0]], positions_per_day=5))
            assert time.perf_counter() - started < 5
            assert str(path) in str(err.value) and "othing of this write (trades) was saved" in str(err.value)
            assert len(ledger.day_summary(DAYS[0])) > 0  # reads still work (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert counts(path) == before


def test_readonly_database_refused_at_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.sqlite"
    seeded(path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == path and mode == os.W_OK else real_access(p, mode))
    with pytest.raises(LedgerError, match="read-only") as err:
        Ledger.open(path)
    assert str(path) in str(err.value)
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path and mode == os.W_OK else real_access(p, mode))
    with pytest.raises(LedgerError, match="folder is read-only"):
        Ledger.open(path)


def test_readonly_database_refused_by_sqlite_on_write(tmp_path: Path) -> None:
    """SQLite itself says read-only (as for a file on read-only media): the write fails clearly."""
    path = tmp_path / "ledger.sqlite"
    sid, before = seeded(path)
    ledger = Ledger(make_engine(path, readonly=True), path, readonly=False, busy_timeout_s=1.0)
    with pytest.raises(LedgerError, match="read-only") as err:
        ledger.record_trades(sid, make_trades(2, days=[DAYS[0]], positions_per_day=5))
    assert str(path) in str(err.value) and "everything recorded before is intact" in str(err.value)
    ledger.close()
    with Ledger.open(path, readonly=True) as reader:
        with pytest.raises(LedgerError, match="opened read-only"):
            reader.start_session(DAYS[1], "paper", "cfg", "0.1.0", T0)
        assert reader.snapshot().counts() == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only files")
def test_readonly_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _, before = seeded(path)
    path.chmod(0o444)
    try:
        with pytest.raises(LedgerError, match="read-only"):
            Ledger.open(path)
        with Ledger.open(path, readonly=True) as reader:
            assert reader.snapshot().counts() == before
    finally:
        path.chmod(0o644)


def test_disk_full(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    sid, before = seeded(path)
    con = sqlite3.connect(path)
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    big = make_trades(3, days=DAYS, positions_per_day=400)
    with Ledger.open(path, max_pages=pages + 4) as ledger:  # the disk has room for 4 more pages
        with pytest.raises(LedgerError, match="disk is full") as err:
            ledger.record_trades(sid, big)
        assert str(path) in str(err.value) and "everything recorded before is intact" in str(err.value)
        with pytest.raises(LedgerError, match="disk is full"):
            ledger.record_sim_run({}, big, engine="fast", costs="zerodha", strategies=["x"], parameters={},
                                  data_fingerprint="fp", created_at=T0, days=[dt.date(2024, 3, d) for d in (4, 5, 6)])
    assert counts(path) == before
    with Ledger.open(path) as ledger:  # space again: the same write goes through
        ledger.record_trades(sid, big)
        assert ledger.snapshot().counts()["trades"] == before["trades"] + len(big)
