"""Alembic environment of the ledger: run by core.ledger.migrate on an open connection.

No alembic.ini is needed: migrate.py builds the Config, points ``script_location`` here and
passes the connection in ``config.attributes["connection"]``. A new revision is written by hand
next to the others (copy the newest one; script.py.mako is Alembic's template) and tested by
tests/unit/test_ledger_migrations.py (models == migrations, an old database upgrades).
"""

from __future__ import annotations

from alembic import context

from core.ledger.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run ledger migrations through core.ledger.migrate (it passes the connection)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
