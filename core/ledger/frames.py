"""The simulator's trades table <-> trade rows of the ledger, a whole frame at a time.

In: the ``trades.csv`` columns (DESIGN.md §4), optionally the detail columns (initial_stop,
confidence, signal_time and the six charge components) and ``position_id`` / ``trace_id``.
Every value is checked on the way in: prices on 4 decimals, money on the paisa,
``gross - charges == net``, the components adding up to ``charges``, points equal to
``(exit - entry) x side``. Out: the same columns with the simulator's dtypes (times tz-aware
Asia/Kolkata, prices and money as floats whose shortest form is the stored decimal), so
``write_trades_csv`` writes the very same text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LedgerError
from core.ledger.models import TRADE_SIDES
from core.ledger.modes import ALL
from core.ledger.types import PAISE, PRICE_SCALE, ist_index, ns_array, paise_array, units_array
from core.simulator.costs import COMPONENTS
from core.simulator.trades import DETAIL_COLUMNS, TRADE_COLUMNS

#: Trade-table columns filled from a trades frame (session, mode and run are added by the caller).
ROW_COLUMNS = (
    "day", "position_id", "symbol", "strategy", "side", "qty", "entry_time", "entry_price",
    "exit_time", "exit_price", "initial_stop", "exit_reason", "points", "gross", *COMPONENTS,
    "charges", "net", "confidence", "signal_time", "trace_id",
)  # fmt: skip
MONEY_OUT = {"gross": "gross_pnl", "charges": "charges", "net": "net_pnl"}


def frame_to_rows(trades: pd.DataFrame) -> dict[str, np.ndarray]:
    """Validated, exact column arrays (ints for money/prices/times; None for missing)."""
    missing = [c for c in TRADE_COLUMNS if c not in trades.columns]
    if missing:
        raise LedgerError(f"trades table lacks column(s): {', '.join(missing)}", where="trades")
    t = trades.reset_index(drop=True)
    n = len(t)
    side = t["side"].astype(str).str.upper().to_numpy(dtype=object)
    bad_side = ~np.isin(side, TRADE_SIDES)
    if bad_side.any():
        i = int(np.argmax(bad_side))
        raise LedgerError(f"side must be LONG or SHORT, got {t['side'].iloc[i]!r}", where=f"trades row {i}")
    strategy = t["strategy"].astype(str).to_numpy(dtype=object)
    if (strategy == ALL).any():
        raise LedgerError(f"strategy tag {ALL!r} is reserved for the all-strategies summary", where="trades")
    qty = pd.to_numeric(t["qty"], errors="coerce").to_numpy()
    if n and (np.isnan(qty.astype(float)).any() or (qty <= 0).any() or (qty != np.floor(qty)).any()):
        i = int(np.argmax(~(qty > 0) | (qty != np.floor(qty))))
        raise LedgerError(f"qty must be a positive whole number, got {t['qty'].iloc[i]!r}", where=f"trades row {i}")
    qty = qty.astype(np.int64)
    entry_ns, _ = ns_array(t["entry_time"], "entry_time")
    exit_ns, _ = ns_array(t["exit_time"], "exit_time")
    entry_px, _ = units_array(t["entry_price"], "entry_price")
    exit_px, _ = units_array(t["exit_price"], "exit_price")
    points, _ = units_array(t["points"], "points")
    sign = np.where(side == "LONG", 1, -1)
    off = points != (exit_px - entry_px) * sign
    if off.any():
        i = int(np.argmax(off))
        raise LedgerError(
            f"points {t['points'].iloc[i]!r} != (exit {t['exit_price'].iloc[i]!r} - entry "
            f"{t['entry_price'].iloc[i]!r}) for a {side[i]} trade",
            where=_where(t, i),
        )
    gross = paise_array(t["gross_pnl"], "gross_pnl")
    charges = paise_array(t["charges"], "charges")
    net = paise_array(t["net_pnl"], "net_pnl")
    off = gross - charges != net
    if off.any():
        i = int(np.argmax(off))
        raise LedgerError(
            f"gross_pnl {gross[i] / PAISE:.2f} - charges {charges[i] / PAISE:.2f} != net_pnl {net[i] / PAISE:.2f}",
            where=_where(t, i),
        )
    comps = {c: paise_array(t[c], c) if c in t.columns else np.zeros(n, dtype=np.int64) for c in COMPONENTS}
    if all(c in t.columns for c in COMPONENTS):
        off = sum(comps.values()) != charges
        if off.any():
            i = int(np.argmax(off))
            raise LedgerError(f"charge components add up to {sum(v[i] for v in comps.values()) / PAISE:.2f}, "
                              f"not charges {charges[i] / PAISE:.2f}", where=_where(t, i))
    stop, stop_na = units_array(_col(t, "initial_stop", n), "initial_stop", allow_missing=True)
    signal, signal_na = ns_array(_col(t, "signal_time", n), "signal_time", allow_missing=True)
    conf = pd.to_numeric(_col(t, "confidence", n), errors="coerce").to_numpy(dtype=float)
    days = ist_index(exit_ns).strftime("%Y-%m-%d").to_numpy(dtype=object)
    return {
        "day": days,
        "position_id": _text(t, "position_id", n),
        "symbol": t["symbol"].astype(str).to_numpy(dtype=object),
        "strategy": strategy,
        "side": side,
        "qty": qty,
        "entry_time": entry_ns,
        "entry_price": entry_px,
        "exit_time": exit_ns,
        "exit_price": exit_px,
        "initial_stop": _nullable(stop, stop_na),
        "exit_reason": t["exit_reason"].astype(str).to_numpy(dtype=object),
        "points": points,
        "gross": gross,
        **comps,
        "charges": charges,
        "net": net,
        "confidence": _nullable(conf, np.isnan(conf)),
        "signal_time": _nullable(signal, signal_na),
        "trace_id": _text(t, "trace_id", n),
    }


def rows_to_frame(columns: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Stored trade columns (ints as stored, by column name) -> the simulator's trades frame, with
    any other columns after the contract and detail columns."""
    out: dict[str, Any] = {}
    for c, values in columns.items():
        if c in ("entry_time", "exit_time"):
            out[c] = ist_index(np.array(values, dtype=np.int64))
        elif c == "signal_time":
            out[c] = _times_nullable(values)
        elif c in ("entry_price", "exit_price", "points", "initial_stop"):
            out[c] = np.array(values, dtype=float) / PRICE_SCALE  # None -> NaN
        elif c in MONEY_OUT or c in COMPONENTS:
            out[MONEY_OUT.get(c, c)] = np.array(values, dtype=np.int64) / PAISE
        elif c == "qty":
            out[c] = np.array(values, dtype=np.int64)
        elif c == "confidence":
            out[c] = np.array(values, dtype=float)
        elif c in ("symbol", "strategy", "side", "exit_reason", "mode"):
            out[c] = pd.array(list(values), dtype="str")
        elif c == "sim_run_id":
            out[c] = pd.array(list(values), dtype="Int64")
        else:
            out[c] = np.array(values, dtype=object)
    frame = pd.DataFrame(out)
    order = [c for c in (*TRADE_COLUMNS, *DETAIL_COLUMNS) if c in frame.columns]
    return frame[order + [c for c in frame.columns if c not in order]]


def _times_nullable(values: Sequence[Any]) -> pd.DatetimeIndex:
    ns = np.array([-1 if v is None else v for v in values], dtype=np.int64)
    times = ist_index(ns)
    return times.where(ns != -1, pd.NaT) if len(ns) else times


def _col(t: pd.DataFrame, name: str, n: int) -> pd.Series:
    return t[name] if name in t.columns else pd.Series([None] * n, dtype=object)


def _text(t: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name not in t.columns:
        return np.full(n, None, dtype=object)
    return np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in t[name]],
                    dtype=object)


def _nullable(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    out = values.astype(object)
    out[missing] = None
    return out


def _where(t: pd.DataFrame, i: int) -> str:
    return f"trades row {i} ({t['symbol'].iloc[i]} {t['strategy'].iloc[i]} exit {t['exit_time'].iloc[i]})"
