"""Strategies: exact streaming/vectorized agreement, no look-ahead, and each rule on purpose-built bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.clock import IST
from core.errors import ConfigError
from core.market.bars import BarSeries
from core.simulator.run import simulate_legs
from core.strategies import REGISTRY, create
from core.strategies.priority import prioritise, prioritise_one
from tests.conftest import synthetic

FIELDS = ("long_entry", "short_entry", "exit_long", "exit_short", "atr", "confidence")
FILTERS = [{}, {"chop_max": "55", "min_atr_bps": "2", "adx_min": "18", "window": "09:45-14:00", "min_confidence": "0.2"}]


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("extra", FILTERS, ids=["defaults", "all-filters"])
def test_streaming_decisions_equal_vectorized_ones(name: str, extra: dict[str, str]) -> None:
    series = synthetic("SYN", sessions=12, seed=21)
    strategy = create(name, **extra)
    vec = strategy.signals(series.arrays)
    stream = strategy.stream()
    decided = [stream.update(bar) for bar in series.bars()]
    for field in FIELDS:
        got = np.array([getattr(d, field) for d in decided], dtype=float)
        assert np.array_equal(got, getattr(vec, field).astype(float), equal_nan=True), field
    assert vec.long_entry.sum() + vec.short_entry.sum() > 0, "the strategy never fired: the test proves nothing"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_no_look_ahead(name: str) -> None:
    """A decision at bar t does not change when every bar after t is altered."""
    series = synthetic("SYN", sessions=8, seed=4)
    strategy = create(name, stop="1atr", trail="1atr", target="2r")
    base = strategy.signals(series.arrays)
    base_legs = simulate_legs([series], [strategy]).ordered()
    rng = np.random.default_rng(0)
    n = len(series)
    for t in (400, 1200, n // 2, n - 30):
        frame = series.frame.copy()
        shock = rng.uniform(0.9, 1.1, n - t - 1)
        for col in ("open", "high", "low", "close"):
            frame.iloc[t + 1:, frame.columns.get_loc(col)] = (frame[col].to_numpy()[t + 1:] * shock).round(1)
        frame.iloc[t + 1:, frame.columns.get_loc("high")] = frame.iloc[t + 1:][["open", "high", "low", "close"]].max(axis=1)
        frame.iloc[t + 1:, frame.columns.get_loc("low")] = frame.iloc[t + 1:][["open", "high", "low", "close"]].min(axis=1)
        altered = BarSeries(series.symbol, frame)
        sig = strategy.signals(altered.arrays)
        for field in FIELDS:
            assert np.array_equal(getattr(sig, field)[: t + 1], getattr(base, field)[: t + 1], equal_nan=True), (field, t)
        legs = simulate_legs([altered], [strategy]).ordered()
        cut = int(series.frame.index[t].value)
        done_base = base_legs.exit_ns <= cut
        done_alt = legs.exit_ns <= cut
        assert np.array_equal(base_legs.exit_price[done_base], legs.exit_price[done_alt]), t
        assert np.array_equal(base_legs.entry_ns[done_base], legs.entry_ns[done_alt]), t


def minute_bars(closes: list[float], start: str = "2024-01-02 09:15", spread: float = 0.5) -> BarSeries:
    index = pd.date_range(pd.Timestamp(start, tz=IST), periods=len(closes), freq="1min")
    c = np.asarray(closes, dtype=float)
    o = np.r_[c[0], c[:-1]]
    frame = pd.DataFrame({"open": o, "high": np.maximum(o, c) + spread, "low": np.minimum(o, c) - spread,
                          "close": c, "volume": 1000.0}, index=index)
    return BarSeries("T", frame)


def test_ema_cross_fires_exactly_on_the_crossing_bar() -> None:
    closes = [100.0] * 30 + [100.0 - k for k in range(1, 11)] + [91.0 + 2 * k for k in range(1, 16)]
    sig = create("ema_cross", fast=3, slow=8).signals(minute_bars(closes).arrays)
    downs, ups = np.flatnonzero(sig.short_entry), np.flatnonzero(sig.long_entry)
    assert list(downs) == [30]  # the first falling close takes fast below slow
    assert len(ups) == 1 and 40 <= ups[0] <= 44
    assert 0.0 <= sig.confidence.min() and sig.confidence.max() <= 1.0


def test_atr_reversal_fades_the_stretch_when_price_closes_back() -> None:
    closes = [100.0] * 40 + [98.0, 95.0, 91.0, 86.0, 92.0, 96.0, 99.0, 100.5]
    sig = create("atr_reversal", mean=20, k=2.0, atr_period=5, window="none").signals(minute_bars(closes, spread=0.3).arrays)
    longs = np.flatnonzero(sig.long_entry)
    assert len(longs) == 1 and closes[longs[0] - 1] < closes[longs[0]]  # entered on the close back
    exits = np.flatnonzero(sig.exit_long)
    assert exits[exits > longs[0]][0] >= longs[0] + 1  # exit when price is back at the mean
    assert not sig.short_entry.any()


def test_atr_divergence_needs_a_new_high_without_momentum() -> None:
    up = [100 + 1.0 * k for k in range(25)]  # strong thrust
    drift = [124 + 0.1 * k for k in range(1, 15)]  # creeping new highs, weak momentum
    sig = create("atr_divergence", lookback=20, mom=5, gap=0.5, window="none").signals(minute_bars(up + drift, spread=0.2).arrays)
    shorts = np.flatnonzero(sig.short_entry)
    assert len(shorts) > 0 and shorts.min() >= 25
    assert not sig.long_entry.any()


def test_range_breakout_takes_only_the_first_break_each_way_per_session() -> None:
    opening = [100.0, 101.0, 99.5, 100.5, 100.0]  # 5-minute opening range 99.0 .. 101.5 (with spread)
    closes = opening + [100.5] * 20 + [103.0, 101.0, 103.5, 100.0, 97.0, 100.0, 96.0]
    sig = create("range_breakout", minutes=5, buffer=0.1, atr_period=3).signals(minute_bars(closes).arrays)
    assert list(np.flatnonzero(sig.long_entry)) == [25]
    assert list(np.flatnonzero(sig.short_entry)) == [29]


def test_a_filtered_opposite_signal_still_exits_the_position() -> None:
    """Filters hold back entries, never exits: a blocked reversal becomes a plain exit."""
    series = synthetic("SYN", sessions=10, seed=14)
    free = create("ema_cross")
    gated = create("ema_cross", adx_min="30")
    raw = free.signals(series.arrays)
    sig = gated.signals(series.arrays)
    blocked_short = raw.short_entry & ~sig.short_entry
    assert blocked_short.any(), "the filter blocked nothing: the test proves nothing"
    assert sig.exit_long[blocked_short].all() and sig.exit_short[raw.long_entry].all()
    trades = simulate_legs([series], [gated]).ordered()
    ts = series.arrays.ts
    next_ts = np.r_[ts[1:], ts[-1] + 60_000_000_000]
    exits_checked = 0
    for k in range(len(trades)):
        if trades.side[k] > 0:
            # a long open at the close of a bar with a blocked short signal ...
            open_then = (ts >= trades.entry_ns[k]) & (ts < trades.exit_ns[k]) & blocked_short
            for j in np.flatnonzero(open_then):
                assert trades.exit_ns[k] <= next_ts[j]  # ... is out by the next bar's open
                exits_checked += 1
    assert exits_checked > 0
    assert set(trades.reason) >= {6}  # plain 'signal' exits exist


def test_a_priority_loser_still_exits_on_its_own_opposite_signal() -> None:
    from core.strategies.base import Signal

    one = prioritise_one({"ema_cross": Signal(short_entry=True, exit_long=True, confidence=0.3),
                          "range_breakout": Signal(long_entry=True, exit_short=True, confidence=0.9)})
    assert one["ema_cross"].exit_long and not one["ema_cross"].short_entry
    assert one["range_breakout"].long_entry


def test_unknown_parameter_names_the_closest_one() -> None:
    with pytest.raises(ConfigError, match="did you mean 'fast'") as err:
        create("ema_cross", fsat=5)
    assert err.value.where == "ema_cross.fsat"
    with pytest.raises(ConfigError, match="must be shorter"):
        create("ema_cross", fast=30, slow=10)
    with pytest.raises(ConfigError, match="did you mean 'ema_cross'"):
        create("ema_crss")
    with pytest.raises(ConfigError, match="window"):
        create("atr_reversal", window="9-15")


def test_priority_lets_one_strategy_enter_per_instrument_and_bar() -> None:
    series = synthetic("SYN", sessions=10, seed=9)
    strategies = [create(n) for n in sorted(REGISTRY)]
    raw = {s.name: s.signals(series.arrays) for s in strategies}
    ranked = prioritise(raw, "best")
    entries = np.stack([ranked[n].long_entry | ranked[n].short_entry for n in raw])
    assert entries.sum(axis=0).max() == 1
    clashes = np.stack([raw[n].long_entry | raw[n].short_entry for n in raw]).sum(axis=0) > 1
    assert clashes.any(), "no bar with two strategies firing: the test proves nothing"
    for i in np.flatnonzero(clashes)[:20]:
        fired = {n: raw[n].confidence[i] for n in raw if raw[n].long_entry[i] or raw[n].short_entry[i]}
        winner = [n for n in raw if ranked[n].long_entry[i] or ranked[n].short_entry[i]]
        assert len(winner) == 1 and fired[winner[0]] == max(fired.values())
        one = prioritise_one({n: _signal_at(raw[n], i) for n in raw}, "best")
        assert [n for n, s in one.items() if s.long_entry or s.short_entry] == winner
    assert prioritise(raw, "all") is raw


def _signal_at(sig, i):  # type: ignore[no-untyped-def]
    from core.strategies.base import Signal

    return Signal(bool(sig.long_entry[i]), bool(sig.short_entry[i]), bool(sig.exit_long[i]),
                  bool(sig.exit_short[i]), float(sig.atr[i]), float(sig.confidence[i]))
