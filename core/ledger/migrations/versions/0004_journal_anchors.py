"""Journal anchors: the last journal record each (day, mode) file had when the ledger saw it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

A hash chain cannot show its own last records being cut off; the anchor, kept outside the
file, can (``atw journal verify`` checks a file against it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_anchors",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("mode", sa.String(16), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("journal_anchors")
