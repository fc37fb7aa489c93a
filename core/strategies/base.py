"""What every strategy is: typed parameters, vectorized signals and a streaming twin.

A strategy decides on a bar's close, from that bar and the ones before it only. It emits
entry and exit masks plus, per bar, the ATR used for stop sizing and a confidence in [0, 1].
Trade management (stops, targets, cutoff) is not the strategy's business; it lives in
``core.trading`` and is configured through the same ``--set`` keys.

``signals`` (vectorized, for the simulator's fast path) and ``stream`` (bar by bar, for the
event path and the live engine) must agree exactly; tests hold every strategy to that.
"""

from __future__ import annotations

import difflib
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numba import njit

from core.errors import ConfigError
from core.market.bars import Bar, BarArrays
from core.strategies.filters import COMMON_PARAMS, FilterSet
from core.strategies.param import Param
from core.trading.params import TRADE_KEYS, TradeParams, Unit, build_trade_params


@dataclass(frozen=True, slots=True)
class Signals:
    """Vectorized decisions, one element per bar, all taken at that bar's close."""

    long_entry: np.ndarray
    short_entry: np.ndarray
    exit_long: np.ndarray
    exit_short: np.ndarray
    atr: np.ndarray
    confidence: np.ndarray

    def __len__(self) -> int:
        return len(self.long_entry)


@dataclass(frozen=True, slots=True)
class Signal:
    """One bar's decision (the streaming form of :class:`Signals`)."""

    long_entry: bool = False
    short_entry: bool = False
    exit_long: bool = False
    exit_short: bool = False
    atr: float = math.nan
    confidence: float = 0.0


class SignalStream(ABC):
    """Per-instrument streaming state of a strategy."""

    @abstractmethod
    def update(self, bar: Bar) -> Signal:
        """Feed one closed bar; return the decision at its close."""


class Strategy(ABC):
    """Base of the four strategies. Subclasses declare ``name``, ``PARAMS`` and the two paths."""

    name: ClassVar[str]
    summary: ClassVar[str]
    PARAMS: ClassVar[dict[str, Param]]
    TRADE_DEFAULTS: ClassVar[dict[str, str]] = {}
    FILTER_DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init__(self, **overrides: Any) -> None:
        params = {**COMMON_PARAMS, **self.PARAMS}
        unknown = [k for k in overrides if k not in params and k not in TRADE_KEYS]
        if unknown:
            key = unknown[0]
            hint = difflib.get_close_matches(key, [*params, *TRADE_KEYS], n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"{self.name} has no parameter {key!r}{more}", where=f"{self.name}.{key}")
        values: dict[str, Any] = {}
        for key, spec in params.items():
            default = self.FILTER_DEFAULTS.get(key, spec.default)
            raw = overrides.get(key, default)
            values[key] = _coerce(self.name, key, spec, raw)
        self.p = values
        trade_values = {**self.TRADE_DEFAULTS, **{k: v for k, v in overrides.items() if k in TRADE_KEYS}}
        try:
            self.trade: TradeParams = build_trade_params(trade_values)
        except ConfigError as exc:
            raise ConfigError(exc.message, where=f"{self.name}.{exc.where}") from exc
        self.filters = FilterSet.from_params(values)
        self._validate()

    def _validate(self) -> None:  # noqa: B027 - optional hook, most strategies need no check
        """Cross-parameter checks (e.g. fast < slow); raise ConfigError naming the key."""

    @property
    def trade_uses_atr(self) -> bool:
        """True when trade management or a filter reads the ATR (strategies whose own rule
        does not need it can then skip computing it)."""
        t = self.trade
        specs = (t.stop, t.target, t.trail, t.trail_after, t.breakeven)
        return any(spec.unit is Unit.ATR for spec in specs) or self.filters.min_atr_bps > 0

    def describe(self) -> dict[str, Any]:
        """The effective settings, as text a trader can read back."""
        out = {k: (str(v) if not isinstance(v, (int, float, bool)) else v) for k, v in self.p.items()}
        t = self.trade
        out.update(
            qty=t.qty, stop=str(t.stop), target=str(t.target), trail=str(t.trail),
            trail_after=str(t.trail_after), breakeven=str(t.breakeven),
            partial=",".join(f"{s.level}:{s.fraction:.0%}" for s in t.partials) or "none",
            max_trades=t.max_trades, cutoff=t.cutoff.strftime("%H:%M"), slippage=str(t.slippage),
        )
        return out

    def signals(self, bars: BarArrays) -> Signals:
        """Decisions for every bar, entries gated by the filters.

        An opposite entry signal always exits an open position, even when a filter (or, later,
        the priority rule) keeps it from entering: filters hold back entries, never exits.
        """
        raw = self._signals(bars)
        conf = _zero_nans(raw.confidence)
        exit_long = raw.exit_long | raw.short_entry
        exit_short = raw.exit_short | raw.long_entry
        if not (self.filters.active or self.filters.min_confidence > 0):
            return Signals(raw.long_entry, raw.short_entry, exit_long, exit_short, raw.atr, conf)
        allowed = self.filters.mask(bars, raw.atr)
        if self.filters.min_confidence > 0:
            allowed &= conf >= self.filters.min_confidence
        return Signals(
            long_entry=raw.long_entry & allowed,
            short_entry=raw.short_entry & allowed,
            exit_long=exit_long,
            exit_short=exit_short,
            atr=raw.atr,
            confidence=conf,
        )

    def stream(self) -> SignalStream:
        """A fresh streaming state (one per instrument)."""
        return _FilteredStream(self._stream(), self.filters.stream())

    @abstractmethod
    def _signals(self, bars: BarArrays) -> Signals:
        """Raw vectorized decisions (before filters)."""

    @abstractmethod
    def _stream(self) -> SignalStream:
        """Raw streaming decisions (before filters)."""


class _FilteredStream(SignalStream):
    def __init__(self, inner: SignalStream, filters: Any) -> None:
        self._inner = inner
        self._filters = filters

    def update(self, bar: Bar) -> Signal:
        sig = self._inner.update(bar)
        conf = 0.0 if math.isnan(sig.confidence) else sig.confidence
        allowed = self._filters.update(bar, sig.atr) and conf >= self._filters.min_confidence
        return Signal(
            long_entry=sig.long_entry and allowed,
            short_entry=sig.short_entry and allowed,
            exit_long=sig.exit_long or sig.short_entry,
            exit_short=sig.exit_short or sig.long_entry,
            atr=sig.atr,
            confidence=conf,
        )


def _coerce(strategy: str, key: str, spec: Param, raw: Any) -> Any:
    try:
        value = raw if not isinstance(raw, str) else spec.kind(raw)
        if spec.kind is int and isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"{value} is not a whole number")
            value = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot read {raw!r}: {spec.help}", where=f"{strategy}.{key}") from exc
    if spec.check is not None and not spec.check(value):
        raise ConfigError(f"{value!r} is out of range: {spec.help}", where=f"{strategy}.{key}")
    return value


@njit(cache=True)
def _zero_nans(values: np.ndarray) -> np.ndarray:
    """NaN -> 0 in place (confidence is 0 while a strategy's indicators warm up)."""
    for i in range(values.shape[0]):
        if math.isnan(values[i]):
            values[i] = 0.0
    return values


def shifted(values: np.ndarray, fill: Any = False) -> np.ndarray:
    """``values`` delayed by one bar: element t holds element t-1 (``fill`` at index 0)."""
    out = np.full_like(values, fill)
    out[1:] = values[:-1]
    return out
