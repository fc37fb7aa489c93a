"""Day summaries from trade legs, on exact integers (paise; points in 0.0001 units).

The rules are core/simulator/metrics.py's, so a day's row equals ``compute_metrics`` on that
day's trades (tests/unit/test_ledger_summaries.py proves it):

- A **trade is a position**: the legs of one (symbol, strategy, side, entry time) count once in
  ``trades``, ``wins``, ``losses``, ``win_rate``, ``best``, ``worst`` and ``points`` (per unit:
  the qty-weighted average exit against the entry); ``legs`` counts rows. Money totals add legs.
- A leg counts on its exit day (Asia/Kolkata); positions are intraday, so a position's legs
  share that day.
- ``points`` is the sum of the positions' per-unit points, rounded to 4 decimals as
  ``total_points`` is in the report.
- ``max_drawdown`` (rupees, positive) is intraday: the equity starts the day at 0 and is marked
  at every leg's exit, in exit order (ties: entry time, then recording order); the largest fall
  from a running peak, the start included.
- One row per strategy that traded or broke a rule that day, plus an ``ALL`` row for the day
  (also on a day with a session and nothing else).

Everything is vectorized numpy on int64 (sorts and segment reductions), so recomputing every
day of a 100,000-leg ledger takes well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from core.ledger.modes import ALL
from core.ledger.types import as_day, price, rupees

LEG_COLUMNS = (
    "day", "strategy", "symbol", "side", "entry_ns", "exit_ns", "seq",
    "qty", "points", "gross", "charges", "net",
)  # fmt: skip
SUMMARY_FIELDS = (
    "day", "strategy", "trades", "legs", "wins", "losses", "win_rate", "points", "gross",
    "charges", "net", "max_drawdown", "best", "worst", "rule_breaks",
)  # fmt: skip


def summarise(
    legs: Mapping[str, Any],
    rule_breaks: Mapping[tuple[str, str | None], int] | None = None,
    days: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Summary rows (ints: paise and 0.0001 units) for every day in ``legs`` (LEG_COLUMNS; days
    as ``YYYY-MM-DD``), ``rule_breaks`` (keyed by (day, strategy or None)) and ``days``; sorted by
    day then strategy, ALL last."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    a = {c: np.asarray(legs[c]) for c in LEG_COLUMNS}
    if len(a["day"]):
        day_code, day_names = pd.factorize(a["day"])
        strat_code, strat_names = pd.factorize(a["strategy"])
        sym_code = pd.factorize(a["symbol"])[0]
        side_code = pd.factorize(a["side"])[0]
        ints = {c: a[c].astype(np.int64) for c in ("entry_ns", "exit_ns", "seq", "qty", "points", "gross", "charges", "net")}
        for group, strategy_of in ((day_code * len(strat_names) + strat_code, None), (day_code, ALL)):
            stats = _group_stats(group, sym_code, side_code, strat_code, ints)
            for g, s in stats.items():
                d = int(g // len(strat_names)) if strategy_of is None else int(g)
                name = strategy_of or str(strat_names[int(g % len(strat_names))])
                rows[(str(day_names[d]), name)] = {"day": str(day_names[d]), "strategy": name, **s}
    for (day, strategy), count in (rule_breaks or {}).items():
        keys = ((day, strategy), (day, ALL)) if strategy not in (None, ALL) else ((day, ALL),)
        for key in keys:
            rows.setdefault(key, _empty(*key))["rule_breaks"] += count  # type: ignore[arg-type]
    for day in days:
        rows.setdefault((day, ALL), _empty(day, ALL))
    return [rows[k] for k in sorted(rows, key=lambda k: (k[0], k[1] == ALL, k[1]))]


def _group_stats(
    group: np.ndarray, sym: np.ndarray, side: np.ndarray, strat: np.ndarray, v: dict[str, np.ndarray]
) -> dict[int, dict[str, Any]]:
    """Per group code: leg money, intraday drawdown and the position statistics."""
    # legs in equity order within each group: exit, entry, recording order
    order = np.lexsort((v["seq"], v["entry_ns"], v["exit_ns"], group))
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    codes = g[starts]
    net = v["net"][order]
    legs = np.diff(np.r_[starts, len(g)])
    gross = np.add.reduceat(v["gross"][order], starts)
    charges = np.add.reduceat(v["charges"][order], starts)
    total = np.add.reduceat(net, starts)
    drawdown = _drawdown(net, starts, len(g))

    # positions: (group, strategy, symbol, side, entry) -> one trade
    p_order = np.lexsort((v["entry_ns"], side, sym, strat, group))
    keys = np.stack([group[p_order], strat[p_order], sym[p_order], side[p_order], v["entry_ns"][p_order]])
    p_starts = np.flatnonzero(np.r_[True, (keys[:, 1:] != keys[:, :-1]).any(axis=0)])
    p_group = group[p_order][p_starts]
    p_net = np.add.reduceat(v["net"][p_order], p_starts)
    p_wpts = np.add.reduceat(v["points"][p_order] * v["qty"][p_order], p_starts)
    p_qty = np.add.reduceat(v["qty"][p_order], p_starts)
    g_starts = np.flatnonzero(np.r_[True, p_group[1:] != p_group[:-1]])
    trades = np.diff(np.r_[g_starts, len(p_group)])
    wins = np.add.reduceat((p_net > 0).astype(np.int64), g_starts)
    losses = np.add.reduceat((p_net < 0).astype(np.int64), g_starts)
    best = np.maximum.reduceat(p_net, g_starts)
    worst = np.minimum.reduceat(p_net, g_starts)
    points = _points(p_wpts, p_qty, p_group, g_starts)

    out: dict[int, dict[str, Any]] = {}
    for i, code in enumerate(codes.tolist()):  # both orders list the groups ascending
        n = int(trades[i])
        out[code] = {
            "trades": n, "legs": int(legs[i]), "wins": int(wins[i]), "losses": int(losses[i]),
            "win_rate": int(wins[i]) / n, "points": points[i], "gross": int(gross[i]),
            "charges": int(charges[i]), "net": int(total[i]), "max_drawdown": int(drawdown[i]),
            "best": int(best[i]), "worst": int(worst[i]), "rule_breaks": 0,
        }
    return out


def _drawdown(net: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """Largest fall from the running peak (start at 0) within each segment of ``net``."""
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
    equity = np.cumsum(net)
    equity -= np.r_[0, equity][starts][seg]  # restart at 0 in each segment
    span = int(np.abs(net).sum()) + 1
    if span * (len(starts) + 1) < 2**62:  # lift each segment above the previous: one accumulate
        lift = seg.astype(np.int64) * (2 * span)
        peak = np.maximum.accumulate(equity + lift) - lift
    else:  # pragma: no cover - astronomically large amounts
        peak = np.concatenate([np.maximum.accumulate(s) for s in np.split(equity, starts[1:])])
    peak = np.maximum(peak, 0)
    return np.maximum.reduceat(peak - equity, starts)


def _points(wpts: np.ndarray, qty: np.ndarray, group: np.ndarray, g_starts: np.ndarray) -> list[int]:
    """Per group: the sum of per-unit position points, rounded to 4 dp as metrics' total_points."""
    exact = wpts % qty == 0
    whole = np.add.reduceat(np.where(exact, wpts // qty, 0), g_starts)
    out = [int(x) for x in whole]
    if exact.all():
        return out
    index = np.searchsorted(g_starts, np.arange(len(group)), side="right") - 1
    extra: dict[int, Decimal] = {}
    for i in np.flatnonzero(~exact).tolist():
        k = int(index[i])
        extra[k] = extra.get(k, Decimal(0)) + Decimal(int(wpts[i])) / Decimal(int(qty[i]))
    for k, frac in extra.items():
        total = (Decimal(out[k]) + frac).scaleb(-4)
        out[k] = int(round(round(float(total), 4) * 10_000))
    return out


def _empty(day: str, strategy: str) -> dict[str, Any]:
    return {
        "day": day, "strategy": strategy, "trades": 0, "legs": 0, "wins": 0, "losses": 0,
        "win_rate": None, "points": 0, "gross": 0, "charges": 0, "net": 0, "max_drawdown": 0,
        "best": None, "worst": None, "rule_breaks": 0,
    }


MONEY_FIELDS = ("gross", "charges", "net", "max_drawdown", "best", "worst")


def public(row: dict[str, Any], mode: str, run: int | None) -> dict[str, Any]:
    """A stored summary row as the repository returns it: a date, Decimal money and points."""
    out: dict[str, Any] = {"day": as_day(row["day"]), "mode": mode, "sim_run_id": run}
    for f in SUMMARY_FIELDS[1:]:
        v = row[f]
        if f in MONEY_FIELDS:
            v = None if v is None else rupees(v)
        elif f == "points":
            v = price(v)
        out[f] = v
    return out
