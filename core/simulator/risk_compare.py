"""What the guardrails did to a run: its risk figures, and a run with them beside one without.

``atw sim --risk ...`` (or a ``[risk]`` table in ``config.toml``) runs the strategies through the
live engine, where the portfolio risk engine sizes and checks every entry (a portfolio cannot be
judged one instrument at a time, as the fast path trades). ``--compare-risk`` runs the same
data again with the guardrails off — caps, heat, correlation, tail limits, drawdown levels, the
daily loss limit, cooldowns, lockouts, kill triggers — keeping the capital, the sizing and the
order basics, so the difference is the guardrails' alone — and prints
both side by side: trades, net P&L, max drawdown, the worst day, the entries each rule refused,
the locks that fired. No trader watches a simulation, so a lock (daily loss, hard drawdown) is
lifted at the next session's start, as a trader would before the open (journaled as such).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core.journal.reader import iter_records
from core.journal.records import RecordType
from core.market.bars import BarSeries
from core.market.instruments import master_for
from core.risk.limits import RiskLimits
from core.simulator.metrics import worst_day
from core.strategies.base import Strategy

KEPT = ("capital", "max_open_positions", "orders_per_second", "orders_per_minute", "sizing", "risk_per_trade_pct",
        "vol_target_pct", "kelly_fraction", "kelly_cap_pct")  # what a run "without guardrails" keeps


@dataclass(frozen=True)
class GuardedRun:
    """A simulation under the risk settings: its trades, its report (with the ``risk`` figures)."""

    trades: pd.DataFrame
    report: dict[str, Any]
    journal_dir: Path


def run_guarded(series: Sequence[BarSeries], strategies: Sequence[Strategy], limits: RiskLimits, *,
                costs: str, priority: str = "best", home: Path | None = None,
                warmup: Sequence[Any] = ()) -> GuardedRun:
    """Every instrument x strategy through the live engine under ``limits`` (no ledger rows: the
    caller saves what it keeps); a lock lasts its day, as if a trader lifted it before the open."""
    from core.automation.replay import run_replay

    master = master_for(series)  # an instrument the master lacks is assumed, as the fast path assumes it
    arms = [(s.symbol, st.name) for s in series for st in strategies]

    def lift_locks_overnight(engine: Any) -> None:  # no trader in a simulation
        engine.lift_locks_daily = True

    result = run_replay(series, strategies, arms, costs=costs, capital=float(limits.capital), priority=priority,
                        limits=limits, master=master, home=home, ledger=False, on_engine=lift_locks_overnight,
                        warmup=warmup)
    figures = risk_figures(result.report, result.trades, result.journal_dir)
    result.report.update(engine="event+risk", risk=figures)
    return GuardedRun(result.trades, result.report, result.journal_dir)


def without_guardrails(limits: RiskLimits) -> RiskLimits:
    """The same capital, sizing and order basics, every guardrail off."""
    return RiskLimits(**{name: getattr(limits, name) for name in KEPT})


def risk_figures(report: dict[str, Any], trades: pd.DataFrame, journal_dir: Any) -> dict[str, Any]:
    """A run's risk figures: worst day, refusals by rule, drawdown levels and locks reached."""
    day, worst = worst_day(trades)
    refused: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    levels: Counter[str] = Counter()
    cooldowns = 0
    for path in sorted(journal_dir.glob("*.jsonl")):
        for rec in iter_records(path):
            if rec.type == RecordType.RISK_CHECK and not rec.payload.get("accepted"):
                code = rec.payload.get("code", "?")
                refused[code] += 1
                reasons.setdefault(code, Counter())[str(rec.payload.get("reason", ""))] += 1
            elif rec.type == RecordType.NOTE and rec.payload.get("event") == "drawdown":
                levels[rec.payload["level"]] += 1
            elif rec.type == RecordType.NOTE and rec.payload.get("event") == "cooldown":
                cooldowns += 1
    return {"trades": report["trades"], "net_pnl": report["net_pnl"], "max_drawdown": report["max_drawdown"],
            "max_drawdown_rupees": report["max_drawdown_rupees"], "worst_day": str(day) if day else None,
            "worst_day_pnl": worst, "refused": dict(sorted(refused.items())),
            "refused_most_often": {code: c.most_common(1)[0][0] for code, c in sorted(reasons.items())},
            "drawdown_levels": dict(levels), "cooldowns": cooldowns}


def format_comparison(guarded: dict[str, Any], bare: dict[str, Any]) -> str:
    """The two runs' risk figures side by side."""
    rows = [
        ("trades", guarded["trades"], bare["trades"], "{}"),
        ("net P&L", guarded["net_pnl"], bare["net_pnl"], "{:,.2f}"),
        ("max drawdown", guarded["max_drawdown"], bare["max_drawdown"], "{:.2%}"),
        ("max drawdown (Rs)", guarded["max_drawdown_rupees"], bare["max_drawdown_rupees"], "{:,.2f}"),
        ("worst day", _day(guarded), _day(bare), "{}"),
        ("entries refused", _counts(guarded["refused"]), _counts(bare["refused"]), "{}"),
        ("drawdown levels", _counts(guarded["drawdown_levels"]), _counts(bare["drawdown_levels"]), "{}"),
        ("cooldowns", guarded["cooldowns"], bare["cooldowns"], "{}"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':<{width}}   {'with guardrails':>28}   {'without':>28}"]
    for name, a, b, fmt in rows:
        lines.append(f"{name:<{width}}   {_cell(a, fmt):>28}   {_cell(b, fmt):>28}")
    for code, why in guarded.get("refused_most_often", {}).items():
        lines.append(f"  refused ({code}) most often because: {why}")
    return "\n".join(lines)


def _day(figures: dict[str, Any]) -> str:
    if figures["worst_day"] is None:
        return "-"
    return f"{figures['worst_day']} {figures['worst_day_pnl']:,.2f}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)
