"""Simulator metrics: hand-computed cases, empyrical cross-checks and edge cases."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

import empyrical
import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError, DataError
from core.simulator.metrics import (
    TRADE_COLUMNS,
    compute_metrics,
    daily_equity,
    per_strategy,
    per_symbol,
)

IST = "Asia/Kolkata"
CAPITAL = 100_000.0


def _ts(day: dt.date, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day.isoformat()} {hhmm}", tz=IST)


def _trade(
    day: dt.date,
    net: float,
    charges: float = 40.0,
    *,
    exit_at: str = "14:00",
    entry_at: str = "10:00",
    symbol: str = "INFY",
    strategy: str = "ema_cross",
    side: str = "LONG",
    qty: int = 10,
) -> dict[str, Any]:
    gross = round(net + charges, 2)
    points = round(gross / qty, 2)
    entry_price = 1000.0
    exit_price = entry_price + (points if side == "LONG" else -points)
    return {
        "symbol": symbol,
        "strategy": strategy,
        "side": side,
        "qty": qty,
        "entry_time": _ts(day, entry_at),
        "entry_price": entry_price,
        "exit_time": _ts(day, exit_at),
        "exit_price": round(exit_price, 2),
        "points": points,
        "gross_pnl": gross,
        "charges": charges,
        "net_pnl": net,
        "exit_reason": "signal",
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(TRADE_COLUMNS))


def _weekdays(start: dt.date, n: int) -> list[dt.date]:
    days, d = [], start
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


DAYS5 = _weekdays(dt.date(2024, 1, 1), 5)  # Mon 1 Jan .. Fri 5 Jan 2024


@pytest.fixture
def hand_case() -> pd.DataFrame:
    d1, _, d3, d4, d5 = DAYS5
    return _frame(
        [
            _trade(d1, 1000.0, exit_at="10:30", entry_at="09:30"),
            _trade(d1, -400.0, exit_at="11:30", entry_at="10:45", symbol="TCS"),
            _trade(d3, -2000.0, strategy="atr_reversal", side="SHORT"),
            _trade(d4, 500.0, exit_at="11:00"),
            _trade(d4, 300.0, exit_at="13:00", symbol="TCS", strategy="atr_reversal"),
            _trade(d5, 0.0, charges=40.0),
        ]
    )


# -- hand-computed small case -----------------------------------------------------------------


def test_counts_and_rates(hand_case: pd.DataFrame) -> None:
    m = compute_metrics(hand_case, CAPITAL, DAYS5)
    assert (m["trades"], m["wins"], m["losses"], m["breakeven"]) == (6, 3, 2, 1)
    assert m["win_rate"] == 0.5
    assert (m["long_trades"], m["short_trades"]) == (5, 1)
    assert m["gross_profit"] == 1800.0
    assert m["gross_loss"] == 2400.0
    assert m["profit_factor"] == pytest.approx(0.75, abs=1e-15)
    assert m["expectancy"] == -100.0  # (1000 - 400 - 2000 + 500 + 300 + 0) / 6
    assert m["avg_win"] == 600.0
    assert m["avg_loss"] == -1200.0
    assert (m["best"], m["worst"]) == (1000.0, -2000.0)
    assert m["max_consecutive_losses"] == 2  # -400 (day 1) then -2000 (day 3)
    assert m["max_consecutive_wins"] == 2


def test_money_totals_reconcile(hand_case: pd.DataFrame) -> None:
    m = compute_metrics(hand_case, CAPITAL, DAYS5)
    assert m["net_pnl"] == -600.0
    assert m["charges"] == 240.0
    assert m["gross_pnl"] == -360.0
    assert m["final_equity"] == 99_400.0
    assert m["total_points"] == -36.0  # 104 - 36 - 196 + 54 + 34 + 4 (qty 10)
    assert m["total_return"] == pytest.approx(-0.006, abs=1e-15)


def test_drawdown_in_rupees_sees_intraday_peaks(hand_case: pd.DataFrame) -> None:
    # trade-close equity: 100000 -> 101000 (peak) -> 100600 -> 98600 -> 99100 -> 99400 -> 99400
    m = compute_metrics(hand_case, CAPITAL, DAYS5)
    assert m["max_drawdown_rupees"] == 2400.0
    # the daily curve only sees 100600 (end of day 1) -> 98600 (end of day 3)
    assert m["max_drawdown"] == pytest.approx(2000.0 / 100_600.0, rel=1e-12)


def test_daily_returns_attribute_pnl_to_exit_day(hand_case: pd.DataFrame) -> None:
    curve = daily_equity(hand_case, CAPITAL, DAYS5)
    assert list(curve.index) == DAYS5
    assert list(curve["pnl"]) == [600.0, 0.0, -2000.0, 800.0, 0.0]
    assert list(curve["equity"]) == [100_600.0, 100_600.0, 98_600.0, 99_400.0, 99_400.0]
    expected = [600 / 100_000, 0.0, -2000 / 100_600, 800 / 98_600, 0.0]
    assert curve["ret"].tolist() == pytest.approx(expected, rel=1e-15)


def test_exposure_stats(hand_case: pd.DataFrame) -> None:
    m = compute_metrics(hand_case, CAPITAL, DAYS5)
    assert m["days"] == 5
    assert m["days_traded"] == 4
    assert m["days_traded_pct"] == 0.8
    assert m["max_concurrent"] == 2  # day 4: 10:00-11:00 and 10:00-13:00 overlap
    # holds: 60, 45, 240, 60, 180, 240 minutes
    assert m["avg_hold_minutes"] == 137.5


# -- cross-check against empyrical ------------------------------------------------------------


def _random_run(seed: int, n_days: int = 120) -> tuple[pd.DataFrame, list[dt.date], np.ndarray]:
    """Trades on random days (some days empty, some with several trades) and the daily
    returns computed independently here: r_d = pnl_d / equity at the end of day d-1."""
    rng = np.random.default_rng(seed)
    days = _weekdays(dt.date(2022, 1, 3), n_days)
    rows = []
    for day in days:
        for k in range(int(rng.integers(0, 4))):
            net = round(float(rng.normal(150.0, 1500.0)), 2)
            charges = round(float(rng.uniform(20.0, 90.0)), 2)
            rows.append(_trade(day, net, charges, exit_at=f"1{k}:30", entry_at=f"1{k}:00"))
    trades = _frame(rows)
    by_day = {d: 0.0 for d in days}
    for row in rows:
        by_day[row["exit_time"].date()] += row["net_pnl"]
    equity, rets = CAPITAL, []
    for d in days:
        rets.append(by_day[d] / equity)
        equity += by_day[d]
    return trades, days, np.array(rets)


@pytest.mark.parametrize("seed", [1, 7, 42, 2024])
def test_ratios_match_empyrical(seed: int) -> None:
    trades, days, rets = _random_run(seed)
    m = compute_metrics(trades, CAPITAL, days)
    assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(rets), rel=1e-9, abs=1e-12)
    assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(rets), rel=1e-9, abs=1e-12)
    assert m["calmar"] == pytest.approx(empyrical.calmar_ratio(rets), rel=1e-9, abs=1e-12)
    assert m["max_drawdown"] == pytest.approx(-empyrical.max_drawdown(rets), rel=1e-9, abs=1e-12)
    assert m["annual_return"] == pytest.approx(empyrical.annual_return(rets), rel=1e-9, abs=1e-12)
    assert m["cagr"] == m["annual_return"]
    assert m["annual_volatility"] == pytest.approx(
        empyrical.annual_volatility(rets), rel=1e-9, abs=1e-12
    )


@pytest.mark.parametrize("seed", [3, 11])
def test_daily_curve_matches_independent_returns(seed: int) -> None:
    trades, days, rets = _random_run(seed)
    curve = daily_equity(trades, CAPITAL, days)
    np.testing.assert_allclose(curve["ret"].to_numpy(), rets, rtol=1e-12, atol=1e-15)


def test_hand_case_ratios_match_empyrical(hand_case: pd.DataFrame) -> None:
    rets = np.array([600 / 100_000, 0.0, -2000 / 100_600, 800 / 98_600, 0.0])
    m = compute_metrics(hand_case, CAPITAL, DAYS5)
    assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(rets), rel=1e-9)
    assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(rets), rel=1e-9)
    assert m["calmar"] == pytest.approx(empyrical.calmar_ratio(rets), rel=1e-9)
    assert m["annual_return"] == pytest.approx(empyrical.annual_return(rets), rel=1e-9)


# -- paisa exactness ------------------------------------------------------------------------------


def test_sums_are_exact_to_the_paisa() -> None:
    # 0.1 and 0.2 summed as floats drift (0.1 * 3 != 0.3); Decimal sums must not.
    rows = [
        _trade(DAYS5[i % 5], net=round(0.1 * (i % 7) - 0.2, 2), charges=0.07 + (i % 3) / 10)
        for i in range(3001)
    ]
    for row in rows:
        row["charges"] = round(row["charges"], 2)
        row["gross_pnl"] = round(row["net_pnl"] + row["charges"], 2)
    trades = _frame(rows)
    m = compute_metrics(trades, CAPITAL, DAYS5)
    gross, charges, net = (Decimal(repr(m[k])) for k in ("gross_pnl", "charges", "net_pnl"))
    assert gross - charges == net
    assert net == sum((Decimal(repr(r["net_pnl"])) for r in rows), Decimal(0))
    assert charges == sum((Decimal(repr(r["charges"])) for r in rows), Decimal(0))


def test_a_trade_that_does_not_reconcile_is_refused(hand_case: pd.DataFrame) -> None:
    hand_case.loc[2, "charges"] = 41.0
    with pytest.raises(DataError, match="row 2"):
        compute_metrics(hand_case, CAPITAL, DAYS5)


# -- edge cases -----------------------------------------------------------------------------------


def test_no_trades() -> None:
    m = compute_metrics(_frame([]), CAPITAL, DAYS5)
    assert (m["trades"], m["wins"], m["losses"]) == (0, 0, 0)
    assert (m["gross_pnl"], m["charges"], m["net_pnl"], m["total_points"]) == (0.0, 0.0, 0.0, 0.0)
    for key in ("win_rate", "profit_factor", "expectancy", "avg_win", "avg_loss", "best", "worst"):
        assert m[key] is None, key
    assert m["max_drawdown"] == 0.0 and m["max_drawdown_rupees"] == 0.0
    assert m["annual_return"] == 0.0
    assert m["sharpe"] is None and m["sortino"] is None and m["calmar"] is None
    assert m["avg_hold_minutes"] is None and m["max_concurrent"] == 0
    json.dumps(m, allow_nan=False)


def test_no_trades_and_a_bare_dataframe() -> None:
    m = compute_metrics(pd.DataFrame(), CAPITAL, [])
    assert m["trades"] == 0 and m["days"] == 0 and m["annual_return"] is None
    assert per_strategy(pd.DataFrame(), CAPITAL, []) == {}


def test_all_winners() -> None:
    trades = _frame([_trade(d, 250.0 * (i + 1)) for i, d in enumerate(DAYS5)])
    m = compute_metrics(trades, CAPITAL, DAYS5)
    assert m["wins"] == 5 and m["losses"] == 0 and m["win_rate"] == 1.0
    assert m["profit_factor"] is None  # no losses: infinite, reported as null
    assert m["avg_loss"] is None
    assert m["max_drawdown"] == 0.0 and m["max_drawdown_rupees"] == 0.0
    assert m["sortino"] is None  # no downside
    assert m["calmar"] is None  # no drawdown
    assert m["sharpe"] is not None and m["sharpe"] > 0
    json.dumps(m, allow_nan=False)


def test_all_losers_profit_factor_is_zero() -> None:
    trades = _frame([_trade(DAYS5[0], -100.0), _trade(DAYS5[1], -50.0)])
    assert compute_metrics(trades, CAPITAL, DAYS5)["profit_factor"] == 0.0


def test_one_day() -> None:
    day = [dt.date(2024, 3, 4)]
    trades = _frame([_trade(day[0], -1500.0), _trade(day[0], 500.0, exit_at="15:00")])
    m = compute_metrics(trades, CAPITAL, day)
    rets = np.array([-1000.0 / CAPITAL])
    assert m["sharpe"] is None and m["sortino"] is None  # fewer than two returns
    assert m["annual_volatility"] is None
    assert m["max_drawdown"] == pytest.approx(-empyrical.max_drawdown(rets), rel=1e-12)
    assert m["annual_return"] == pytest.approx(empyrical.annual_return(rets), rel=1e-9)
    assert m["calmar"] == pytest.approx(empyrical.calmar_ratio(rets), rel=1e-9)
    assert m["max_drawdown_rupees"] == 1500.0
    json.dumps(m, allow_nan=False)


def test_ruin_gives_null_ratios_not_a_crash() -> None:
    trades = _frame([_trade(DAYS5[0], -1500.0), _trade(DAYS5[1], 200.0)])
    m = compute_metrics(trades, 1000.0, DAYS5)
    assert m["final_equity"] == -300.0
    assert m["sharpe"] is None and m["annual_return"] is None and m["calmar"] is None
    assert m["max_drawdown"] == pytest.approx(1.5)
    json.dumps(m, allow_nan=False)


def test_every_value_is_plain_json(hand_case: pd.DataFrame) -> None:
    m = compute_metrics(hand_case, CAPITAL, DAYS5)
    for key, value in m.items():
        assert value is None or type(value) in (int, float, str, bool), (key, type(value))
        assert not (isinstance(value, float) and not math.isfinite(value)), key
    json.dumps(m, allow_nan=False)


# -- inputs -------------------------------------------------------------------------------------


def test_exit_day_missing_from_session_days_is_refused(hand_case: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="2024-01-05"):
        compute_metrics(hand_case, CAPITAL, DAYS5[:4])


def test_missing_column_is_refused(hand_case: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="net_pnl"):
        compute_metrics(hand_case.drop(columns=["net_pnl"]), CAPITAL, DAYS5)


@pytest.mark.parametrize("capital", [0.0, -5.0, float("nan")])
def test_bad_capital_is_a_config_error(hand_case: pd.DataFrame, capital: float) -> None:
    with pytest.raises(ConfigError):
        compute_metrics(hand_case, capital, DAYS5)


def test_times_read_back_from_csv_strings_give_the_same_metrics(hand_case: pd.DataFrame) -> None:
    as_text = hand_case.copy()
    for col in ("entry_time", "exit_time"):
        as_text[col] = [ts.isoformat() for ts in hand_case[col]]
    assert compute_metrics(as_text, CAPITAL, DAYS5) == compute_metrics(hand_case, CAPITAL, DAYS5)


def test_utc_times_are_attributed_to_the_kolkata_day() -> None:
    # 19:00 UTC on 1 Jan is 00:30 IST on 2 Jan
    trade = _trade(DAYS5[0], 100.0)
    trade["entry_time"] = pd.Timestamp("2024-01-01 18:00", tz="UTC")
    trade["exit_time"] = pd.Timestamp("2024-01-01 19:00", tz="UTC")
    curve = daily_equity(_frame([trade]), CAPITAL, DAYS5)
    assert curve.loc[DAYS5[1], "pnl"] == 100.0


def test_session_days_may_arrive_unsorted_and_repeated(hand_case: pd.DataFrame) -> None:
    shuffled = [DAYS5[3], DAYS5[0], DAYS5[4], DAYS5[1], DAYS5[2], DAYS5[0]]
    assert compute_metrics(hand_case, CAPITAL, shuffled) == compute_metrics(
        hand_case, CAPITAL, DAYS5
    )


# -- breakdowns -----------------------------------------------------------------------------------


def test_per_strategy_and_per_symbol(hand_case: pd.DataFrame) -> None:
    by_strategy = per_strategy(hand_case, CAPITAL, DAYS5)
    assert list(by_strategy) == ["atr_reversal", "ema_cross"]
    assert by_strategy["atr_reversal"]["trades"] == 2
    assert by_strategy["atr_reversal"]["net_pnl"] == -1700.0
    assert by_strategy["ema_cross"]["net_pnl"] == 1100.0
    assert by_strategy["ema_cross"]["days"] == 5  # every session day, not just its trade days

    by_symbol = per_symbol(hand_case, CAPITAL, DAYS5)
    assert list(by_symbol) == ["INFY", "TCS"]
    total = sum(Decimal(repr(v["net_pnl"])) for v in by_symbol.values())
    assert total == Decimal(repr(compute_metrics(hand_case, CAPITAL, DAYS5)["net_pnl"]))
    json.dumps(by_strategy, allow_nan=False)


def test_scale_out_legs_count_as_one_trade() -> None:
    day = dt.date(2024, 3, 4)
    # one long of 10: 5 out at +20 points (scale-out), 5 out at -4 points (stop); one other trade
    rows = [
        _trade(day, 60.0, charges=40.0, qty=5, exit_at="11:00"),   # gross 100 -> 20 points
        _trade(day, -60.0, charges=40.0, qty=5, exit_at="12:00"),  # gross -20 -> -4 points
        _trade(day, -50.0, charges=40.0, qty=10, entry_at="13:00", exit_at="14:00"),  # -1 point
    ]
    m = compute_metrics(_frame(rows), CAPITAL, [day])
    assert m["trades"] == 2 and m["legs"] == 3
    assert m["wins"] == 0 and m["losses"] == 1 and m["breakeven"] == 1  # the split trade nets 0
    assert m["total_points"] == pytest.approx((5 * 20 + 5 * -4) / 10 + -1.0)
    assert m["net_pnl"] == -50.0 and m["gross_pnl"] == 70.0 and m["charges"] == 120.0
    assert m["max_drawdown_rupees"] == 110.0  # legs: +60, then -60, -50 from the peak
    assert m["avg_hold_minutes"] == pytest.approx((120 + 60) / 2)
