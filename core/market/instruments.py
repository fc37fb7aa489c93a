"""The instrument master: tick size, lot size and cost segment per symbol, from ``resources/``.

Tick sizes are never hard-coded in logic (india-market-facts §3); an unknown symbol gets the
NSE cash-equity rule (below Rs 250: 0.01, else 0.05) and callers report that assumption.

Required columns: ``symbol, exchange, kind, tick_size, lot_size, cost_segment``; ``name`` is
optional. Optional margin columns (blank or absent means the default):

- ``mis_leverage``: intraday (MIS) leverage of a cash equity, default 5 (20% margin, Zerodha's
  usual figure); the paper RMS blocks notional / leverage.
- ``underlying``, ``strike``, ``expiry`` (ISO date), ``option_type`` (``CE``/``PE``): a
  derivative's contract terms. An option row (kind ``OPT``/``CE``/``PE`` or cost segment
  ``options``) must carry all four; a future (kind ``FUT``) may name its ``underlying``.
- ``sector``: the instrument's sector for the portfolio's exposure caps (a derivative without one
  takes its underlying's); blank reads as ``Unclassified``.
- ``freeze_qty``: the exchange's largest single order (units). For a derivative row without
  one, ``resources/freeze_quantities.csv`` gives its underlying's (NSE revises these: update
  that table from NSE's current ``qtyfreeze`` file). Orders above it go to Kite as an iceberg.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.paths import resource


class CostSegment(enum.StrEnum):
    EQUITY_INTRADAY = "equity_intraday"
    FUTURES = "futures"
    OPTIONS = "options"


DEFAULT_MIS_LEVERAGE = 5.0
UNCLASSIFIED = "Unclassified"
_OPTION_KINDS = frozenset({"OPT", "CE", "PE"})


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    exchange: str = "NSE"
    kind: str = "EQ"
    tick_size: float = 0.05
    lot_size: int = 1
    cost_segment: CostSegment = CostSegment.EQUITY_INTRADAY
    name: str = ""
    known: bool = True
    mis_leverage: float = DEFAULT_MIS_LEVERAGE
    underlying: str = ""
    strike: float | None = None
    expiry: dt.date | None = None
    option_type: str = ""  # CE (call) or PE (put) for options
    freeze_qty: int | None = None  # the largest single order the exchange takes (F&O), when known
    sector: str = UNCLASSIFIED

    @property
    def is_option(self) -> bool:
        return self.kind in _OPTION_KINDS or self.cost_segment is CostSegment.OPTIONS

    @property
    def is_derivative(self) -> bool:
        """True for F&O: futures, options, and index rows traded as their futures proxy."""
        return self.is_option or self.kind == "FUT" or self.cost_segment is CostSegment.FUTURES

    def round_price(self, price: float) -> float:
        """The nearest price on this instrument's tick grid."""
        ticks = round(price / self.tick_size)
        return round(ticks * self.tick_size, 10)


def _opt(rec: dict[str, str | None], column: str) -> str:
    """An optional column's stripped text ('' when the column is absent or blank)."""
    return (rec.get(column) or "").strip()


def equity_tick_for_price(price: float) -> float:
    """NSE cash-equity tick rule effective 10 Jun 2024."""
    return 0.01 if price < 250 else 0.05


class InstrumentMaster:
    """Symbol -> :class:`Instrument`, read from a CSV master."""

    def __init__(self, rows: dict[str, Instrument]) -> None:
        self._rows = rows

    @classmethod
    def from_csv(cls, path: Path) -> InstrumentMaster:
        rows: dict[str, Instrument] = {}
        with path.open(newline="", encoding="utf-8") as fh:
            for line_no, rec in enumerate(csv.DictReader(fh), start=2):
                try:
                    inst = Instrument(
                        symbol=rec["symbol"].strip().upper(),
                        exchange=rec["exchange"].strip(),
                        kind=rec["kind"].strip(),
                        tick_size=float(rec["tick_size"]),
                        lot_size=int(rec["lot_size"]),
                        cost_segment=CostSegment(rec["cost_segment"].strip()),
                        name=_opt(rec, "name"),
                        mis_leverage=float(_opt(rec, "mis_leverage") or DEFAULT_MIS_LEVERAGE),
                        underlying=_opt(rec, "underlying").upper(),
                        strike=float(_opt(rec, "strike")) if _opt(rec, "strike") else None,
                        expiry=dt.date.fromisoformat(_opt(rec, "expiry")) if _opt(rec, "expiry") else None,
                        option_type=_opt(rec, "option_type").upper(),
                        freeze_qty=int(_opt(rec, "freeze_qty")) if _opt(rec, "freeze_qty") else None,
                        sector=_opt(rec, "sector") or UNCLASSIFIED,
                    )
                except (KeyError, ValueError) as exc:
                    raise ConfigError(f"bad instrument row: {exc}", where=f"{path}:{line_no}") from exc
                if inst.tick_size <= 0 or inst.lot_size <= 0:
                    raise ConfigError("tick and lot size must be positive", where=f"{path}:{line_no}")
                if inst.freeze_qty is not None and inst.freeze_qty < inst.lot_size:
                    raise ConfigError("freeze_qty must be at least one lot", where=f"{path}:{line_no}")
                if not inst.mis_leverage >= 1:
                    raise ConfigError("mis_leverage must be at least 1", where=f"{path}:{line_no}")
                if inst.is_option and not (
                    inst.underlying and inst.strike and inst.strike > 0 and inst.expiry
                    and inst.option_type in ("CE", "PE")
                ):
                    raise ConfigError(
                        "an option row needs underlying, strike > 0, expiry and option_type CE/PE",
                        where=f"{path}:{line_no}",
                    )
                rows[inst.symbol] = inst
        return cls(rows)

    def get(self, symbol: str, reference_price: float | None = None) -> Instrument:
        """The instrument, or an assumed NSE equity (``known=False``) when the master lacks it."""
        found = self._rows.get(symbol.upper())
        if found is not None:
            return found
        tick = equity_tick_for_price(reference_price) if reference_price else 0.05
        return Instrument(symbol=symbol.upper(), tick_size=tick, known=False)

    def for_prices(self, symbol: str, closes: np.ndarray) -> Instrument:
        """The instrument, or (unknown symbol) an NSE equity whose tick suits the median close.

        The loader and the simulator both use this, so they agree on an assumed tick.
        """
        median = float(np.median(closes)) if len(closes) else None
        return self.get(symbol, median)

    def symbols(self) -> list[str]:
        """Every symbol in the master, sorted."""
        return sorted(self._rows)

    def __contains__(self, symbol: str) -> bool:
        return symbol.upper() in self._rows


@lru_cache(maxsize=1)
def freeze_quantities() -> dict[str, int]:
    """Underlying -> freeze quantity (units) of its derivatives, from ``resources/freeze_quantities.csv``."""
    path = resource("freeze_quantities.csv")
    out: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for line_no, rec in enumerate(csv.DictReader(fh), start=2):
            try:
                out[rec["underlying"].strip().upper()] = int(rec["freeze_qty"])
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"bad freeze quantity row: {exc}", where=f"{path}:{line_no}") from exc
    return out


def with_freeze(inst: Instrument) -> Instrument:
    """A derivative with its underlying's freeze quantity when its row gives none."""
    if inst.freeze_qty is not None or not inst.is_derivative:
        return inst
    freeze = freeze_quantities().get(inst.underlying or inst.symbol)
    return replace(inst, freeze_qty=freeze) if freeze is not None else inst


def with_underlying_sector(inst: Instrument, master: InstrumentMaster) -> Instrument:
    """A derivative without a sector of its own takes its underlying's."""
    if inst.sector != UNCLASSIFIED or not inst.underlying or inst.underlying not in master:
        return inst
    return replace(inst, sector=master.get(inst.underlying).sector)


@lru_cache(maxsize=1)
def default_master() -> InstrumentMaster:
    master = InstrumentMaster.from_csv(resource("instruments.csv"))
    return InstrumentMaster({s: with_underlying_sector(with_freeze(master.get(s)), master) for s in master.symbols()})


def master_for(series: Iterable[Any], base: InstrumentMaster | None = None) -> InstrumentMaster:
    """``base`` (the bundled master) with every instrument of ``series`` it lacks assumed from its
    prices (:meth:`InstrumentMaster.for_prices`), as the simulator assumes it: a run through the
    engine can then trade any bar file."""
    base = base or default_master()
    rows = {sym: base.get(sym) for sym in base.symbols()}
    for s in series:
        if s.symbol not in base:
            rows[s.symbol] = base.for_prices(s.symbol, s.frame["close"].to_numpy())
    return InstrumentMaster(rows)
