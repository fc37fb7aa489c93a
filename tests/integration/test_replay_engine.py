"""`atw replay` (the live engine on history, paper fills) trades exactly as the simulator does."""

from __future__ import annotations

import pandas as pd
import pytest

from core.automation.replay import run_replay
from core.market.bars import BarSeries
from core.simulator.costs import cost_model
from core.simulator.run import simulate
from core.strategies import REGISTRY, create
from tests.integration.test_engine_parity import CONFIGS, two_instruments


def known_instruments() -> list[BarSeries]:
    """Two synthetic instruments under names the instrument master knows (arming refuses others)."""
    a, b = two_instruments()
    return [BarSeries("DEMO_TREND", a.frame, 1, a.source), BarSeries("DEMO_VOL", b.frame, 1, b.source)]

COMPARED = ["symbol", "strategy", "side", "qty", "entry_time", "entry_price", "exit_time", "exit_price",
            "exit_reason", "net_pnl"]


def _ordered(trades: pd.DataFrame) -> pd.DataFrame:
    return trades[COMPARED].sort_values(["symbol", "strategy", "entry_time", "exit_time", "exit_reason"]).reset_index(drop=True)


@pytest.mark.parametrize("config", range(len(CONFIGS)))
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_replay_gives_the_simulators_trades(name: str, config: int) -> None:
    series = known_instruments()
    strategy = create(name, **CONFIGS[config])
    arms = [(s.symbol, name) for s in series]
    event = simulate(series, [strategy], engine="event", costs=cost_model("zerodha"))
    fast = simulate(series, [strategy], engine="fast", costs=cost_model("zerodha"))
    replay = run_replay(series, [strategy], arms, costs="zerodha", ledger=False)
    assert len(replay.trades) > 0
    pd.testing.assert_frame_equal(_ordered(replay.trades), _ordered(event.trades))
    pd.testing.assert_frame_equal(_ordered(replay.trades), _ordered(fast.trades))
    assert replay.report["net_pnl"] == event.report["net_pnl"]
    assert not replay.engine.alerts, replay.engine.alerts[:3]


def test_all_four_strategies_armed_together_match_the_simulators_priority_rule() -> None:
    series = known_instruments()
    strategies = [create(name) for name in sorted(REGISTRY)]
    arms = [(s.symbol, st.name) for s in series for st in strategies]
    event = simulate(series, strategies, engine="event", costs=cost_model("none"))
    replay = run_replay(series, strategies, arms, costs="none", ledger=False)
    pd.testing.assert_frame_equal(_ordered(replay.trades), _ordered(event.trades))
