"""What recording a simulator run needs besides its trades: the days it covers, its config hash
and the check that its report and its trades agree to the paisa."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.errors import LedgerError
from core.ledger.types import PAISE, as_day


def covered_days(report: dict[str, Any], days: Sequence[Any] | None, trade_days: Sequence[str]) -> list[str]:
    """``days`` (default: the NSE sessions from the report's first_day to last_day) plus every day a
    trade exits on, as sorted ``YYYY-MM-DD``."""
    if days is None:
        days = _calendar_days(report.get("first_day"), report.get("last_day"))
    return sorted({as_day(d).isoformat() for d in days} | set(trade_days))


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable hash of a run's settings (the sessions' config hash)."""
    from core.simulator.output import json_safe

    return hashlib.sha256(json.dumps(json_safe(config), sort_keys=True).encode()).hexdigest()[:16]


def reconcile(report: dict[str, Any], rows: dict[str, np.ndarray]) -> None:
    """The report's money totals and leg count must be the trades' (to the paisa)."""
    for key, column in (("gross_pnl", "gross"), ("charges", "charges"), ("net_pnl", "net")):
        if report.get(key) is None:
            continue
        want = int(rows[column].sum())
        got = round(float(report[key]) * PAISE)
        if got != want:
            raise LedgerError(f"report {key} {float(report[key]):.2f} != the trades' total {want / PAISE:.2f}",
                              where="simulator run")
    if report.get("legs") is not None and int(report["legs"]) != len(rows["day"]):
        raise LedgerError(f"report has {report['legs']} legs, the trades table {len(rows['day'])}",
                          where="simulator run")


def _calendar_days(first: Any, last: Any) -> list[dt.date]:
    if not first or not last:
        return []
    from core.clock import nse_calendar

    return [s.day for s in nse_calendar().sessions(as_day(first), as_day(last))]
