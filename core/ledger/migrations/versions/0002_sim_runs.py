"""Simulator runs in the ledger; trades keep the signal's confidence and time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

- ``sim_runs``: a run's engine, costs, strategies, parameters, data fingerprint and report.
- ``sessions.sim_run_id`` (one session per run per day), ``trades.sim_run_id``.
- ``trades.confidence`` and ``trades.signal_time``: the simulator's detail columns; NULL for
  trades written before this revision.
- ``day_summaries.sim_run_id``: a simulated day is summarised per run, so two runs over the
  same day do not add up; the unique key becomes (day, mode, strategy, run or 0).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sim_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("costs", sa.String(32), nullable=False),
        sa.Column("strategies", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("data_fingerprint", sa.String(128), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("sim_run_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_sessions_sim_run", "sim_runs", ["sim_run_id"], ["id"])
    op.create_index("uq_sessions_run_day", "sessions", ["sim_run_id", "day"], unique=True)
    with op.batch_alter_table("trades") as batch:
        batch.add_column(sa.Column("sim_run_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("signal_time", sa.BigInteger(), nullable=True))
        batch.create_foreign_key("fk_trades_sim_run", "sim_runs", ["sim_run_id"], ["id"])
    op.create_index("ix_trades_sim_run", "trades", ["sim_run_id"])
    op.drop_index("uq_day_summaries_day_mode_strategy", table_name="day_summaries")
    with op.batch_alter_table("day_summaries") as batch:
        batch.add_column(sa.Column("sim_run_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_day_summaries_sim_run", "sim_runs", ["sim_run_id"], ["id"])
    op.create_index("ix_day_summaries_sim_run_id", "day_summaries", ["sim_run_id"])
    op.create_index(
        "uq_day_summaries_key", "day_summaries",
        ["day", "mode", "strategy", sa.text("coalesce(sim_run_id, 0)")], unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_day_summaries_key", table_name="day_summaries")
    op.drop_index("ix_day_summaries_sim_run_id", table_name="day_summaries")
    with op.batch_alter_table("day_summaries") as batch:
        batch.drop_constraint("fk_day_summaries_sim_run", type_="foreignkey")
        batch.drop_column("sim_run_id")
    op.create_index("uq_day_summaries_day_mode_strategy", "day_summaries", ["day", "mode", "strategy"], unique=True)
    op.drop_index("ix_trades_sim_run", table_name="trades")
    with op.batch_alter_table("trades") as batch:
        batch.drop_constraint("fk_trades_sim_run", type_="foreignkey")
        batch.drop_column("signal_time")
        batch.drop_column("confidence")
        batch.drop_column("sim_run_id")
    op.drop_index("uq_sessions_run_day", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_constraint("fk_sessions_sim_run", type_="foreignkey")
        batch.drop_column("sim_run_id")
    op.drop_table("sim_runs")
