"""Range breakout: trade the first break of the opening range, with an ATR buffer.

The opening range is the high and low of the bars that start within the first ``minutes``
minutes of the session (measured from the session's first bar). After it is complete,
decided at the close of bar t:

- **Long entry** on the session's first close above ``range_high + buffer·ATR[t]``.
- **Short entry** on the session's first close below ``range_low − buffer·ATR[t]``.
- At most one long and one short signal per session; no exit rule of its own (defaults:
  stop 1 ATR, target 2R, at most 2 entries a day); an opposite break reverses.

**Confidence** = how far the close cleared the buffered level, in ATRs, capped at 1.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from numba import njit

from core.indicators import AtrStream, atr
from core.market.bars import Bar, BarArrays
from core.strategies.base import Signal, Signals, SignalStream, Strategy
from core.strategies.param import Param, at_least, non_negative


@njit(cache=True)
def _breakouts(day, minute, high, low, close, rng, minutes, buffer):  # type: ignore[no-untyped-def]
    n = close.shape[0]
    long_entry = np.zeros(n, dtype=np.bool_)
    short_entry = np.zeros(n, dtype=np.bool_)
    conf = np.zeros(n)
    cur_day = -1
    first = 0
    top = -np.inf
    bottom = np.inf
    long_done = False
    short_done = False
    for i in range(n):
        if day[i] != cur_day:
            cur_day = day[i]
            first = minute[i]
            top = -np.inf
            bottom = np.inf
            long_done = False
            short_done = False
        if minute[i] < first + minutes:
            top = max(top, high[i])
            bottom = min(bottom, low[i])
            continue
        up = top + buffer * rng[i]
        down = bottom - buffer * rng[i]
        if not long_done and close[i] > up:
            long_entry[i] = True
            long_done = True
            conf[i] = min((close[i] - up) / rng[i], 1.0) if rng[i] > 0 else 0.0
        if not short_done and close[i] < down:
            short_entry[i] = True
            short_done = True
            conf[i] = min((down - close[i]) / rng[i], 1.0) if rng[i] > 0 else 0.0
    return long_entry, short_entry, conf


class RangeBreakout(Strategy):
    name = "range_breakout"
    summary = "first break of the opening range beyond an ATR buffer"
    PARAMS = {
        "minutes": Param(15, "opening-range length in minutes", int, at_least(1)),
        "buffer": Param(0.1, "ATR multiple beyond the range that confirms the break", float, non_negative),
    }
    TRADE_DEFAULTS = {"stop": "1atr", "target": "2r", "max_trades": "2"}

    def _signals(self, bars: BarArrays) -> Signals:
        rng = atr(bars.high, bars.low, bars.close, self.p["atr_period"])
        long_entry, short_entry, conf = _breakouts(
            bars.day, bars.minute, bars.high, bars.low, bars.close, rng,
            self.p["minutes"], float(self.p["buffer"]),
        )
        no_exit = np.zeros(len(bars), dtype=bool)
        return Signals(long_entry, short_entry, no_exit, no_exit.copy(), rng, conf)

    def _stream(self) -> SignalStream:
        return _BreakoutStream(self.p["minutes"], float(self.p["buffer"]), self.p["atr_period"])


class _BreakoutStream(SignalStream):
    def __init__(self, minutes: int, buffer: float, atr_period: int) -> None:
        self._minutes = minutes
        self._buffer = buffer
        self._atr = AtrStream(atr_period)
        self._day: dt.date | None = None
        self._first = 0
        self._top = -math.inf
        self._bottom = math.inf
        self._long_done = False
        self._short_done = False

    def update(self, bar: Bar) -> Signal:
        rng = self._atr.update(bar.high, bar.low, bar.close)
        minute = bar.start.hour * 60 + bar.start.minute
        if bar.start.date() != self._day:
            self._day = bar.start.date()
            self._first = minute
            self._top, self._bottom = -math.inf, math.inf
            self._long_done = self._short_done = False
        if minute < self._first + self._minutes:
            self._top = max(self._top, bar.high)
            self._bottom = min(self._bottom, bar.low)
            return Signal(atr=rng)
        up = self._top + self._buffer * rng
        down = self._bottom - self._buffer * rng
        long_entry = short_entry = False
        conf = 0.0
        if not self._long_done and bar.close > up:
            long_entry = self._long_done = True
            conf = min((bar.close - up) / rng, 1.0) if rng > 0 else 0.0
        if not self._short_done and bar.close < down:
            short_entry = self._short_done = True
            conf = min((down - bar.close) / rng, 1.0) if rng > 0 else 0.0
        return Signal(long_entry=long_entry, short_entry=short_entry, atr=rng, confidence=conf)
