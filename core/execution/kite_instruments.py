"""Kite's daily instrument dump: downloaded once a day, cached under ATW_HOME, and read into
the instrument master (tick size and lot size from Kite win over the bundled master's).

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
from core.market.instruments import Instrument, InstrumentMaster

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


def tokens_for(rows: Iterable[Mapping[str, str]], symbols: Iterable[str], exchange: str) -> dict[str, Mapping[str, str]]:
    """The dump's row of each symbol (``DataError`` naming any Kite does not list)."""
    by_symbol = {r["tradingsymbol"]: r for r in rows if r.get("exchange", exchange) == exchange}
    wanted = sorted(set(symbols))
    missing = [s for s in wanted if s not in by_symbol]
    if missing:
        raise DataError(f"not in Kite's {exchange} instruments: {', '.join(missing)}", where="instruments")
    return {s: by_symbol[s] for s in wanted}


def with_kite_terms(master: InstrumentMaster, rows: Mapping[str, Mapping[str, str]]) -> InstrumentMaster:
    """The master with Kite's tick and lot size for the given symbols (added when unknown)."""
    merged: dict[str, Instrument] = {s: master.get(s) for s in master.symbols()}
    for symbol, row in rows.items():
        base = merged.get(symbol) or Instrument(symbol=symbol, exchange=row.get("exchange", "NSE"))
        merged[symbol] = replace(base, tick_size=float(row["tick_size"]), lot_size=int(row["lot_size"]))
    return InstrumentMaster(merged)
