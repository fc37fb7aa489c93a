"""Drawdown guardrails act at the right equity; a loss streak cools a strategy down; lockouts hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.clock import IST
from core.risk.drawdown import (
    DAILY_LOSS,
    HARD,
    OK,
    SOFT,
    CooldownBook,
    DrawdownGuard,
    lockout_refusal,
)
from core.risk.limits import RiskLimits


def limits_of(values: dict[str, str]):  # type: ignore[no-untyped-def]
    """The limits in force, as the portfolio risk engine hands them over."""
    limits = RiskLimits.from_mapping(values)
    return lambda: limits


def test_the_soft_and_hard_levels_act_at_their_drawdown_from_the_days_peak_equity() -> None:
    guard = DrawdownGuard(limits_of({"capital": "10L", "dd_soft_pct": "1", "dd_hard_pct": "2"}))
    assert guard.level(Decimal(20_000))[0] == OK  # peak equity Rs 10,20,000
    assert guard.level(Decimal(9_801))[0] == OK  # Rs 10,199 down: 0.9999%
    level, why = guard.level(Decimal(9_800))  # Rs 10,200 down: exactly 1% of the peak
    assert level == SOFT and "Rs 10,200.00 (1.00%)" in why and "x0.5" in why
    assert guard.level(Decimal(-399))[0] == SOFT  # Rs 20,399 down
    level, why = guard.level(Decimal(-400))  # Rs 20,400: 2% of Rs 10,20,000
    assert level == HARD and "hard level 2%" in why
    guard.new_day()
    assert guard.level(Decimal(-400))[0] == OK  # a new day starts from capital


def test_the_daily_loss_limit_as_a_percent_of_capital_and_in_rupees_the_tighter_wins() -> None:
    guard = DrawdownGuard(limits_of({"capital": "10L", "daily_loss_pct": "1.5"}))
    assert guard.level(Decimal(-14_999))[0] == OK
    level, why = guard.level(Decimal(-15_000))
    assert level == DAILY_LOSS and "-Rs 15,000.00" in why
    both = DrawdownGuard(limits_of({"capital": "10L", "daily_loss_pct": "1.5",
                                                  "daily_loss_limit": "12k"}))
    assert both.level(Decimal(-12_000))[0] == DAILY_LOSS


def test_a_loss_streak_cools_its_strategy_down_and_a_win_resets_the_count() -> None:
    book = CooldownBook(limits_of({"loss_streak": "3", "cooldown_min": "30"}))
    t = dt.datetime(2026, 12, 3, 10, 0, tzinfo=IST)
    assert book.closed("ema_cross", -100.0, t) == "" and book.closed("ema_cross", -100.0, t) == ""
    assert book.closed("ema_cross", 50.0, t) == ""  # a win: the count starts again
    book.closed("ema_cross", -1.0, t)
    book.closed("ema_cross", -1.0, t)
    why = book.closed("ema_cross", -1.0, t)
    assert "3 losses in a row; no entries until 10:30" in why
    assert book.refusal("ema_cross", t + dt.timedelta(minutes=29)) and book.refusal("range_breakout", t) == ""
    assert book.refusal("ema_cross", t + dt.timedelta(minutes=30)) == ""


def test_no_entry_inside_a_lockout_window() -> None:
    rule = RiskLimits.from_mapping({"lockout": "09:15-09:20, 14:45-15:00"})
    assert "09:15-09:20" in lockout_refusal(rule, dt.datetime(2026, 12, 3, 9, 17, tzinfo=IST))
    assert lockout_refusal(rule, dt.datetime(2026, 12, 3, 9, 20, tzinfo=IST)) == ""
    assert lockout_refusal(rule, dt.datetime(2026, 12, 3, 9, 14, 0, tzinfo=IST).astimezone(dt.UTC)) == ""


def test_the_hard_level_wins_over_the_daily_loss_when_both_are_reached() -> None:
    guard = DrawdownGuard(limits_of({"capital": "10L", "dd_soft_pct": "1", "dd_hard_pct": "2",
                                                   "daily_loss_pct": "1.5"}))
    assert guard.level(Decimal(-15_000))[0] == DAILY_LOSS  # 1.5 %: the loss limit, not yet the hard level
    assert guard.level(Decimal(-20_000))[0] == HARD  # 2 % of the peak: flatten, whatever else holds
    assert guard.level(Decimal(-50_000))[0] == HARD
