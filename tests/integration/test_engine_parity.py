"""The fast research path and the event path the live engine uses give the same trades."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.market.bars import BarSeries
from core.simulator.costs import cost_model
from core.simulator.legs import LegColumns
from core.simulator.run import simulate, simulate_legs
from core.strategies import REGISTRY, create
from tests.conftest import synthetic

CONFIGS = [
    {},
    {"stop": "1atr", "target": "2r", "trail": "1atr", "trail_after": "0.5r", "breakeven": "0.7r",
     "partial": "0.5r:30%,1r:30%", "qty": "10", "slippage": "1tick", "max_trades": "3"},
    {"stop": "15pts", "trail": "10pts", "slippage": "2bps", "qty": "3", "partial": "1r:50%", "cutoff": "14:30"},
    {"stop": "0.2pct", "target": "3atr", "breakeven": "1atr", "chop_max": "60", "min_confidence": "0.3"},
]


def two_instruments() -> list[BarSeries]:
    a = synthetic("SYN", sessions=10, seed=31)
    b = synthetic("SYN", sessions=10, seed=32, regime="high_vol")
    return [a, BarSeries("SYN2", b.frame, 1, b.source)]


def assert_same_legs(a: LegColumns, b: LegColumns) -> None:
    a, b = a.ordered(), b.ordered()
    assert len(a) == len(b)
    for field in LegColumns.__dataclass_fields__:
        x, y = getattr(a, field), getattr(b, field)
        same = (x == y).all() if x.dtype == object else np.array_equal(x, y, equal_nan=True)
        assert same, field


@pytest.mark.parametrize("config", CONFIGS, ids=["defaults", "everything-on", "points-bps-early-cutoff", "pct-filters"])
@pytest.mark.parametrize("priority", ["best", "all"])
def test_fast_and_event_paths_agree_on_every_strategy(config: dict[str, str], priority: str) -> None:
    series = two_instruments()
    strategies = [create(n, **config) for n in sorted(REGISTRY)]
    fast = simulate_legs(series, strategies, engine="fast", priority=priority)
    event = simulate_legs(series, strategies, engine="event", priority=priority)
    assert len(fast) > 50
    assert set(np.unique(fast.strategy)) == set(REGISTRY)
    assert_same_legs(fast, event)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(REGISTRY)),
    stop=st.sampled_from(["none", "8pts", "0.8atr", "2atr", "0.3pct"]),
    target=st.sampled_from(["none", "1.5r", "3atr", "20pts"]),
    trail=st.sampled_from(["none", "0.5atr", "6pts"]),
    breakeven=st.sampled_from(["none", "1atr", "5pts"]),
    slippage=st.sampled_from(["0", "1tick", "3bps"]),
    qty=st.integers(min_value=1, max_value=7),
    max_trades=st.integers(min_value=0, max_value=4),
    seed=st.integers(min_value=0, max_value=50),
)
def test_parity_holds_for_random_trade_settings(name, stop, target, trail, breakeven, slippage, qty, max_trades, seed):  # type: ignore[no-untyped-def]
    if stop == "none" and target.endswith("r"):
        target = "none"
    series = [synthetic("SYN", sessions=4, seed=seed)]
    config = {"stop": stop, "target": target, "trail": trail, "breakeven": breakeven, "slippage": slippage,
              "qty": str(qty), "max_trades": str(max_trades)}
    if stop != "none" and qty >= 2:
        config["partial"] = "0.5r:50%"
    strategy = create(name, **config)
    assert_same_legs(simulate_legs(series, [strategy], engine="fast"),
                     simulate_legs(series, [strategy], engine="event"))


def test_priced_results_are_identical_across_engines() -> None:
    series = two_instruments()
    strategies = [create(n, stop="1atr", target="2r", qty="25") for n in sorted(REGISTRY)]
    runs = [simulate(series, strategies, engine=e, costs=cost_model("zerodha")) for e in ("fast", "event")]
    a, b = (r.trades.drop(columns=[]) for r in runs)
    assert a.equals(b)
    for key in ("trades", "net_pnl", "gross_pnl", "charges", "sharpe", "max_drawdown"):
        assert runs[0].report[key] == runs[1].report[key]
