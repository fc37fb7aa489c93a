"""Rule breaks: recorded per session and counted in the day summary.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

``day_summaries.rule_breaks`` is 0 for days summarised before this revision (no rule break
was recorded then).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_breaks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id", name="fk_rule_breaks_session"),
                  nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("trace_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_rule_breaks_mode_day", "rule_breaks", ["mode", "day"])
    op.add_column("day_summaries", sa.Column("rule_breaks", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("day_summaries") as batch:
        batch.drop_column("rule_breaks")
    op.drop_index("ix_rule_breaks_mode_day", table_name="rule_breaks")
    op.drop_table("rule_breaks")
