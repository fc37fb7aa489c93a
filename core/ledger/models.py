"""The ledger's tables (SQLAlchemy 2.0 declarative models). See types.py for how numbers are stored.

- ``sessions``: one trading session (day x mode; config hash and app version). A restart opens
  another session on the same day, so live/paper sessions are not unique per day. A simulator
  run has one session per NSE day it covers (unique ``(sim_run_id, day)``).
- ``orders`` / ``fills``: what was sent and what was filled; client order ids and fill ids are
  unique, so replaying a journal cannot double-count.
- ``trades``: one row per **leg** (a scale-out splits a position into several legs), with the
  simulator's detail columns. ``mode``, ``day`` (the exit day, Asia/Kolkata) and
  ``sim_run_id`` are copied from the session at insert, for fast day queries.
- ``day_summaries``: per day x mode x strategy, plus an ``ALL`` row per day x mode; for mode
  ``sim`` also per simulator run. Written by the repository whenever trades change.
- ``sim_runs``: a simulator run's inputs (engine, costs, strategies, parameters, data
  fingerprint) and its report.
- ``rule_breaks``: a trading rule the engine saw broken (counted in the day summary).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.ledger.modes import MODES
from core.ledger.types import Instant, Money, Price

ORDER_SIDES = ("BUY", "SELL")
TRADE_SIDES = ("LONG", "SHORT")
PURPOSES = ("entry", "exit")


class Base(DeclarativeBase):
    """Declarative base of the ledger tables."""


class SimRun(Base):
    __tablename__ = "sim_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[pd.Timestamp] = mapped_column(Instant)
    engine: Mapped[str] = mapped_column(String(16))
    costs: Mapped[str] = mapped_column(String(32))
    strategies: Mapped[Any] = mapped_column(JSON)
    parameters: Mapped[Any] = mapped_column(JSON)
    data_fingerprint: Mapped[str] = mapped_column(String(128))
    first_day: Mapped[dt.date | None] = mapped_column(Date)
    last_day: Mapped[dt.date | None] = mapped_column(Date)
    metrics: Mapped[Any] = mapped_column(JSON)


class TradingSession(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index("uq_sessions_run_day", "sim_run_id", "day", unique=True),
        Index("ix_sessions_day_mode", "day", "mode"),
        CheckConstraint(f"mode IN {MODES!r}", name="ck_sessions_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(16))
    config_hash: Mapped[str] = mapped_column(String(128))
    app_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[pd.Timestamp] = mapped_column(Instant)
    ended_at: Mapped[pd.Timestamp | None] = mapped_column(Instant)
    sim_run_id: Mapped[int | None] = mapped_column(ForeignKey("sim_runs.id", name="fk_sessions_sim_run"))


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("side IN ('BUY', 'SELL')", name="ck_orders_side"),
        CheckConstraint("purpose IN ('entry', 'exit')", name="ck_orders_purpose"),
        CheckConstraint("qty > 0", name="ck_orders_qty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", name="fk_orders_session"), index=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    broker_order_id: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[int] = mapped_column(Integer)
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[Decimal | None] = mapped_column(Price)
    trigger_price: Mapped[Decimal | None] = mapped_column(Price)
    status: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    position_id: Mapped[str | None] = mapped_column(String(64))
    trace_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[pd.Timestamp] = mapped_column(Instant)
    updated_at: Mapped[pd.Timestamp] = mapped_column(Instant)


class Fill(Base):
    __tablename__ = "fills"
    __table_args__ = (CheckConstraint("qty > 0", name="ck_fills_qty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", name="fk_fills_order"), index=True)
    fill_id: Mapped[str] = mapped_column(String(64), unique=True)
    qty: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Price)
    time: Mapped[pd.Timestamp] = mapped_column(Instant)
    trace_id: Mapped[str | None] = mapped_column(String(64))


class Trade(Base):
    __tablename__ = "trades"
    __table_args__ = (
        Index("ix_trades_mode_day", "mode", "day"),
        Index("ix_trades_sim_run", "sim_run_id"),
        Index("ix_trades_session", "session_id"),
        CheckConstraint("side IN ('LONG', 'SHORT')", name="ck_trades_side"),
        CheckConstraint("qty > 0", name="ck_trades_qty"),
        CheckConstraint("gross - charges = net", name="ck_trades_net"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", name="fk_trades_session"))
    sim_run_id: Mapped[int | None] = mapped_column(ForeignKey("sim_runs.id", name="fk_trades_sim_run"))
    mode: Mapped[str] = mapped_column(String(16))
    day: Mapped[dt.date] = mapped_column(Date)
    position_id: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(5))
    qty: Mapped[int] = mapped_column(Integer)
    entry_time: Mapped[pd.Timestamp] = mapped_column(Instant)
    entry_price: Mapped[Decimal] = mapped_column(Price)
    exit_time: Mapped[pd.Timestamp] = mapped_column(Instant)
    exit_price: Mapped[Decimal] = mapped_column(Price)
    initial_stop: Mapped[Decimal | None] = mapped_column(Price)
    exit_reason: Mapped[str] = mapped_column(String(32))
    points: Mapped[Decimal] = mapped_column(Price)
    gross: Mapped[Decimal] = mapped_column(Money)
    brokerage: Mapped[Decimal] = mapped_column(Money, server_default="0")
    stt: Mapped[Decimal] = mapped_column(Money, server_default="0")
    exchange_txn: Mapped[Decimal] = mapped_column(Money, server_default="0")
    sebi_fee: Mapped[Decimal] = mapped_column(Money, server_default="0")
    stamp_duty: Mapped[Decimal] = mapped_column(Money, server_default="0")
    gst: Mapped[Decimal] = mapped_column(Money, server_default="0")
    charges: Mapped[Decimal] = mapped_column(Money)
    net: Mapped[Decimal] = mapped_column(Money)
    confidence: Mapped[float | None] = mapped_column(Float)
    signal_time: Mapped[pd.Timestamp | None] = mapped_column(Instant)
    trace_id: Mapped[str | None] = mapped_column(String(64))


class DaySummary(Base):
    __tablename__ = "day_summaries"
    __table_args__ = (
        Index("uq_day_summaries_key", "day", "mode", "strategy", text("coalesce(sim_run_id, 0)"), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(16))
    sim_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim_runs.id", name="fk_day_summaries_sim_run"), index=True
    )
    strategy: Mapped[str] = mapped_column(String(64))
    trades: Mapped[int] = mapped_column(Integer)
    legs: Mapped[int] = mapped_column(Integer)
    wins: Mapped[int] = mapped_column(Integer)
    losses: Mapped[int] = mapped_column(Integer)
    win_rate: Mapped[float | None] = mapped_column(Float)
    points: Mapped[Decimal] = mapped_column(Price)
    gross: Mapped[Decimal] = mapped_column(Money)
    charges: Mapped[Decimal] = mapped_column(Money)
    net: Mapped[Decimal] = mapped_column(Money)
    max_drawdown: Mapped[Decimal] = mapped_column(Money)
    best: Mapped[Decimal | None] = mapped_column(Money)
    worst: Mapped[Decimal | None] = mapped_column(Money)
    rule_breaks: Mapped[int] = mapped_column(Integer, server_default="0")


class RuleBreak(Base):
    __tablename__ = "rule_breaks"
    __table_args__ = (Index("ix_rule_breaks_mode_day", "mode", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", name="fk_rule_breaks_session"))
    mode: Mapped[str] = mapped_column(String(16))
    day: Mapped[dt.date] = mapped_column(Date)
    time: Mapped[pd.Timestamp] = mapped_column(Instant)
    rule: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, server_default="")
    trace_id: Mapped[str | None] = mapped_column(String(64))


class JournalAnchor(Base):
    """The last journal record of a (day, mode) file the ledger has seen (seq and hash)."""

    __tablename__ = "journal_anchors"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
