"""Initial ledger schema: sessions, orders, fills, trades, day summaries.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Money is integer paise, prices and points integer 0.0001 units, instants UTC epoch ns (all
BIGINT); see core/ledger/types.py. Column types here are the storage types, on purpose: a
migration must not change meaning when the Python models change later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODES = "('sim', 'replay', 'paper', 'shadow', 'canary', 'live')"


def _money(name: str, nullable: bool = False, default: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable, server_default="0" if default else None)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("config_hash", sa.String(128), nullable=False),
        sa.Column("app_version", sa.String(32), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(f"mode IN {MODES}", name="ck_sessions_mode"),
    )
    op.create_index("ix_sessions_day_mode", "sessions", ["day", "mode"])
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id", name="fk_orders_session"), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False, unique=True),
        sa.Column("broker_order_id", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("limit_price", sa.BigInteger(), nullable=True),
        sa.Column("trigger_price", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("position_id", sa.String(64), nullable=True),
        sa.Column("trace_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("side IN ('BUY', 'SELL')", name="ck_orders_side"),
        sa.CheckConstraint("purpose IN ('entry', 'exit')", name="ck_orders_purpose"),
        sa.CheckConstraint("qty > 0", name="ck_orders_qty"),
    )
    op.create_index("ix_orders_session_id", "orders", ["session_id"])
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id", name="fk_fills_order"), nullable=False),
        sa.Column("fill_id", sa.String(64), nullable=False, unique=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("trace_id", sa.String(64), nullable=True),
        sa.CheckConstraint("qty > 0", name="ck_fills_qty"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_table(
        "trades",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("sessions.id", name="fk_trades_session"), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("position_id", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("side", sa.String(5), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("entry_time", sa.BigInteger(), nullable=False),
        sa.Column("entry_price", sa.BigInteger(), nullable=False),
        sa.Column("exit_time", sa.BigInteger(), nullable=False),
        sa.Column("exit_price", sa.BigInteger(), nullable=False),
        sa.Column("initial_stop", sa.BigInteger(), nullable=True),
        sa.Column("exit_reason", sa.String(32), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        _money("gross"),
        *(_money(c, default=True) for c in ("brokerage", "stt", "exchange_txn", "sebi_fee", "stamp_duty", "gst")),
        _money("charges"),
        _money("net"),
        sa.Column("trace_id", sa.String(64), nullable=True),
        sa.CheckConstraint("side IN ('LONG', 'SHORT')", name="ck_trades_side"),
        sa.CheckConstraint("qty > 0", name="ck_trades_qty"),
        sa.CheckConstraint("gross - charges = net", name="ck_trades_net"),
    )
    op.create_index("ix_trades_mode_day", "trades", ["mode", "day"])
    op.create_index("ix_trades_session", "trades", ["session_id"])
    op.create_table(
        "day_summaries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("trades", sa.Integer(), nullable=False),
        sa.Column("legs", sa.Integer(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.Column("win_rate", sa.Float(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        _money("gross"),
        _money("charges"),
        _money("net"),
        _money("max_drawdown"),
        _money("best", nullable=True),
        _money("worst", nullable=True),
    )
    op.create_index("uq_day_summaries_day_mode_strategy", "day_summaries", ["day", "mode", "strategy"], unique=True)


def downgrade() -> None:
    for table in ("day_summaries", "trades", "fills", "orders", "sessions"):
        op.drop_table(table)
