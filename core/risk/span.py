"""A SPAN-like scenario margin for F&O, with parameters from ``resources/margins.toml``.

This APPROXIMATES NSE Clearing's SPAN; it is not the exchange's SPAN parameter file (which is
per contract and changes during the day). The rules:

- Sixteen scenarios per position: the price moves 0, ±1/3, ±2/3 and ±3/3 of the price scan
  range, each with volatility up and down by the volatility scan range, plus two extreme moves
  of ±``extreme_move`` x the scan range of which only ``extreme_cover`` (35%) of the loss counts.
  The scan margin is the worst loss over the scenarios (never below zero).
- Futures lose linearly, so their scan margin is ``price x qty x price_scan``.
- Options are repriced with Black-76 (interest rate 0, the underlying's price as the forward):
  volatility is implied from the option's own price when it can be, else ``default_iv``.
- Parameters come per class (``index`` or ``stock``), optionally overridden per underlying.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from core.errors import ConfigError
from core.paths import resource

_PARAM_KEYS = ("price_scan", "volatility_scan", "exposure")


@dataclass(frozen=True, slots=True)
class ScanParams:
    """Fractions: price scan range (of price), volatility scan (annual vol points), exposure (of notional)."""

    price_scan: Decimal
    volatility_scan: Decimal
    exposure: Decimal


class Scenario(NamedTuple):
    move: Decimal  # multiple of the price scan range
    vol: int  # +1 volatility up, -1 down, 0 unchanged
    cover: Decimal  # fraction of the loss counted


@dataclass(frozen=True, slots=True)
class MarginRules:
    """Everything the margin calculation needs that is data, not logic."""

    index: ScanParams
    stock: ScanParams
    extreme_move: Decimal
    extreme_cover: Decimal
    days_in_year: int
    min_days: int
    default_iv: float
    min_iv: float
    index_underlyings: frozenset[str]
    overrides: Mapping[str, Mapping[str, Decimal]]  # underlying -> the parameters it overrides

    @classmethod
    def load(cls, path: Path | None = None) -> MarginRules:
        """Read a margins TOML (default ``resources/margins.toml``); ConfigError names the bad key."""
        path = path or resource("margins.toml")
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read margin parameters: {exc}", where=str(path)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", where=str(path)) from exc
        span = _table(data, "span", path)
        index = _table(data, "index", path)
        overrides: dict[str, dict[str, Decimal]] = {}
        for name, table in _table(data, "overrides", path, required=False).items():
            where = f"{path} [overrides.{name}]"
            if not isinstance(table, dict):
                raise ConfigError("expected a table", where=where)
            _check_keys(table, where)
            overrides[name.upper()] = {key: _number(table, key, where) for key in table}
        underlyings = index.get("underlyings", [])
        if not isinstance(underlyings, list) or not all(isinstance(u, str) for u in underlyings):
            raise ConfigError("must be a list of symbols", where=f"{path} [index] underlyings")
        return cls(
            index=_params(index, f"{path} [index]"),
            stock=_params(_table(data, "stock", path), f"{path} [stock]"),
            extreme_move=_number(span, "extreme_move", f"{path} [span]"),
            extreme_cover=_number(span, "extreme_cover", f"{path} [span]"),
            days_in_year=int(_number(span, "days_in_year", f"{path} [span]")),
            min_days=int(_number(span, "min_days", f"{path} [span]")),
            default_iv=float(_number(span, "default_iv", f"{path} [span]")),
            min_iv=float(_number(span, "min_iv", f"{path} [span]")),
            index_underlyings=frozenset(u.upper() for u in underlyings),
            overrides=overrides,
        )

    def params(self, underlying: str, *, is_index: bool) -> ScanParams:
        """The scan parameters of ``underlying`` (its override, else its class's)."""
        base = self.index if is_index else self.stock
        found = self.overrides.get(underlying.upper())
        return replace(base, **found) if found else base

    def scenarios(self) -> tuple[Scenario, ...]:
        """The sixteen SPAN scenarios."""
        return _scenarios(self.extreme_move, self.extreme_cover)


@lru_cache(maxsize=8)
def _scenarios(extreme_move: Decimal, extreme_cover: Decimal) -> tuple[Scenario, ...]:
    moves = [Decimal(0)] + [sign * Decimal(steps) / 3 for steps in (1, 2, 3) for sign in (1, -1)]
    out = [Scenario(move, vol, Decimal(1)) for move in moves for vol in (1, -1)]
    out.extend(Scenario(sign * extreme_move, 0, extreme_cover) for sign in (1, -1))
    return tuple(out)


@lru_cache(maxsize=1)
def default_rules() -> MarginRules:
    """The bundled margin parameters (read once)."""
    return MarginRules.load()


# ---------------------------------------------------------------------------------------------
# Scenario losses


def futures_scan_loss(side: int, qty: int, price: Decimal, params: ScanParams, rules: MarginRules) -> Decimal:
    """Worst scenario loss of ``qty`` futures bought (``side`` +1) or sold (-1) at ``price``."""
    worst = Decimal(0)
    for sc in rules.scenarios():
        pnl = side * qty * price * params.price_scan * sc.move
        worst = max(worst, -pnl * sc.cover)
    return worst


def option_scan_loss(
    side: int,
    qty: int,
    premium: float,
    underlying: float,
    strike: float,
    years: float,
    call: bool,
    params: ScanParams,
    rules: MarginRules,
) -> float:
    """Worst scenario loss of ``qty`` options at ``premium`` (Black-76 repricing)."""
    vol = implied_vol(premium, underlying, strike, years, call) or rules.default_iv
    base = black76(underlying, strike, years, vol, call)
    scan = float(params.price_scan)
    vscan = float(params.volatility_scan)
    worst = 0.0
    for sc in rules.scenarios():
        moved = underlying * (1.0 + float(sc.move) * scan)
        shocked = max(vol + sc.vol * vscan, rules.min_iv)
        value = black76(max(moved, 1e-9), strike, years, shocked, call)
        pnl = side * qty * (value - base)
        worst = max(worst, -pnl * float(sc.cover))
    return worst


# ---------------------------------------------------------------------------------------------
# Black-76


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def black76(forward: float, strike: float, years: float, vol: float, call: bool) -> float:
    """Black-76 price of a European option, interest rate 0."""
    if years <= 0 or vol <= 0:
        return max(forward - strike, 0.0) if call else max(strike - forward, 0.0)
    spread = vol * math.sqrt(years)
    d1 = (math.log(forward / strike) + 0.5 * spread * spread) / spread
    d2 = d1 - spread
    if call:
        return forward * _norm_cdf(d1) - strike * _norm_cdf(d2)
    return strike * _norm_cdf(-d2) - forward * _norm_cdf(-d1)


def implied_vol(price: float, forward: float, strike: float, years: float, call: bool) -> float | None:
    """The Black-76 volatility that reproduces ``price`` (bisection), or None if none does."""
    if price <= 0 or forward <= 0 or strike <= 0 or years <= 0:
        return None
    low, high = 1e-4, 5.0
    if not black76(forward, strike, years, low, call) < price < black76(forward, strike, years, high, call):
        return None
    for _ in range(100):
        mid = 0.5 * (low + high)
        if black76(forward, strike, years, mid, call) < price:
            low = mid
        else:
            high = mid
        if high - low < 1e-10:
            break
    return 0.5 * (low + high)


# ---------------------------------------------------------------------------------------------
# Reading the TOML


def _table(data: Mapping[str, Any], name: str, path: Path, *, required: bool = True) -> dict[str, Any]:
    table = data.get(name)
    if table is None and not required:
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"missing table [{name}]", where=str(path))
    return table


def _number(table: Mapping[str, Any], key: str, where: str) -> Decimal:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"expected a non-negative number, got {value!r}", where=f"{where} {key}")
    return Decimal(str(value))


def _check_keys(table: Mapping[str, Any], where: str, extra: frozenset[str] = frozenset()) -> None:
    unknown = set(table) - set(_PARAM_KEYS) - extra
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(sorted(unknown))}", where=where)


def _params(table: Mapping[str, Any], where: str) -> ScanParams:
    _check_keys(table, where, frozenset({"underlyings"}))
    return ScanParams(**{key: _number(table, key, where) for key in _PARAM_KEYS})
