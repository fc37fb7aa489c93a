"""Trade-management settings, written the way a trader says them.

Distances are text: ``none``, ``20pts`` (or a bare ``20``), ``1.5atr`` (multiples of the
strategy's ATR at the signal bar), ``2r`` (multiples of the initial risk, i.e. the stop
distance) or ``0.5pct`` (percent of the entry price). Slippage is ``0``, ``1tick`` or ``2bps``.
Partial exits are ``1r:50%,2r:25%`` (scale out half at 1R, a quarter at 2R).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from dataclasses import dataclass

from core.clock import DEFAULT_CUTOFF, parse_cutoff
from core.errors import ConfigError


class Unit(enum.IntEnum):
    NONE = 0
    POINTS = 1
    ATR = 2
    R = 3
    PCT = 4


_SUFFIX = {"pts": Unit.POINTS, "pt": Unit.POINTS, "atr": Unit.ATR, "r": Unit.R, "pct": Unit.PCT, "%": Unit.PCT}
_DISTANCE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(pts|pt|atr|r|pct|%)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Distance:
    """A price distance in points, ATR multiples, R multiples or percent of price."""

    value: float = 0.0
    unit: Unit = Unit.NONE

    @classmethod
    def parse(cls, text: str | float | Distance, *, key: str = "distance", allow: tuple[Unit, ...] = tuple(Unit)) -> Distance:
        if isinstance(text, Distance):
            parsed = text
        elif isinstance(text, (int, float)):
            parsed = cls(float(text), Unit.POINTS) if text > 0 else cls()
        else:
            raw = text.strip().lower()
            if raw in ("", "none", "off", "0", "no"):
                return cls()
            match = _DISTANCE_RE.match(raw)
            if not match:
                raise ConfigError(
                    f"cannot read {text!r}: use none, 20pts, 1.5atr, 2r or 0.5pct", where=key
                )
            value = float(match.group(1))
            unit = _SUFFIX[(match.group(2) or "pts").lower()]
            parsed = cls(value, unit) if value > 0 else cls()
        if parsed.unit is not Unit.NONE and parsed.unit not in allow:
            names = ", ".join(u.name.lower() for u in allow if u is not Unit.NONE)
            raise ConfigError(f"{text!r} uses {parsed.unit.name.lower()}; allowed: {names}", where=key)
        return parsed

    @property
    def enabled(self) -> bool:
        return self.unit is not Unit.NONE

    def resolve(self, atr: float, risk: float, price: float) -> float:
        """The distance in price points (NaN when off or not computable yet)."""
        if self.unit is Unit.NONE:
            return math.nan
        if self.unit is Unit.POINTS:
            return self.value
        if self.unit is Unit.ATR:
            return self.value * atr
        if self.unit is Unit.R:
            return self.value * risk
        return self.value * price / 100.0

    def __str__(self) -> str:
        if self.unit is Unit.NONE:
            return "none"
        suffix = {Unit.POINTS: "pts", Unit.ATR: "atr", Unit.R: "r", Unit.PCT: "pct"}[self.unit]
        return f"{self.value:g}{suffix}"


@dataclass(frozen=True, slots=True)
class Slippage:
    """Adverse slippage on market fills, in ticks or basis points."""

    value: float = 0.0
    unit: str = "ticks"

    @classmethod
    def parse(cls, text: str | float | Slippage) -> Slippage:
        if isinstance(text, Slippage):
            return text
        raw = str(text).strip().lower()
        match = re.match(r"^([0-9]*\.?[0-9]+)\s*(ticks?|bps)?$", raw)
        if not match:
            raise ConfigError(f"cannot read {text!r}: use 0, 1tick or 2bps", where="slippage")
        value = float(match.group(1))
        unit = "bps" if match.group(2) == "bps" else "ticks"
        return cls(value, unit)

    def __str__(self) -> str:
        return "0" if self.value == 0 else f"{self.value:g}{'bps' if self.unit == 'bps' else 'tick'}"


@dataclass(frozen=True, slots=True)
class PartialExit:
    level: Distance
    fraction: float


def parse_partials(text: str | tuple[PartialExit, ...]) -> tuple[PartialExit, ...]:
    """Parse ``1r:50%,2r:25%`` into scale-out steps, sorted by level."""
    if isinstance(text, tuple):
        return text
    raw = text.strip().lower()
    if raw in ("", "none", "off", "0"):
        return ()
    steps: list[PartialExit] = []
    for part in raw.split(","):
        level_text, sep, frac_text = part.partition(":")
        if not sep:
            raise ConfigError(f"cannot read {part!r}: use LEVEL:FRACTION like 1r:50%", where="partial")
        level = Distance.parse(level_text, key="partial", allow=(Unit.R,))
        frac_text = frac_text.strip()
        try:
            fraction = float(frac_text.rstrip("%")) / (100.0 if frac_text.endswith("%") else 1.0)
        except ValueError as exc:
            raise ConfigError(f"cannot read fraction {frac_text!r}", where="partial") from exc
        if not level.enabled or not 0 < fraction < 1:
            raise ConfigError(f"{part!r}: level must be > 0 and fraction between 0 and 1", where="partial")
        steps.append(PartialExit(level, fraction))
    steps.sort(key=lambda s: s.level.value)
    if sum(s.fraction for s in steps) >= 1:
        raise ConfigError("partial fractions must add up to less than 100%", where="partial")
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class TradeParams:
    """How a position is managed once a strategy has opened it."""

    qty: int = 1
    stop: Distance = Distance()
    target: Distance = Distance()
    trail: Distance = Distance()
    trail_after: Distance = Distance()
    breakeven: Distance = Distance()
    partials: tuple[PartialExit, ...] = ()
    max_trades: int = 0
    cutoff: dt.time = DEFAULT_CUTOFF
    slippage: Slippage = Slippage()

    def __post_init__(self) -> None:
        if self.qty < 1:
            raise ConfigError(f"qty must be at least 1, got {self.qty}", where="qty")
        if self.max_trades < 0:
            raise ConfigError("max_trades must be 0 (no limit) or more", where="max_trades")
        if self.stop.unit is Unit.R:
            raise ConfigError("the initial stop cannot be in R (R is defined by the stop)", where="stop")
        if not self.stop.enabled:
            in_r = [k for k, d in (("target", self.target), ("trail", self.trail), ("trail_after", self.trail_after),
                                   ("breakeven", self.breakeven)) if d.unit is Unit.R]
            if in_r or self.partials:
                key = in_r[0] if in_r else "partial"
                raise ConfigError(
                    f"{key} is in R (multiples of the initial risk) but there is no stop to define R; "
                    "set a stop or use pts/atr/pct", where=key)

    @property
    def cutoff_minute(self) -> int:
        return self.cutoff.hour * 60 + self.cutoff.minute


TRADE_KEYS: dict[str, str] = {
    "qty": "units per entry",
    "stop": "initial stop: none | 20pts | 1.5atr | 0.5pct",
    "target": "profit target: none | 40pts | 3atr | 2r | 1pct",
    "trail": "trailing stop distance: none | 15pts | 1atr | 1r",
    "trail_after": "start trailing once this far in profit: 0 | 1r | 1atr | 20pts",
    "breakeven": "move the stop to entry once this far in profit: none | 1r | 1atr",
    "partial": "scale out, e.g. 1r:50%,2r:25%",
    "max_trades": "entries per instrument, strategy and day (0 = no limit)",
    "cutoff": "no entry at or after this time; positions close at the open of the first bar starting at or after it (HH:MM, default 15:00)",
    "slippage": "adverse slippage on market fills: 0 | 1tick | 2bps",
}


def build_trade_params(values: dict[str, object]) -> TradeParams:
    """TradeParams from ``--set``-style values (strings or already typed)."""
    def get(key: str) -> object | None:
        return values.get(key)

    kwargs: dict[str, object] = {}
    r_ok = (Unit.POINTS, Unit.ATR, Unit.R, Unit.PCT)
    if (v := get("qty")) is not None:
        kwargs["qty"] = _int(v, "qty")
    if (v := get("stop")) is not None:
        kwargs["stop"] = Distance.parse(v, key="stop", allow=(Unit.POINTS, Unit.ATR, Unit.PCT))  # type: ignore[arg-type]
    for key in ("target", "trail", "trail_after", "breakeven"):
        if (v := get(key)) is not None:
            kwargs[key] = Distance.parse(v, key=key, allow=r_ok)  # type: ignore[arg-type]
    if (v := get("partial")) is not None:
        kwargs["partials"] = parse_partials(v)  # type: ignore[arg-type]
    if (v := get("max_trades")) is not None:
        kwargs["max_trades"] = _int(v, "max_trades")
    if (v := get("cutoff")) is not None:
        kwargs["cutoff"] = v if isinstance(v, dt.time) else parse_cutoff(str(v))
    if (v := get("slippage")) is not None:
        kwargs["slippage"] = Slippage.parse(v)  # type: ignore[arg-type]
    return TradeParams(**kwargs)  # type: ignore[arg-type]


def _int(value: object, key: str) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise ConfigError(f"expected a whole number, got {value!r}", where=key) from exc
