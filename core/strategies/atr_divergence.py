"""ATR divergence: a new N-bar extreme that ATR-normalised momentum fails to confirm.

Momentum is measured in ATRs so that it means the same in quiet and wild markets:
``m[t] = (close[t] − close[t−mom]) / ATR[t]``. Decided at the close of bar t, with the prior
window being bars t−N … t−1:

- **Short entry** (bearish divergence): the bar makes a new high (``high[t]`` above every high
  of the prior window) while momentum stays at least ``gap`` ATRs below its prior-window peak,
  and that peak was positive (there was upward thrust to fail).
- **Long entry** (bullish divergence) mirrored: a new low with momentum at least ``gap`` above
  its prior-window trough, that trough negative.
- No exit rule of its own: stop, target and cutoff come from trade management (defaults:
  stop 1.5 ATR, target 2R, at most 4 entries a day); an opposite divergence reverses.

Entries 09:30–14:45 by default. **Confidence** = the momentum shortfall in units of 3·gap,
capped at 1.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from core.indicators import (
    AtrStream,
    RollingMaxStream,
    RollingMinStream,
    atr,
    rolling_max,
    rolling_min,
)
from core.market.bars import Bar, BarArrays
from core.strategies.base import Signal, Signals, SignalStream, Strategy, shifted
from core.strategies.param import Param, at_least, positive


class AtrDivergence(Strategy):
    name = "atr_divergence"
    summary = "new N-bar extreme not confirmed by ATR-normalised momentum"
    PARAMS = {
        "lookback": Param(30, "N: bars in the prior window for the new extreme", int, at_least(2)),
        "mom": Param(10, "momentum span in bars", int, at_least(1)),
        "gap": Param(0.5, "momentum shortfall, in ATRs, that counts as divergence", float, positive),
    }
    TRADE_DEFAULTS = {"stop": "1.5atr", "target": "2r", "max_trades": "4"}
    FILTER_DEFAULTS = {"window": "09:30-14:45"}

    def _signals(self, bars: BarArrays) -> Signals:
        n, span, gap = self.p["lookback"], self.p["mom"], self.p["gap"]
        close = bars.close
        rng = atr(bars.high, bars.low, close, self.p["atr_period"])
        mom = np.full(len(close), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            mom[span:] = np.where(rng[span:] > 0, (close[span:] - close[:-span]) / rng[span:], np.nan)
        prior_high = shifted(rolling_max(bars.high, n), np.nan)
        prior_low = shifted(rolling_min(bars.low, n), np.nan)
        peak = shifted(rolling_max(mom, n), np.nan)
        trough = shifted(rolling_min(mom, n), np.nan)
        with np.errstate(invalid="ignore"):
            short_entry = (bars.high > prior_high) & (mom <= peak - gap) & (peak > 0)
            long_entry = (bars.low < prior_low) & (mom >= trough + gap) & (trough < 0)
            shortfall = np.where(short_entry, peak - mom, np.where(long_entry, mom - trough, 0.0))
        no_exit = np.zeros(len(close), dtype=bool)
        return Signals(
            long_entry=long_entry,
            short_entry=short_entry,
            exit_long=no_exit,
            exit_short=no_exit.copy(),
            atr=rng,
            confidence=np.minimum(shortfall / (3.0 * gap), 1.0),
        )

    def _stream(self) -> SignalStream:
        return _DivergenceStream(self.p["lookback"], self.p["mom"], self.p["gap"], self.p["atr_period"])



class _DivergenceStream(SignalStream):
    def __init__(self, lookback: int, mom: int, gap: float, atr_period: int) -> None:
        self._gap = gap
        self._atr = AtrStream(atr_period)
        self._closes: deque[float] = deque(maxlen=mom + 1)
        self._hi = RollingMaxStream(lookback)
        self._lo = RollingMinStream(lookback)
        self._peak = RollingMaxStream(lookback)
        self._trough = RollingMinStream(lookback)
        self._prior = (math.nan, math.nan, math.nan, math.nan)

    def update(self, bar: Bar) -> Signal:
        rng = self._atr.update(bar.high, bar.low, bar.close)
        self._closes.append(bar.close)
        mom = math.nan
        if len(self._closes) == self._closes.maxlen and rng > 0:
            mom = (bar.close - self._closes[0]) / rng
        prior_high, prior_low, peak, trough = self._prior
        gap = self._gap
        short_entry = bar.high > prior_high and mom <= peak - gap and peak > 0
        long_entry = bar.low < prior_low and mom >= trough + gap and trough < 0
        if short_entry:
            shortfall = peak - mom
        elif long_entry:
            shortfall = mom - trough
        else:
            shortfall = 0.0
        self._prior = (
            self._hi.update(bar.high),
            self._lo.update(bar.low),
            self._peak.update(mom),
            self._trough.update(mom),
        )
        return Signal(
            long_entry=long_entry,
            short_entry=short_entry,
            atr=rng,
            confidence=min(shortfall / (3.0 * gap), 1.0),
        )
