"""Entry filters shared by every strategy: time window, chop, minimum ATR, minimum ADX, confidence.

Filters only ever *block entries*; they never force or block an exit. Each is off by default
unless a strategy's defaults turn it on, and each has a vectorized and a streaming form that
agree exactly. While a filter's indicator is still warming up it blocks (no entry on a guess).

- ``window=HH:MM-HH:MM``: entry signals only on bars starting inside the window.
- ``chop_max=X``: no entries while the Choppiness Index over ``chop_period`` bars is above X
  (61.8 is the classic "consolidation" line). CHOP = 100·log10(ΣTR / (maxHigh − minLow)) /
  log10(n); we compare ΣTR / range against n^(X/100), which is the same test without logs.
- ``min_atr_bps=X``: ATR must be at least X basis points of the close (skip dead markets).
- ``adx_min=X``: ADX over ``adx_period`` must be at least X (trend present).
- ``min_confidence=X``: the strategy's confidence score must be at least X.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import ConfigError
from core.indicators import (
    AdxStream,
    RollingMaxStream,
    RollingMinStream,
    SmaStream,
    TrueRangeStream,
    adx,
    rolling_max,
    rolling_min,
    sma,
    true_range,
)
from core.market.bars import Bar, BarArrays
from core.strategies.param import Param, at_least, non_negative


def parse_window(text: str) -> tuple[int, int] | None:
    """``09:20-14:30`` -> (560, 870) minutes of the day; ``none`` -> None."""
    raw = str(text).strip().lower()
    if raw in ("", "none", "off", "all"):
        return None
    try:
        start_text, end_text = raw.split("-")
        sh, sm = (int(x) for x in start_text.split(":"))
        eh, em = (int(x) for x in end_text.split(":"))
    except ValueError as exc:
        raise ConfigError(f"cannot read {text!r}: use HH:MM-HH:MM", where="window") from exc
    start, end = sh * 60 + sm, eh * 60 + em
    if not 0 <= start < end <= 24 * 60:
        raise ConfigError(f"{text!r}: the window must start before it ends", where="window")
    return start, end


def _window_text(text: str) -> str:
    parse_window(text)
    return str(text)


COMMON_PARAMS: dict[str, Param] = {
    "atr_period": Param(14, "ATR period for stops, buffers and filters", int, at_least(1)),
    "window": Param("none", "entry window HH:MM-HH:MM on the signal bar's start", _window_text),
    "chop_max": Param(0.0, "block entries while Choppiness Index > this (0 = off)", float, non_negative),
    "chop_period": Param(14, "Choppiness Index period", int, at_least(2)),
    "min_atr_bps": Param(0.0, "block entries while ATR < this many bps of price (0 = off)", float, non_negative),
    "adx_min": Param(0.0, "block entries while ADX < this (0 = off)", float, non_negative),
    "adx_period": Param(14, "ADX period for the adx_min filter", int, at_least(1)),
    "min_confidence": Param(0.0, "block entries below this confidence (0 = off)", float, non_negative),
}


@dataclass(frozen=True, slots=True)
class FilterSet:
    window: tuple[int, int] | None = None
    chop_max: float = 0.0
    chop_period: int = 14
    min_atr_bps: float = 0.0
    adx_min: float = 0.0
    adx_period: int = 14
    min_confidence: float = 0.0

    @classmethod
    def from_params(cls, p: dict[str, object]) -> FilterSet:
        return cls(
            window=parse_window(str(p["window"])),
            chop_max=float(p["chop_max"]),  # type: ignore[arg-type]
            chop_period=int(p["chop_period"]),  # type: ignore[arg-type]
            min_atr_bps=float(p["min_atr_bps"]),  # type: ignore[arg-type]
            adx_min=float(p["adx_min"]),  # type: ignore[arg-type]
            adx_period=int(p["adx_period"]),  # type: ignore[arg-type]
            min_confidence=float(p["min_confidence"]),  # type: ignore[arg-type]
        )

    @property
    def active(self) -> bool:
        """True when any bar-based filter (everything but min_confidence) is on."""
        return self.window is not None or self.chop_max > 0 or self.min_atr_bps > 0 or self.adx_min > 0

    @property
    def chop_threshold(self) -> float:
        """ΣTR / range above which the market counts as choppy."""
        return float(self.chop_period) ** (self.chop_max / 100.0)

    def mask(self, bars: BarArrays, atr_values: np.ndarray) -> np.ndarray:
        """True where an entry is allowed."""
        ok = np.ones(len(bars), dtype=bool)
        if self.window is not None:
            ok &= (bars.minute >= self.window[0]) & (bars.minute < self.window[1])
        if self.min_atr_bps > 0:
            with np.errstate(invalid="ignore"):
                ok &= atr_values * 10000.0 >= self.min_atr_bps * bars.close
        if self.chop_max > 0:
            n = self.chop_period
            tr_sum = sma(true_range(bars.high, bars.low, bars.close), n) * n
            rng = rolling_max(bars.high, n) - rolling_min(bars.low, n)
            with np.errstate(invalid="ignore", divide="ignore"):
                ok &= (rng > 0) & (tr_sum <= self.chop_threshold * rng)
        if self.adx_min > 0:
            with np.errstate(invalid="ignore"):
                ok &= adx(bars.high, bars.low, bars.close, self.adx_period) >= self.adx_min
        return ok

    def stream(self) -> FilterStream:
        return FilterStream(self)


class FilterStream:
    """Streaming :meth:`FilterSet.mask`."""

    def __init__(self, spec: FilterSet) -> None:
        self.spec = spec
        self.min_confidence = spec.min_confidence
        n = spec.chop_period
        self._tr = TrueRangeStream()
        self._tr_sma = SmaStream(n)
        self._hi = RollingMaxStream(n)
        self._lo = RollingMinStream(n)
        self._adx = AdxStream(spec.adx_period)

    def update(self, bar: Bar, atr_value: float) -> bool:
        spec = self.spec
        ok = True
        if spec.window is not None:
            minute = bar.start.hour * 60 + bar.start.minute
            ok = spec.window[0] <= minute < spec.window[1]
        if spec.min_atr_bps > 0:
            ok = ok and atr_value * 10000.0 >= spec.min_atr_bps * bar.close
        if spec.chop_max > 0:
            tr_sum = self._tr_sma.update(self._tr.update(bar.high, bar.low, bar.close)) * spec.chop_period
            rng = self._hi.update(bar.high) - self._lo.update(bar.low)
            ok = ok and rng > 0 and tr_sum <= spec.chop_threshold * rng
        if spec.adx_min > 0:
            value = self._adx.update(bar.high, bar.low, bar.close)
            ok = ok and not math.isnan(value) and value >= spec.adx_min
        return ok
