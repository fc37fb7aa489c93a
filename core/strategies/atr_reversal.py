"""ATR reversal: fade a stretch of more than k·ATR away from the mean once price closes back.

Bands around the mean: ``mean = EMA(close, mean)``, ``upper = mean + k·ATR``,
``lower = mean − k·ATR``. Decided at the close of bar t:

- **Long entry** when the previous close was stretched below the lower band and this close is
  back at or above it: ``close[t-1] < lower[t-1]`` and ``close[t] >= lower[t]``.
- **Short entry** mirrored on the upper band: ``close[t-1] > upper[t-1]`` and
  ``close[t] <= upper[t]``.
- **Exit long** when the close reaches the mean (``close[t] >= mean[t]``); **exit short** when
  it falls to it (``close[t] <= mean[t]``). An opposite entry also exits (and reverses).

Defaults: stop 1 ATR, at most 4 entries a day, entries 09:30–14:30 (skip the opening auction
noise and the last half hour before the cutoff). **Confidence** = how far the stretch went
beyond the band on the previous bar, in ATRs, capped at 1.
"""

from __future__ import annotations

import math

import numpy as np

from core.indicators import AtrStream, EmaStream, atr, ema
from core.market.bars import Bar, BarArrays
from core.strategies.base import Signal, Signals, SignalStream, Strategy, shifted
from core.strategies.param import Param, at_least, positive


class AtrReversal(Strategy):
    name = "atr_reversal"
    summary = "fade a > k·ATR stretch from the EMA once price closes back inside"
    PARAMS = {
        "mean": Param(20, "EMA period of the mean", int, at_least(2)),
        "k": Param(2.0, "stretch in ATRs that counts as overextended", float, positive),
    }
    TRADE_DEFAULTS = {"stop": "1atr", "max_trades": "4"}
    FILTER_DEFAULTS = {"window": "09:30-14:30"}

    def _signals(self, bars: BarArrays) -> Signals:
        close = bars.close
        mean = ema(close, self.p["mean"])
        rng = atr(bars.high, bars.low, close, self.p["atr_period"])
        k = self.p["k"]
        band = k * rng
        upper = mean + band
        lower = mean - band
        below = close < lower
        above = close > upper
        long_entry = (close >= lower) & shifted(below)
        short_entry = (close <= upper) & shifted(above)
        with np.errstate(invalid="ignore", divide="ignore"):
            depth_long = np.where(rng > 0, (lower - close) / rng, np.nan)
            depth_short = np.where(rng > 0, (close - upper) / rng, np.nan)
        depth = np.where(
            shifted(below), shifted(depth_long, np.nan), np.where(shifted(above), shifted(depth_short, np.nan), 0.0)
        )
        return Signals(
            long_entry=long_entry,
            short_entry=short_entry,
            exit_long=close >= mean,
            exit_short=close <= mean,
            atr=rng,
            confidence=np.minimum(depth, 1.0),
        )

    def _stream(self) -> SignalStream:
        return _AtrReversalStream(self.p["mean"], self.p["k"], self.p["atr_period"])



class _AtrReversalStream(SignalStream):
    def __init__(self, mean: int, k: float, atr_period: int) -> None:
        self._mean = EmaStream(mean)
        self._atr = AtrStream(atr_period)
        self._k = k
        self._prev_below = False
        self._prev_above = False
        self._prev_depth_long = math.nan
        self._prev_depth_short = math.nan

    def update(self, bar: Bar) -> Signal:
        close = bar.close
        mean = self._mean.update(close)
        rng = self._atr.update(bar.high, bar.low, close)
        band = self._k * rng
        upper = mean + band
        lower = mean - band
        below, above = close < lower, close > upper
        if self._prev_below:
            depth = self._prev_depth_long
        elif self._prev_above:
            depth = self._prev_depth_short
        else:
            depth = 0.0
        signal = Signal(
            long_entry=close >= lower and self._prev_below,
            short_entry=close <= upper and self._prev_above,
            exit_long=close >= mean,
            exit_short=close <= mean,
            atr=rng,
            confidence=min(depth, 1.0) if not math.isnan(depth) else math.nan,
        )
        self._prev_below, self._prev_above = below, above
        self._prev_depth_long = (lower - close) / rng if rng > 0 else math.nan
        self._prev_depth_short = (close - upper) / rng if rng > 0 else math.nan
        return signal
