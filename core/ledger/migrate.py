"""Schema migrations, run programmatically (no alembic.ini): bring a ledger file to ``head``.

A database stamped with a revision this atw does not know was written by a newer atw and is
refused rather than guessed at. Migrations run with foreign keys off (SQLite rebuilds tables
for some changes) inside one transaction, and a ``foreign_key_check`` must pass before commit:
a failed migration leaves the file as it was.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from core.errors import LedgerError
from core.ledger.db import WRITE

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations (and at ``connection``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest schema revision this atw knows."""
    revision = _script().get_current_head()
    assert revision is not None
    return revision


def known(revision: str) -> bool:
    """True when ``revision`` is one of this atw's migrations."""
    return any(r.revision == revision for r in _script().walk_revisions())


def current(conn: Connection) -> str | None:
    """The revision the database is stamped with (None: empty or never migrated)."""
    return MigrationContext.configure(conn).get_current_revision()


def check_version(conn: Connection, path: Path) -> str | None:
    """The database's revision; refuses a newer atw's ledger and a foreign SQLite file."""
    rev = current(conn)
    if rev is not None and not known(rev):
        raise LedgerError(
            f"ledger was written by a newer atw (schema revision {rev}; this atw knows up to {head()}); "
            "upgrade atw to open it",
            where=str(path),
        )
    if rev is None:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        if tables:
            raise LedgerError(
                f"this SQLite file is not an atw ledger (it has tables {', '.join(sorted(tables)[:5])} "
                "but no ledger schema revision)",
                where=str(path),
            )
    return rev


def upgrade(engine: Engine, path: Path, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default head) in one transaction."""
    with engine.connect() as conn:
        rev = check_version(conn, path)
        conn.rollback()
        target = head() if revision == "head" else revision
        if rev == target:
            return
        raw = conn.connection.driver_connection  # PRAGMA foreign_keys is a no-op inside a transaction
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            writer = conn.execution_options(**{WRITE: True})
            with writer.begin():
                command.upgrade(alembic_config(writer), revision)
                broken = writer.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise LedgerError(
                        f"migration to {target} would break {len(broken)} reference(s), first {broken[0]}; "
                        "the ledger was left unchanged",
                        where=str(path),
                    )
        finally:
            raw.execute("PRAGMA foreign_keys = ON")
