"""Technical indicators, vectorized (numpy/numba) and streaming, with identical results.

Every vectorized function takes float arrays and returns a float64 array of the input's length
with NaN during warm-up. Each has a streaming twin (``EmaStream`` for ``ema`` ...) whose
``update`` returns the value the vectorized function gives at that position, bit for bit:
both perform the same floating-point operations in the same order. EMA and ATR follow TA-Lib
exactly (SMA seed, Wilder smoothing for ATR), so they match ``talib.EMA``/``talib.ATR``.

Leading NaNs in the input are skipped (warm-up starts at the first finite value), as TA-Lib's
Python wrapper does; that lets an indicator be applied to another indicator's output.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numba import njit

_NAN = math.nan

# ---------------------------------------------------------------------------- vectorized kernels


@njit(cache=True)
def _first_finite(x: np.ndarray) -> int:
    for i in range(x.shape[0]):
        if not math.isnan(x[i]):
            return i
    return x.shape[0]


@njit(cache=True)
def _ema_kernel(x: np.ndarray, period: int) -> np.ndarray:
    n = x.shape[0]
    out = np.full(n, np.nan)
    start = _first_finite(x)
    if n - start < period:
        return out
    k = 2.0 / (period + 1)
    total = 0.0
    for i in range(start, start + period):
        total += x[i]
    prev = total / period
    out[start + period - 1] = prev
    for i in range(start + period, n):
        prev = (x[i] - prev) * k + prev
        out[i] = prev
    return out


@njit(cache=True)
def _sma_kernel(x: np.ndarray, period: int) -> np.ndarray:
    n = x.shape[0]
    out = np.full(n, np.nan)
    start = _first_finite(x)
    if n - start < period:
        return out
    total = 0.0
    for i in range(start, start + period - 1):
        total += x[i]
    trail = start
    for i in range(start + period - 1, n):
        total += x[i]
        out[i] = total / period
        total -= x[trail]
        trail += 1
    return out


@njit(cache=True)
def _true_range_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    n = high.shape[0]
    out = np.full(n, np.nan)
    for i in range(1, n):
        out[i] = _tr(high[i], low[i], close[i - 1])
    return out


@njit(cache=True)
def _tr(high: float, low: float, prev_close: float) -> float:
    # selects rather than branches: the comparisons are data-dependent and mispredict
    rng = high - low
    up = abs(high - prev_close)
    down = abs(low - prev_close)
    rng = up if up > rng else rng
    return down if down > rng else rng


@njit(cache=True)
def _atr_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder smoothing of the true range in one pass (same operations as TRANGE + smoothing)."""
    n = high.shape[0]
    out = np.full(n, np.nan)
    if n <= period:
        return out
    total = 0.0
    for i in range(1, period + 1):
        total += _tr(high[i], low[i], close[i - 1])
    prev = total / period
    out[period] = prev
    for i in range(period + 1, n):
        prev *= period - 1
        prev += _tr(high[i], low[i], close[i - 1])
        prev /= period
        out[i] = prev
    return out


@njit(cache=True)
def _rolling_max_kernel(x: np.ndarray, period: int) -> np.ndarray:
    n = x.shape[0]
    out = np.full(n, np.nan)
    for i in range(period - 1, n):
        best = x[i - period + 1]
        for j in range(i - period + 2, i + 1):
            if x[j] > best:
                best = x[j]
        out[i] = best
    return out


@njit(cache=True)
def _rolling_min_kernel(x: np.ndarray, period: int) -> np.ndarray:
    n = x.shape[0]
    out = np.full(n, np.nan)
    for i in range(period - 1, n):
        best = x[i - period + 1]
        for j in range(i - period + 2, i + 1):
            if x[j] < best:
                best = x[j]
        out[i] = best
    return out


@njit(cache=True)
def _rsi_kernel(close: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib RSI (Wilder): first value at index ``period``."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    if n <= period:
        return out
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        d = close[i] - close[i - 1]
        if d < 0:
            loss -= d
        else:
            gain += d
    gain /= period
    loss /= period
    out[period] = _rsi_value(gain, loss)
    for i in range(period + 1, n):
        d = close[i] - close[i - 1]
        gain *= period - 1
        loss *= period - 1
        if d < 0:
            loss -= d
        else:
            gain += d
        gain /= period
        loss /= period
        out[i] = _rsi_value(gain, loss)
    return out


@njit(cache=True)
def _rsi_value(gain: float, loss: float) -> float:
    total = gain + loss
    if total == 0.0:
        return 0.0
    return 100.0 * (gain / total)


@njit(cache=True)
def _adx_kernel(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib ADX: Wilder-smoothed +DM/-DM/TR sums, DX, then Wilder average of DX.

    The first value is at index ``2 * period - 1``. Divisions by the period are multiplications
    by its reciprocal (ADX is on the hot path of every simulation); the result stays within
    1e-12 of TA-Lib's.
    """
    n = high.shape[0]
    out = np.full(n, np.nan)
    if n < 2 * period:
        return out
    pdm = 0.0
    mdm = 0.0
    tr = 0.0
    for i in range(1, period):
        p, m = _dm(high[i], high[i - 1], low[i], low[i - 1])
        pdm += p
        mdm += m
        tr += _tr(high[i], low[i], close[i - 1])
    dx_sum = 0.0
    adx = 0.0
    inv = 1.0 / period
    for i in range(period, n):
        p, m = _dm(high[i], high[i - 1], low[i], low[i - 1])
        pdm = pdm - pdm * inv + p
        mdm = mdm - mdm * inv + m
        tr = tr - tr * inv + _tr(high[i], low[i], close[i - 1])
        dx = _dx(pdm, mdm, tr)
        if i < 2 * period - 1:
            dx_sum += dx
        elif i == 2 * period - 1:
            dx_sum += dx
            adx = dx_sum * inv
            out[i] = adx
        else:
            adx = (adx * (period - 1) + dx) * inv
            out[i] = adx
    return out


@njit(cache=True)
def _dm(high: float, prev_high: float, low: float, prev_low: float) -> tuple[float, float]:
    up = high - prev_high
    down = prev_low - low
    plus = up if (up > down and up > 0.0) else 0.0
    minus = down if (down > up and down > 0.0) else 0.0
    return plus, minus


@njit(cache=True)
def _dx(pdm: float, mdm: float, tr: float) -> float:
    if tr == 0.0:
        return 0.0
    scale = 100.0 / tr
    pdi = pdm * scale
    mdi = mdm * scale
    total = pdi + mdi
    if total == 0.0:
        return 0.0
    return 100.0 * (abs(pdi - mdi) / total)


@njit(cache=True)
def _crossings_kernel(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = a.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        if a[i] > b[i] and a[i - 1] <= b[i - 1]:
            up[i] = True
        elif a[i] < b[i] and a[i - 1] >= b[i - 1]:
            down[i] = True
    return up, down


@njit(cache=True)
def _ema_step(x: float, j: int, period: int, k: float, seed: float, value: float) -> tuple[float, float]:
    """One EMA step at position ``j`` after the first finite value: (seed sum, EMA) as ``_ema_kernel``."""
    if j < period:
        seed += x
        if j == period - 1:
            value = seed / period
        return seed, value
    return seed, (x - value) * k + value


@njit(cache=True)
def _ema_crossings_kernel(x: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """``crossings(ema(x, fast), ema(x, slow))`` in one pass, with the very same operations."""
    n = x.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    start = _first_finite(x)
    kf = 2.0 / (fast + 1)
    ks = 2.0 / (slow + 1)
    f = s = pf = ps = np.nan
    sum_f = sum_s = 0.0
    for i in range(start, n):
        j = i - start
        sum_f, f = _ema_step(x[i], j, fast, kf, sum_f, f)
        sum_s, s = _ema_step(x[i], j, slow, ks, sum_s, s)
        if f > s and pf <= ps:
            up[i] = True
        elif f < s and pf >= ps:
            down[i] = True
        pf, ps = f, s
    return up, down


# ---------------------------------------------------------------------------- public vectorized API


def _f64(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _check_period(period: int) -> int:
    if int(period) != period or period < 1:
        raise ValueError(f"indicator period must be a positive integer, got {period!r}")
    return int(period)


def ema(values: np.ndarray, period: int) -> np.ndarray:
    """Exponential moving average, TA-Lib compatible (seeded with the SMA of the first ``period``)."""
    return _ema_kernel(_f64(values), _check_period(period))


def sma(values: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average over ``period`` values."""
    return _sma_kernel(_f64(values), _check_period(period))


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range; NaN at index 0 (no previous close), as TA-Lib's TRANGE."""
    return _true_range_kernel(_f64(high), _f64(low), _f64(close))


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Average true range with Wilder smoothing, TA-Lib compatible (first value at ``period``).

    Bars are expected finite (the loader refuses NaN prices).
    """
    return _atr_kernel(_f64(high), _f64(low), _f64(close), _check_period(period))


def rolling_max(values: np.ndarray, period: int) -> np.ndarray:
    """Highest value of the last ``period`` values, current included."""
    return _rolling_max_kernel(_f64(values), _check_period(period))


def rolling_min(values: np.ndarray, period: int) -> np.ndarray:
    """Lowest value of the last ``period`` values, current included."""
    return _rolling_min_kernel(_f64(values), _check_period(period))


def crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where ``a`` crosses above ``b`` (``a[t] > b[t]`` and ``a[t-1] <= b[t-1]``) and below.

    Comparisons with NaN are false, so nothing crosses during either series' warm-up.
    """
    return _crossings_kernel(_f64(a), _f64(b))


def ema_crossings(values: np.ndarray, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``crossings(ema(values, fast), ema(values, slow))``, fused into one pass
    (the EMA-cross strategy's hot path)."""
    return _ema_crossings_kernel(_f64(values), _check_period(fast), _check_period(slow))


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Relative strength index (Wilder), TA-Lib compatible."""
    return _rsi_kernel(_f64(close), _check_period(period))


def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Average directional index (Wilder), TA-Lib compatible."""
    return _adx_kernel(_f64(high), _f64(low), _f64(close), _check_period(period))


# ---------------------------------------------------------------------------- streaming twins


class EmaStream:
    """Streaming :func:`ema`."""

    __slots__ = ("period", "_k", "_seed", "_count", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._k = 2.0 / (self.period + 1)
        self._seed = 0.0
        self._count = 0
        self.value = _NAN

    def update(self, x: float) -> float:
        if self._count == 0 and math.isnan(x):
            return _NAN
        if self._count < self.period:
            self._seed += x
            self._count += 1
            if self._count == self.period:
                self.value = self._seed / self.period
            return self.value
        self.value = (x - self.value) * self._k + self.value
        return self.value


class SmaStream:
    """Streaming :func:`sma`."""

    __slots__ = ("period", "_window", "_total", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._window: deque[float] = deque()
        self._total = 0.0
        self.value = _NAN

    def update(self, x: float) -> float:
        if not self._window and math.isnan(x):
            return _NAN
        self._window.append(x)
        self._total += x
        if len(self._window) < self.period:
            return _NAN
        self.value = self._total / self.period
        self._total -= self._window.popleft()
        return self.value


class TrueRangeStream:
    """Streaming :func:`true_range`."""

    __slots__ = ("_prev_close", "value")

    def __init__(self) -> None:
        self._prev_close = _NAN
        self.value = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        prev, self._prev_close = self._prev_close, close
        if math.isnan(prev):
            return _NAN
        rng = high - low
        up = abs(high - prev)
        down = abs(low - prev)
        if up > rng:
            rng = up
        if down > rng:
            rng = down
        self.value = rng
        return rng


class WilderStream:
    """Streaming Wilder smoothing with an SMA seed (the smoothing inside :func:`atr`)."""

    __slots__ = ("period", "_count", "_seed", "value")

    def __init__(self, period: int) -> None:
        self.period = _check_period(period)
        self._count = 0
        self._seed = 0.0
        self.value = _NAN

    def update(self, x: float) -> float:
        if self._count == 0 and math.isnan(x):
            return _NAN
        if self._count < self.period:
            self._seed += x
            self._count += 1
            if self._count == self.period:
                self.value = self._seed / self.period
            return self.value
        value = self.value * (self.period - 1)
        value += x
        self.value = value / self.period
        return self.value


class AtrStream:
    """Streaming :func:`atr`."""

    __slots__ = ("_tr", "_wilder")

    def __init__(self, period: int) -> None:
        self._tr = TrueRangeStream()
        self._wilder = WilderStream(period)

    @property
    def value(self) -> float:
        return self._wilder.value

    def update(self, high: float, low: float, close: float) -> float:
        return self._wilder.update(self._tr.update(high, low, close))


class _RollingExtremeStream:
    """Streaming rolling max (``higher``) or min, scanning the window as the kernels do."""

    __slots__ = ("period", "_window", "_higher", "value")

    def __init__(self, period: int, higher: bool) -> None:
        self.period = _check_period(period)
        self._window: deque[float] = deque(maxlen=self.period)
        self._higher = higher
        self.value = _NAN

    def update(self, x: float) -> float:
        self._window.append(x)
        if len(self._window) < self.period:
            return _NAN
        best = self._window[0]
        for v in self._window:
            if (v > best) if self._higher else (v < best):
                best = v
        self.value = best
        return best


class RollingMaxStream(_RollingExtremeStream):
    """Streaming :func:`rolling_max`."""

    __slots__ = ()

    def __init__(self, period: int) -> None:
        super().__init__(period, higher=True)


class RollingMinStream(_RollingExtremeStream):
    """Streaming :func:`rolling_min`."""

    __slots__ = ()

    def __init__(self, period: int) -> None:
        super().__init__(period, higher=False)


class RsiStream:
    """Streaming :func:`rsi`."""

    __slots__ = ("period", "_prev", "_count", "_gain", "_loss", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _check_period(period)
        self._prev = _NAN
        self._count = 0
        self._gain = 0.0
        self._loss = 0.0
        self.value = _NAN

    def update(self, close: float) -> float:
        prev, self._prev = self._prev, close
        if math.isnan(prev):
            return _NAN
        d = close - prev
        self._count += 1
        if self._count <= self.period:
            if d < 0:
                self._loss -= d
            else:
                self._gain += d
            if self._count < self.period:
                return _NAN
            self._gain /= self.period
            self._loss /= self.period
        else:
            self._gain *= self.period - 1
            self._loss *= self.period - 1
            if d < 0:
                self._loss -= d
            else:
                self._gain += d
            self._gain /= self.period
            self._loss /= self.period
        total = self._gain + self._loss
        self.value = 0.0 if total == 0.0 else 100.0 * (self._gain / total)
        return self.value


class AdxStream:
    """Streaming :func:`adx`."""

    __slots__ = ("period", "_prev", "_count", "_pdm", "_mdm", "_tr", "_dx_sum", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _check_period(period)
        self._prev: tuple[float, float, float] | None = None
        self._count = 0
        self._pdm = 0.0
        self._mdm = 0.0
        self._tr = 0.0
        self._dx_sum = 0.0
        self.value = _NAN

    def update(self, high: float, low: float, close: float) -> float:
        prev, self._prev = self._prev, (high, low, close)
        if prev is None:
            return _NAN
        ph, pl, pc = prev
        p, m = _dm_py(high, ph, low, pl)
        tr = _tr_py(high, low, pc)
        self._count += 1
        n = self.period
        if self._count < n:
            self._pdm += p
            self._mdm += m
            self._tr += tr
            return _NAN
        inv = 1.0 / n
        self._pdm = self._pdm - self._pdm * inv + p
        self._mdm = self._mdm - self._mdm * inv + m
        self._tr = self._tr - self._tr * inv + tr
        dx = _dx_py(self._pdm, self._mdm, self._tr)
        if self._count < 2 * n - 1:
            self._dx_sum += dx
            return _NAN
        if self._count == 2 * n - 1:
            self._dx_sum += dx
            self.value = self._dx_sum * inv
        else:
            self.value = (self.value * (n - 1) + dx) * inv
        return self.value


def _tr_py(high: float, low: float, prev_close: float) -> float:
    rng = high - low
    up = abs(high - prev_close)
    down = abs(low - prev_close)
    if up > rng:
        rng = up
    if down > rng:
        rng = down
    return rng


def _dm_py(high: float, prev_high: float, low: float, prev_low: float) -> tuple[float, float]:
    up = high - prev_high
    down = prev_low - low
    if up > 0 and up > down:
        return up, 0.0
    if down > 0 and down > up:
        return 0.0, down
    return 0.0, 0.0


def _dx_py(pdm: float, mdm: float, tr: float) -> float:
    if tr == 0.0:
        return 0.0
    scale = 100.0 / tr
    pdi = pdm * scale
    mdi = mdm * scale
    total = pdi + mdi
    if total == 0.0:
        return 0.0
    return 100.0 * (abs(pdi - mdi) / total)
