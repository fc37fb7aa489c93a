"""Writing a run: ``trades.csv``, ``report.json`` and the summary a trader reads in the terminal."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from core.simulator.trades import TRADE_COLUMNS

MONEY = ("gross_pnl", "charges", "net_pnl")


def write_trades_csv(trades: pd.DataFrame, out: TextIO | Path) -> None:
    """The contract columns; times ISO-8601 with offset, money to the paisa."""
    if isinstance(out, Path):
        with out.open("w", newline="", encoding="utf-8") as fh:
            write_trades_csv(trades, fh)
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    cols = {c: trades[c].tolist() for c in TRADE_COLUMNS}
    for i in range(len(trades)):
        row = []
        for c in TRADE_COLUMNS:
            v = cols[c][i]
            if c in MONEY:
                row.append(f"{v:.2f}")
            elif isinstance(v, pd.Timestamp):
                row.append(v.isoformat())
            elif isinstance(v, float):
                row.append(repr(v))
            else:
                row.append(str(v))
        writer.writerow(row)


def json_safe(value: Any) -> Any:
    """Plain JSON types: no numpy scalars, no NaN/inf, dates as ISO text."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_report_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(json_safe(report), indent=2) + "\n", encoding="utf-8")


def write_run(out_dir: Path, trades: pd.DataFrame, report: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_trades_csv(trades, out_dir / "trades.csv")
    write_report_json(report, out_dir / "report.json")


def _fmt(value: Any, kind: str = "num") -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "ratio":
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def format_summary(report: dict[str, Any]) -> str:
    """A short, aligned summary: headline numbers, then one line per strategy."""
    r = report
    lines = [
        f"{r.get('first_day')} .. {r.get('last_day')}   {r['bars']:,} bars   engine {r['engine']}   "
        f"costs {r['costs']}   {r['elapsed_s']:.2f}s",
        "",
        f"  trades {r['trades']}   win rate {_fmt(r['win_rate'], 'pct')}   points {r['total_points']:,.2f}",
        f"  gross {_fmt(r['gross_pnl'], 'money')}   charges {_fmt(r['charges'], 'money')}   "
        f"net {_fmt(r['net_pnl'], 'money')}",
        f"  profit factor {_fmt(r['profit_factor'], 'ratio')}   expectancy {_fmt(r['expectancy'], 'money')}   "
        f"max drawdown {_fmt(r['max_drawdown'], 'pct')} ({_fmt(r['max_drawdown_rupees'], 'money')})",
        f"  sharpe {_fmt(r['sharpe'], 'ratio')}   sortino {_fmt(r['sortino'], 'ratio')}   "
        f"calmar {_fmt(r['calmar'], 'ratio')}",
    ]
    per = r.get("per_strategy") or {}
    if per:
        lines += ["", f"  {'strategy':<16}{'trades':>8}{'win%':>8}{'points':>12}{'net':>16}{'PF':>7}{'maxDD':>8}"]
        for name, m in per.items():
            lines.append(
                f"  {name:<16}{m['trades']:>8}{_fmt(m['win_rate'], 'pct'):>8}{m['total_points']:>12,.2f}"
                f"{m['net_pnl']:>16,.2f}{_fmt(m['profit_factor'], 'ratio'):>7}{_fmt(m['max_drawdown'], 'pct'):>8}"
            )
    return "\n".join(lines)
