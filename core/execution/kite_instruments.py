"""Kite's daily instrument dump: downloaded once a day, cached under ATW_HOME, and read into
the instrument master (tick size, lot size and a derivative's contract terms from Kite win over
the bundled master's; freeze quantities come from the bundled table, Kite publishes none).

Kite reuses the tokens of expired derivatives, so rows are keyed on ``exchange:tradingsymbol``
and the cache is per trading day (IST): Zerodha advises fetching it once a day before the open.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.clock import IST
from core.errors import DataError
from core.market.instruments import (
    CostSegment,
    Instrument,
    InstrumentMaster,
    with_freeze,
    with_underlying_sector,
)

FIELDS = ("instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike",
          "tick_size", "lot_size", "instrument_type", "segment", "exchange")


def cached_dump(gateway: Any, exchange: str, cache_dir: Path, now: dt.datetime) -> list[dict[str, str]]:
    """Today's dump of ``exchange`` from the cache, or from Kite (then cached)."""
    path = cache_dir / f"kite-instruments-{exchange}-{now.astimezone(IST):%Y-%m-%d}.csv"
    if path.exists():
        with path.open(newline="") as fh:
            return list(csv.DictReader(fh))
    rows = [{k: "" if row.get(k) is None else str(row.get(k)) for k in FIELDS} for row in gateway.instruments(exchange)]
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return rows


def rows_for(gateway: Any, symbols: Iterable[str], cache_dir: Path, now: dt.datetime,
             exchanges: tuple[str, ...] = ("NSE", "NFO"), *, strict: bool = True) -> dict[str, Mapping[str, str]]:
    """Each symbol's dump row, looked up on NSE first, then on NFO (futures and options); a later
    exchange's dump is fetched only for what the earlier ones lack. ``DataError`` names the rest
    (``strict``), or they are left out."""
    wanted = sorted(set(symbols))
    found: dict[str, Mapping[str, str]] = {}
    for exchange in exchanges:
        left = [s for s in wanted if s not in found]
        if not left:
            break
        by_symbol = {r["tradingsymbol"]: r for r in cached_dump(gateway, exchange, cache_dir, now)
                     if r.get("exchange", exchange) == exchange}
        found.update({s: by_symbol[s] for s in left if s in by_symbol})
    missing = [s for s in wanted if s not in found]
    if missing and strict:
        raise DataError(f"not in Kite's {' or '.join(exchanges)} instruments: {', '.join(missing)}",
                        where="instruments")
    return {s: found[s] for s in wanted if s in found}


def with_kite_terms(master: InstrumentMaster, rows: Mapping[str, Mapping[str, str]]) -> InstrumentMaster:
    """The master with Kite's terms for the given symbols (added when unknown): tick and lot size;
    for a derivative, its kind, underlying, expiry, strike and option type, its cost segment,
    and its underlying's freeze quantity (Kite's dump has none: ``resources/freeze_quantities.csv``)."""
    merged: dict[str, Instrument] = {s: master.get(s) for s in master.symbols()}
    for symbol, row in rows.items():
        base = merged.get(symbol) or Instrument(symbol=symbol, exchange=row.get("exchange", "NSE"))
        terms = replace(base, exchange=row.get("exchange") or base.exchange, tick_size=float(row["tick_size"]),
                        lot_size=int(row["lot_size"]))
        kind = (row.get("instrument_type") or "").upper()
        if kind in ("FUT", "CE", "PE"):
            expiry = row.get("expiry") or ""
            terms = replace(terms, kind="FUT" if kind == "FUT" else "OPT",
                            cost_segment=CostSegment.FUTURES if kind == "FUT" else CostSegment.OPTIONS,
                            underlying=(row.get("name") or "").upper(), option_type="" if kind == "FUT" else kind,
                            expiry=dt.date.fromisoformat(expiry) if expiry else None,
                            strike=float(row["strike"]) if kind != "FUT" and row.get("strike") else None)
        merged[symbol] = with_underlying_sector(with_freeze(terms), master)
    return InstrumentMaster(merged)
