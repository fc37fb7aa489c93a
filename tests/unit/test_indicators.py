"""Indicators equal TA-Lib's, and the streaming twins equal the vectorized functions exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import indicators as ind

talib = pytest.importorskip("talib", reason="TA-Lib is a test dependency (dev extra)")


def ohlc(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 17_000 + np.cumsum(rng.normal(0, 4, n))
    high = close + rng.random(n) * 6
    low = close - rng.random(n) * 6
    return high, low, close


def assert_rel(ours: np.ndarray, ref: np.ndarray, tol: float = 1e-9) -> None:
    assert ours.shape == ref.shape
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), "warm-up NaNs differ"
    finite = ~np.isnan(ref)
    assert finite.any()
    rel = np.abs(ours[finite] - ref[finite]) / np.maximum(np.abs(ref[finite]), 1e-300)
    assert rel.max() <= tol, f"max relative error {rel.max():.3e}"


@pytest.mark.parametrize("period", [1, 2, 5, 9, 21, 50, 200])
def test_ema_matches_talib(period: int) -> None:
    _, _, close = ohlc(20_000)
    assert_rel(ind.ema(close, period), talib.EMA(close, period))


@pytest.mark.parametrize("period", [1, 2, 7, 14, 50])
def test_atr_matches_talib(period: int) -> None:
    high, low, close = ohlc(20_000)
    assert_rel(ind.atr(high, low, close, period), talib.ATR(high, low, close, period))


@pytest.mark.parametrize("period", [2, 14, 30])
def test_other_indicators_match_talib(period: int) -> None:
    high, low, close = ohlc(5_000)
    assert_rel(ind.sma(close, period), talib.SMA(close, period))
    assert_rel(ind.rsi(close, period), talib.RSI(close, period))
    assert_rel(ind.adx(high, low, close, period), talib.ADX(high, low, close, period))
    assert_rel(ind.rolling_max(high, period), talib.MAX(high, period))
    assert_rel(ind.rolling_min(low, period), talib.MIN(low, period))
    assert_rel(ind.true_range(high, low, close), talib.TRANGE(high, low, close))


def test_ema_of_a_series_with_leading_nans_matches_talib() -> None:
    high, low, close = ohlc(3_000)
    atr14 = talib.ATR(high, low, close, 14)
    assert_rel(ind.ema(atr14, 10), talib.EMA(atr14, 10))


def test_warm_up_is_nan_and_short_inputs_are_all_nan() -> None:
    _, _, close = ohlc(30)
    out = ind.ema(close, 9)
    assert np.isnan(out[:8]).all() and not np.isnan(out[8:]).any()
    assert out[8] == pytest.approx(close[:9].mean(), rel=1e-12)
    assert np.isnan(ind.ema(close[:5], 9)).all()
    assert len(ind.ema(np.array([]), 3)) == 0


def test_bad_period_is_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        ind.ema(np.ones(10), 0)
    with pytest.raises(ValueError, match="period"):
        ind.atr(np.ones(10), np.ones(10), np.ones(10), 2.5)  # type: ignore[arg-type]


def _stream(make, rows) -> np.ndarray:  # type: ignore[no-untyped-def]
    s = make()
    return np.array([s.update(*r) for r in rows])


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=400),
    period=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_streaming_equals_vectorized_bit_for_bit(n: int, period: int, seed: int) -> None:
    high, low, close = ohlc(n, seed)
    rows3 = list(zip(high, low, close))
    rows1 = [(c,) for c in close]
    pairs = [
        (_stream(lambda: ind.EmaStream(period), rows1), ind.ema(close, period)),
        (_stream(lambda: ind.SmaStream(period), rows1), ind.sma(close, period)),
        (_stream(lambda: ind.AtrStream(period), rows3), ind.atr(high, low, close, period)),
        (_stream(ind.TrueRangeStream, rows3), ind.true_range(high, low, close)),
        (_stream(lambda: ind.RsiStream(period), rows1), ind.rsi(close, period)),
        (_stream(lambda: ind.AdxStream(period), rows3), ind.adx(high, low, close, period)),
        (_stream(lambda: ind.RollingMaxStream(period), [(h,) for h in high]), ind.rolling_max(high, period)),
        (_stream(lambda: ind.RollingMinStream(period), [(lo,) for lo in low]), ind.rolling_min(low, period)),
    ]
    for streamed, vectorized in pairs:
        assert np.array_equal(streamed.astype(float), vectorized, equal_nan=True)


def test_streaming_ema_and_atr_equal_talib() -> None:
    high, low, close = ohlc(2_000)
    assert_rel(_stream(lambda: ind.EmaStream(21), [(c,) for c in close]), talib.EMA(close, 21))
    assert_rel(_stream(lambda: ind.AtrStream(14), list(zip(high, low, close))), talib.ATR(high, low, close, 14))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=300),
    fast=st.integers(min_value=1, max_value=20),
    extra=st.integers(min_value=1, max_value=30),
    seed=st.integers(min_value=0, max_value=10_000),
    lead_nans=st.integers(min_value=0, max_value=5),
)
def test_fused_ema_crossings_equal_the_two_step_computation(n: int, fast: int, extra: int, seed: int,
                                                            lead_nans: int) -> None:
    _, _, close = ohlc(n, seed)
    close = np.r_[np.full(min(lead_nans, n), np.nan), close[min(lead_nans, n):]]
    slow = fast + extra
    up, down = ind.crossings(ind.ema(close, fast), ind.ema(close, slow))
    fused_up, fused_down = ind.ema_crossings(close, fast, slow)
    assert np.array_equal(up, fused_up) and np.array_equal(down, fused_down)
