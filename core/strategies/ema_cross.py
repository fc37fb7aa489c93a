"""EMA cross: go with the fast EMA when it crosses the slow one.

Rule, decided at the close of bar t, over the continuous series (EMAs are not reset at the
session boundary):

- **Long entry** when fast EMA(close) crosses above the slow EMA: ``fast[t] > slow[t]`` and
  ``fast[t-1] <= slow[t-1]``.
- **Short entry** when it crosses below: ``fast[t] < slow[t]`` and ``fast[t-1] >= slow[t-1]``.
- An opposite cross **reverses** an open position (exit and re-enter at the same fill).
- No separate exit rule: stops, targets, trailing and the cutoff come from trade management.

With ``stop=none trail=none target=none`` and no filters this is exactly the EMA-cross
reference rule of DESIGN.md §4 (fills at the next bar's open, no entry at or after the cutoff,
flat at the cutoff bar's open or at the close of a session that ends earlier).

**Confidence** = ADX(14) / 50, capped at 1: a cross inside a strong trend scores higher.

The rule itself needs no ATR, so the ATR is computed only when a stop, target, trailing
distance or filter is set in ATRs (otherwise it is NaN, and nothing reads it).
"""

from __future__ import annotations

import math

import numpy as np

from core.errors import ConfigError
from core.indicators import AdxStream, AtrStream, EmaStream, adx, atr, ema_crossings
from core.market.bars import Bar, BarArrays
from core.strategies.base import Signal, Signals, SignalStream, Strategy
from core.strategies.param import Param, at_least


class EmaCross(Strategy):
    name = "ema_cross"
    summary = "fast/slow EMA crossover, reversing"
    PARAMS = {
        "fast": Param(9, "fast EMA period", int, at_least(1)),
        "slow": Param(21, "slow EMA period", int, at_least(2)),
    }
    TRADE_DEFAULTS = {"stop": "none", "target": "none", "trail": "none"}

    def _validate(self) -> None:
        if self.p["fast"] >= self.p["slow"]:
            raise ConfigError(
                f"fast ({self.p['fast']}) must be shorter than slow ({self.p['slow']})",
                where="ema_cross.fast",
            )

    def _signals(self, bars: BarArrays) -> Signals:
        long_entry, short_entry = ema_crossings(bars.close, self.p["fast"], self.p["slow"])
        no_exit = np.zeros(len(bars), dtype=bool)
        conf = adx(bars.high, bars.low, bars.close, 14)
        np.minimum(np.divide(conf, 50.0, out=conf), 1.0, out=conf)  # in place: no temporaries
        if self.trade_uses_atr:
            rng = atr(bars.high, bars.low, bars.close, self.p["atr_period"])
        else:
            rng = np.full(len(bars), np.nan)
        return Signals(
            long_entry=long_entry,
            short_entry=short_entry,
            exit_long=no_exit,
            exit_short=no_exit.copy(),
            atr=rng,
            confidence=conf,
        )

    def _stream(self) -> SignalStream:
        atr_period = self.p["atr_period"] if self.trade_uses_atr else None
        return _EmaCrossStream(self.p["fast"], self.p["slow"], atr_period)


class _EmaCrossStream(SignalStream):
    def __init__(self, fast: int, slow: int, atr_period: int | None) -> None:
        self._fast = EmaStream(fast)
        self._slow = EmaStream(slow)
        self._atr = AtrStream(atr_period) if atr_period is not None else None
        self._adx = AdxStream(14)
        self._prev_fast = math.nan
        self._prev_slow = math.nan

    def update(self, bar: Bar) -> Signal:
        fast = self._fast.update(bar.close)
        slow = self._slow.update(bar.close)
        pf, ps = self._prev_fast, self._prev_slow
        self._prev_fast, self._prev_slow = fast, slow
        strength = self._adx.update(bar.high, bar.low, bar.close)
        return Signal(
            long_entry=fast > slow and pf <= ps,
            short_entry=fast < slow and pf >= ps,
            atr=self._atr.update(bar.high, bar.low, bar.close) if self._atr is not None else math.nan,
            confidence=min(strength / 50.0, 1.0) if not math.isnan(strength) else math.nan,
        )
