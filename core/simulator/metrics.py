"""Performance metrics of a simulator run, computed from its trades table.

Input: the ``trades.csv`` columns (DESIGN §4) as a DataFrame, the starting ``capital`` and
``session_days``, every trading day of the tested range (days without trades included).

- Money (gross_pnl, charges, net_pnl, averages, drawdown in rupees) is summed as Decimal
  from the 2-dp trade values, so ``gross_pnl - charges == net_pnl`` to the paisa in the report.
  A trade whose own gross - charges differs from its net is refused (:class:`DataError`).
- A trade counts on its exit day (Asia/Kolkata). Daily return r_d = net P&L of day d / equity
  at the end of the previous day, equity starting at ``capital``; no trades means r_d = 0.
- Sharpe, Sortino, Calmar, CAGR and max_drawdown follow empyrical's definitions (252 days a
  year, zero risk-free rate and required return, sample std with ddof=1); max_drawdown is a
  positive fraction of the daily equity curve (which starts at ``capital``).
- ``max_drawdown_rupees`` is measured on the equity marked at every trade's close, so it also
  sees drawdowns that recover within a day.
- Every value is a plain int, float, str or None: undefined or infinite ratios (no trades,
  no losses for profit_factor, zero volatility, fewer than two days) are None.
- A **trade is a position**: the legs a scale-out splits it into count once (``trades``,
  wins, win rate, profit factor, expectancy, best/worst, points per unit, holding time);
  ``legs`` says how many rows the table has. Money totals and the equity curves use the legs.
- Fractions are fractions (win_rate 0.5, max_drawdown 0.12, total_return -0.006), not per cent.
  total_points is rounded to 4 dp to drop float noise from the price differences.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from core.clock import IST
from core.errors import ConfigError, DataError

TRADING_DAYS_PER_YEAR = 252
PAISA = Decimal("0.01")
ZERO = Decimal("0")

#: The trades.csv columns of the simulator contract (DESIGN.md §4), in order.
TRADE_COLUMNS = (
    "symbol", "strategy", "side", "qty", "entry_time", "entry_price", "exit_time",
    "exit_price", "points", "gross_pnl", "charges", "net_pnl", "exit_reason",
)  # fmt: skip


def compute_metrics(
    trades: pd.DataFrame, capital: float, session_days: Iterable[dt.date]
) -> dict[str, Any]:
    """Trade statistics, money totals, drawdowns and annualised daily ratios (see module doc)."""
    cap = _capital(capital)
    days = sorted(set(session_days))
    t = _prepare(trades)
    gross, charges = t["_gross"].tolist(), t["_charges"].tolist()
    net_total = sum(t["_net"].tolist(), ZERO)
    pos = _positions(t)
    net = pos["_net"].tolist()
    wins = [x for x in net if x > 0]
    losses = [x for x in net if x < 0]
    n = len(net)
    gross_profit, gross_loss = sum(wins, ZERO), -sum(losses, ZERO)

    curve = _daily_curve(t, cap, days)
    rets = curve["ret"].to_numpy(dtype=float)
    ruined = bool((curve["equity"] <= 0).any())
    max_dd = _max_drawdown(float(cap), curve["equity"].to_numpy(dtype=float))
    ann = None if ruined else _annual_return(float(cap), float(cap + net_total), len(days))
    hold = (pos["_exit"] - pos["_entry"]).dt.total_seconds() / 60.0

    out: dict[str, Any] = {
        "trades": n,
        "legs": len(t),
        "wins": len(wins),
        "losses": len(losses),
        "breakeven": n - len(wins) - len(losses),
        "long_trades": int((pos["side"] == "LONG").sum()),
        "short_trades": int((pos["side"] == "SHORT").sum()),
        "win_rate": len(wins) / n if n else None,
        "total_points": round(float(sum(pos["_points"].tolist(), ZERO)), 4),
        "gross_pnl": _rupees(sum(gross, ZERO)),
        "charges": _rupees(sum(charges, ZERO)),
        "net_pnl": _rupees(net_total),
        "gross_profit": _rupees(gross_profit),
        "gross_loss": _rupees(gross_loss),
        "profit_factor": float(gross_profit / gross_loss) if gross_loss > 0 else None,
        "expectancy": _rupees(net_total / n) if n else None,
        "avg_win": _rupees(gross_profit / len(wins)) if wins else None,
        "avg_loss": _rupees(-gross_loss / len(losses)) if losses else None,
        "best": _rupees(max(net)) if n else None,
        "worst": _rupees(min(net)) if n else None,
        "max_consecutive_wins": _longest_run(x > 0 for x in net),
        "max_consecutive_losses": _longest_run(x < 0 for x in net),
        "capital": _rupees(cap),
        "final_equity": _rupees(cap + net_total),
        "total_return": float(net_total / cap),
        "max_drawdown": max_dd,
        "max_drawdown_rupees": _rupees(_max_drawdown_rupees(cap, t["_net"].tolist())),
        "cagr": ann,
        "annual_return": ann,
        "annual_volatility": None if ruined else _annual_volatility(rets),
        "sharpe": None if ruined else _sharpe(rets),
        "sortino": None if ruined else _sortino(rets),
        "calmar": _clean(ann / max_dd) if ann is not None and max_dd and max_dd > 0 else None,
        "days": len(days),
        "days_traded": int(t["_day"].nunique()),
        "days_traded_pct": t["_day"].nunique() / len(days) if days else None,
        "avg_hold_minutes": round(float(hold.mean()), 2) if n else None,
        "max_concurrent": _max_concurrent(pos),
    }
    return {k: _clean(v) for k, v in out.items()}


def per_strategy(
    trades: pd.DataFrame, capital: float, session_days: Iterable[dt.date]
) -> dict[str, dict[str, Any]]:
    """:func:`compute_metrics` per ``strategy`` tag, each as if it alone used ``capital``."""
    return _grouped(trades, "strategy", capital, session_days)


def per_symbol(
    trades: pd.DataFrame, capital: float, session_days: Iterable[dt.date]
) -> dict[str, dict[str, Any]]:
    """:func:`compute_metrics` per ``symbol``, each as if it alone used ``capital``."""
    return _grouped(trades, "symbol", capital, session_days)


def daily_equity(
    trades: pd.DataFrame, capital: float, session_days: Iterable[dt.date]
) -> pd.DataFrame:
    """The daily curve: index = session day; columns ``pnl``, ``equity`` (end of day), ``ret``."""
    curve = _daily_curve(_prepare(trades), _capital(capital), sorted(set(session_days)))
    return curve.astype(float)


# -- preparation -------------------------------------------------------------------------------


def _capital(capital: float) -> Decimal:
    try:
        cap = _dec(capital, "capital")
    except DataError as exc:
        raise ConfigError(f"capital must be a number, got {capital!r}", where="capital") from exc
    if cap <= 0:
        raise ConfigError(f"capital must be positive, got {capital!r}", where="capital")
    return cap


def _dec(value: Any, what: str) -> Decimal:
    """A float/int/Decimal as an exact Decimal of its shortest repr."""
    if isinstance(value, Decimal):
        out = value
    else:
        try:
            out = Decimal(repr(float(value)))
        except (TypeError, ValueError) as exc:
            raise DataError(f"{what} is not a number: {value!r}", where="trades") from exc
    if not out.is_finite():
        raise DataError(f"{what} is not a finite number: {value!r}", where="trades")
    return out


def _paisa(value: Any, what: str) -> Decimal:
    return _dec(value, what).quantize(PAISA, rounding=ROUND_HALF_UP)


def _ist_times(col: pd.Series, what: str) -> pd.Series:
    """Times as Asia/Kolkata-aware timestamps (naive values are taken as Asia/Kolkata)."""
    if not isinstance(col.dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(col):
        try:
            col = pd.to_datetime(col, format="ISO8601")
        except (ValueError, TypeError):
            try:
                col = pd.to_datetime(col, format="ISO8601", utc=True)
            except (ValueError, TypeError) as exc:
                raise DataError(f"{what} holds values that are not times", where="trades") from exc
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.dt.tz_convert(IST)
    return col.dt.tz_localize(IST)


def _prepare(trades: pd.DataFrame) -> pd.DataFrame:
    """Validated copy in exit order, with Decimal money and IST times/days added."""
    if len(trades) == 0:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in TRADE_COLUMNS})
        for c in ("_gross", "_charges", "_net", "_day"):
            empty[c] = pd.Series(dtype=object)
        empty["_entry"] = pd.Series(dtype="datetime64[ns, Asia/Kolkata]")
        empty["_exit"] = pd.Series(dtype="datetime64[ns, Asia/Kolkata]")
        return empty
    missing = [c for c in TRADE_COLUMNS if c not in trades.columns]
    if missing:
        raise DataError(f"trades table lacks column(s): {', '.join(missing)}", where="trades")
    t = trades.reset_index(drop=True).copy()
    t["_entry"] = _ist_times(t["entry_time"], "entry_time")
    t["_exit"] = _ist_times(t["exit_time"], "exit_time")
    t["_gross"] = [_paisa(v, "gross_pnl") for v in t["gross_pnl"]]
    t["_charges"] = [_paisa(v, "charges") for v in t["charges"]]
    t["_net"] = [_paisa(v, "net_pnl") for v in t["net_pnl"]]
    for i, (gross, charges, net) in enumerate(zip(t["_gross"], t["_charges"], t["_net"])):
        if gross - charges != net:
            raise DataError(
                f"gross_pnl {gross} - charges {charges} != net_pnl {net}",
                where=f"trades row {i} ({t.at[i, 'symbol']} {t.at[i, 'strategy']}"
                f" exit {t.at[i, '_exit']})",
            )
    t["_day"] = list(t["_exit"].dt.date)
    return t.sort_values(["_exit", "_entry"], kind="stable").reset_index(drop=True)


def _positions(t: pd.DataFrame) -> pd.DataFrame:
    """Legs folded into positions: scale-outs of one entry are one trade.

    A position's net is the sum of its legs; its points are per unit, weighted by each leg's
    quantity (the average exit against the entry); it ends at its last leg's exit.
    """
    if len(t) == 0:
        return t.assign(_points=pd.Series(dtype=object))
    keys = ["symbol", "strategy", "side", "_entry"]
    legs = t.assign(_wpts=[_dec(p, "points") * int(q) for p, q in zip(t["points"], t["qty"])])
    grouped = legs.groupby(keys, sort=False, dropna=False)
    pos = grouped.agg(
        _net=("_net", lambda s: sum(s.tolist(), ZERO)),
        _wpts=("_wpts", lambda s: sum(s.tolist(), ZERO)),
        qty=("qty", "sum"),
        _exit=("_exit", "max"),
    ).reset_index()
    pos["_points"] = [w / int(q) for w, q in zip(pos["_wpts"], pos["qty"])]
    return pos.sort_values(["_exit", "_entry"], kind="stable").reset_index(drop=True)


def _daily_curve(t: pd.DataFrame, cap: Decimal, days: list[dt.date]) -> pd.DataFrame:
    pnl_by_day: dict[dt.date, Decimal] = {}
    for day, net in zip(t["_day"], t["_net"]):
        pnl_by_day[day] = pnl_by_day.get(day, ZERO) + net
    stray = sorted(set(pnl_by_day) - set(days))
    if stray:
        raise DataError(
            f"trades exit on {len(stray)} day(s) missing from session_days, first {stray[0]}",
            where="session_days",
        )
    rows, equity = [], cap
    for day in days:
        pnl = pnl_by_day.get(day, ZERO)
        ret = float(pnl) / float(equity) if equity > 0 else math.nan
        equity += pnl
        rows.append((pnl, equity, ret))
    index = pd.Index(days, name="day", dtype=object)
    return pd.DataFrame(rows, columns=["pnl", "equity", "ret"], index=index)


def _grouped(
    trades: pd.DataFrame, key: str, capital: float, session_days: Iterable[dt.date]
) -> dict[str, dict[str, Any]]:
    days = sorted(set(session_days))
    if len(trades) == 0:
        return {}
    if key not in trades.columns:
        raise DataError(f"trades table lacks column: {key}", where="trades")
    return {
        str(name): compute_metrics(group, capital, days)
        for name, group in sorted(trades.groupby(key, sort=False), key=lambda kv: str(kv[0]))
    }


# -- statistics --------------------------------------------------------------------------------


def _rupees(amount: Decimal) -> float:
    return float(amount.quantize(PAISA, rounding=ROUND_HALF_UP))


def _clean(value: Any) -> Any:
    """Plain Python numbers; NaN and inf become None."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _longest_run(flags: Iterable[bool]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _max_drawdown(capital: float, equity: np.ndarray) -> float:
    """Largest peak-to-trough fall of [capital, *equity] as a positive fraction of the peak."""
    curve = np.concatenate(([capital], equity))
    peaks = np.maximum.accumulate(curve)
    return float(np.max((peaks - curve) / peaks))


def _max_drawdown_rupees(cap: Decimal, nets: list[Decimal]) -> Decimal:
    equity = peak = cap
    worst = ZERO
    for net in nets:
        equity += net
        peak = max(peak, equity)
        worst = max(worst, peak - equity)
    return worst


def _annual_return(capital: float, final: float, n_days: int) -> float | None:
    if n_days == 0 or final <= 0:
        return None
    return (final / capital) ** (TRADING_DAYS_PER_YEAR / n_days) - 1.0


def _annual_volatility(rets: np.ndarray) -> float | None:
    if len(rets) < 2:
        return None
    return float(np.std(rets, ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR))


def _sharpe(rets: np.ndarray) -> float | None:
    if len(rets) < 2 or np.all(rets == rets[0]):
        return None
    return float(np.mean(rets) / np.std(rets, ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR))


def _sortino(rets: np.ndarray) -> float | None:
    if len(rets) < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(rets, 0.0) ** 2)))
    if downside == 0:
        return None
    annual_mean = float(np.mean(rets)) * TRADING_DAYS_PER_YEAR
    return annual_mean / (downside * math.sqrt(TRADING_DAYS_PER_YEAR))


def _max_concurrent(t: pd.DataFrame) -> int:
    """Most positions open at once (an exit at the same instant as an entry frees its slot)."""
    if len(t) == 0:
        return 0
    times = np.concatenate([_epoch_ns(t["_entry"]), _epoch_ns(t["_exit"])])
    steps = np.concatenate([np.ones(len(t), dtype=np.int64), -np.ones(len(t), dtype=np.int64)])
    order = np.lexsort((steps, times))  # by time, exits (-1) before entries (+1)
    return int(np.cumsum(steps[order]).max())


def _epoch_ns(times: pd.Series) -> np.ndarray:
    return times.dt.as_unit("ns").astype("int64").to_numpy()


__all__ = ["TRADE_COLUMNS", "compute_metrics", "daily_equity", "per_strategy", "per_symbol"]


def worst_day(trades: pd.DataFrame) -> tuple[dt.date | None, float | None]:
    """The worst day (trades by their exit date in IST) and its net P&L; (None, None) without trades."""
    if not len(trades):
        return None, None
    days = pd.to_datetime(trades["exit_time"], utc=True).dt.tz_convert(IST).dt.date
    by_day = trades.groupby(days)["net_pnl"].apply(lambda s: sum(s, start=type(s.iloc[0])(0)))
    return by_day.idxmin(), round(float(by_day.min()), 2)
