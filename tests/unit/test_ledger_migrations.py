"""Opening a ledger: pragmas, automatic migration of an old database, refusal of a newer one.

The old database is written with raw SQL, as the atw of revision 0001 would have written it
(the only SQL outside core/ledger/: it plays an older program).
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.clock import IST
from core.errors import LedgerError
from core.ledger import ALL, Ledger, migrate
from core.ledger.db import make_engine
from core.ledger.models import Base
from tests.unit.test_ledger_summaries import make_trades

DAY = dt.date(2024, 3, 4)
NS = int(pd.Timestamp("2024-03-04 09:30", tz=IST).value)
MIN = 60_000_000_000


def test_pragmas_wal_foreign_keys_busy_timeout(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite", busy_timeout_s=2.5) as ledger:
        assert ledger.pragmas() == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 2500, "synchronous": 2}
        assert ledger.path == tmp_path / "l.sqlite"


def test_default_path_is_atw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATW_HOME", str(tmp_path / "home"))
    with Ledger.open() as ledger:
        assert ledger.path == tmp_path / "home" / "ledger.sqlite" and ledger.path.is_file()


def test_models_match_the_migrations(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    Ledger.open(path).close()
    engine = make_engine(path)
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect the expression index; it is checked below
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
        indexes = {row[1] for row in conn.exec_driver_sql("PRAGMA index_list(day_summaries)")}
    engine.dispose()
    assert "uq_day_summaries_key" in indexes


def old_database(path: Path) -> None:
    """A ledger at revision 0001 holding one paper day: a session, an order, a fill, two legs, a summary."""
    engine = make_engine(path)
    migrate.upgrade(engine, path, "0001")
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO sessions (id, day, mode, config_hash, app_version, started_at) "
                "VALUES (1, '2024-03-04', 'paper', 'abc', '0.0.9', ?)", (NS - 30 * MIN,))
    con.execute("INSERT INTO orders (session_id, client_order_id, symbol, strategy, side, qty, order_type, status, "
                "purpose, created_at, updated_at) VALUES (1, 'atw-1', 'INFY', 'ema_cross', 'BUY', 10, 'MARKET', "
                "'COMPLETE', 'entry', ?, ?)", (NS, NS))
    con.execute("INSERT INTO fills (order_id, fill_id, qty, price, time) VALUES (1, 'F1', 10, 13999000, ?)", (NS,))
    legs = [  # entry 1399.90, exits 1401.00 / 1398.50, LONG 5 + 5 (one position, two legs)
        (5, 14010000, 11000, 550, 1025, -475, NS + 10 * MIN),
        (5, 13985000, -14000, -700, 1025, -1725, NS + 20 * MIN),
    ]
    for qty, exit_px, pts, gross, charges, net, exit_ns in legs:
        con.execute(
            "INSERT INTO trades (session_id, mode, day, symbol, strategy, side, qty, entry_time, entry_price, "
            "exit_time, exit_price, exit_reason, points, gross, brokerage, charges, net) "
            "VALUES (1, 'paper', '2024-03-04', 'INFY', 'ema_cross', 'LONG', ?, ?, 13999000, ?, ?, 'target', ?, ?, ?, ?, ?)",
            (qty, NS, exit_ns, exit_px, pts, gross, charges, charges, net),
        )
    con.execute("INSERT INTO day_summaries (day, mode, strategy, trades, legs, wins, losses, win_rate, points, gross, "
                "charges, net, max_drawdown, best, worst) VALUES ('2024-03-04', 'paper', 'ALL', 1, 2, 0, 1, 0.0, "
                "-1500, -150, 2050, -2200, 2200, -2200, -2200)")
    con.commit()
    con.close()


def test_old_database_is_upgraded_on_open_with_its_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old_database(path)
    with Ledger.open(path) as ledger:
        trades = ledger.trades_frame()
        (row,) = ledger.day_summary(DAY)
        snap = ledger.snapshot()
        # the upgraded ledger takes new data (a simulator-era trade with confidence and signal time)
        sid = ledger.start_session(DAY, "paper", "abc", "0.1.0", pd.Timestamp("2024-03-04 12:00", tz=IST))
        ledger.record_trades(sid, make_trades(3, days=[DAY], positions_per_day=2))
        after = ledger.day_summary(DAY, "paper")
    engine = make_engine(path)
    with engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    engine.dispose()
    assert len(trades) == 2
    assert list(trades["exit_price"]) == [1401.0, 1398.5] and list(trades["net_pnl"]) == [-4.75, -17.25]
    assert trades["entry_time"].iloc[0] == pd.Timestamp("2024-03-04 09:30", tz=IST)
    assert math.isnan(trades["confidence"].iloc[0]) and pd.isna(trades["signal_time"].iloc[0])
    assert trades["sim_run_id"].isna().all() and math.isnan(trades["initial_stop"].iloc[0])
    assert row["rule_breaks"] == 0 and row["sim_run_id"] is None and row["net"] == Decimal("-22.00")
    assert row["strategy"] == ALL and row["trades"] == 1 and row["legs"] == 2
    assert snap.counts()["orders"] == 1 and snap.counts()["fills"] == 1
    all_row = [r for r in after if r["strategy"] == ALL][0]
    assert all_row["legs"] > 2 and {r["strategy"] for r in after} >= {"ema_cross", ALL}


def test_ledger_of_a_newer_atw_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Ledger.open(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '0042_from_the_future'")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(LedgerError, match="newer atw") as err:
        Ledger.open(path)
    assert "0042_from_the_future" in str(err.value) and str(path) in str(err.value)
    with pytest.raises(LedgerError, match="newer atw"):
        Ledger.open(path, readonly=True)
    assert path.read_bytes() == before


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    with pytest.raises(LedgerError, match="not an atw ledger"):
        Ledger.open(other)
    text = tmp_path / "text.sqlite"
    text.write_text("this is not a database, just some text that is long enough " * 20)
    with pytest.raises(LedgerError, match="not an atw ledger or is damaged"):
        Ledger.open(text)


def test_readonly_open_needs_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old_database(path)
    with pytest.raises(LedgerError, match="open it once writable"):
        Ledger.open(path, readonly=True)
    Ledger.open(path).close()
    with Ledger.open(path, readonly=True) as ledger:
        assert len(ledger.trades_frame()) == 2
    with pytest.raises(LedgerError, match="no ledger here yet"):
        Ledger.open(tmp_path / "missing.sqlite", readonly=True)
