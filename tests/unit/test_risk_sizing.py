"""Position sizing: each method gives the units a trader expects, to the lot, with its reason."""

from __future__ import annotations

import math

from core.risk.limits import RiskLimits
from core.risk.sizing import KELLY_MIN_TRADES, Edge, size_entry


def limits(**values: str) -> RiskLimits:
    return RiskLimits.from_mapping(values)


def edge(wins: int, avg_win: float, losses: int, avg_loss: float) -> Edge:
    e = Edge()
    for _ in range(wins):
        e.add(avg_win)
    for _ in range(losses):
        e.add(-avg_loss)
    return e


def test_a_risk_sized_position_risks_exactly_the_configured_rupees() -> None:
    rule = limits(sizing="risk", risk_per_trade_pct="1", capital="10L")  # Rs 10,000 a trade
    size = size_entry(rule, fixed_qty=1, price=1500.0, stop=1487.5, atr=3.0, lot_size=1)
    assert size.qty == 800 and size.qty * (1500.0 - 1487.5) == 10_000.0
    assert "Rs 10,000.00 / 12.50 to the stop" in size.how


def test_risk_sizing_rounds_down_to_whole_lots_and_never_risks_more() -> None:
    rule = limits(sizing="risk", risk_per_trade_pct="1", capital="10L")
    size = size_entry(rule, fixed_qty=1, price=24500.0, stop=24440.0, atr=20.0, lot_size=75)
    assert size.qty == 150  # 166.7 units: two lots of 75
    assert size.qty * 60 <= 10_000 < (size.qty + 75) * 60  # a third lot would risk Rs 13,500


def test_no_stop_means_no_risk_sized_trade() -> None:
    rule = limits(sizing="risk", risk_per_trade_pct="1")
    size = size_entry(rule, fixed_qty=1, price=1500.0, stop=None, atr=3.0, lot_size=1)
    assert size.qty == 0 and "needs a stop" in size.how
    assert size_entry(rule, fixed_qty=1, price=1500.0, stop=math.nan, atr=3.0, lot_size=1).qty == 0


def test_volatility_targeting_makes_one_atr_worth_the_target() -> None:
    rule = limits(sizing="vol", vol_target_pct="0.5", capital="10L")  # Rs 5,000 per ATR
    assert size_entry(rule, fixed_qty=1, price=1500.0, stop=None, atr=2.5, lot_size=1).qty == 2000
    warming = size_entry(rule, fixed_qty=1, price=1500.0, stop=None, atr=math.nan, lot_size=1)
    assert warming.qty == 0 and "ATR" in warming.how


def test_fractional_kelly_from_the_realised_edge_is_capped() -> None:
    good = edge(18, 2000.0, 12, 1000.0)  # p 0.6, b 2: f* = 0.6 - 0.4 / 2 = 0.4
    assert math.isclose(good.kelly() or 0, 0.4)
    capped = limits(sizing="kelly", kelly_fraction="0.25", kelly_cap_pct="2", capital="10L")
    size = size_entry(capped, fixed_qty=1, price=1500.0, stop=1487.5, atr=3.0, lot_size=1, edge=good)
    assert size.qty == 1600  # 0.25 x 0.4 = 10% wanted, capped at 2%: Rs 20,000 / 12.5
    loose = limits(sizing="kelly", kelly_fraction="0.25", kelly_cap_pct="20", capital="10L")
    assert size_entry(loose, fixed_qty=1, price=1500.0, stop=1487.5, atr=3.0, lot_size=1, edge=good).qty == 8000


def test_kelly_trades_nothing_without_an_edge_and_falls_back_while_it_cannot_tell() -> None:
    rule = limits(sizing="kelly", risk_per_trade_pct="0.5", capital="10L")
    losing = edge(9, 1000.0, 21, 1000.0)  # p 0.3, b 1: f* = -0.4
    size = size_entry(rule, fixed_qty=7, price=1500.0, stop=1487.5, atr=3.0, lot_size=1, edge=losing)
    assert size.qty == 0 and "no edge" in size.how
    young = edge(3, 1000.0, 2, 1000.0)
    assert young.trades < KELLY_MIN_TRADES and young.kelly() is None
    fallback = size_entry(rule, fixed_qty=7, price=1500.0, stop=1487.5, atr=3.0, lot_size=1, edge=young)
    assert fallback.qty == 400 and "too few" in fallback.how  # Rs 5,000 / 12.5
    bare = limits(sizing="kelly")
    assert size_entry(bare, fixed_qty=7, price=1500.0, stop=1487.5, atr=3.0, lot_size=1, edge=young).qty == 7


def test_the_soft_drawdown_scale_and_the_margin_cap_cut_the_size() -> None:
    rule = limits(sizing="risk", risk_per_trade_pct="1", capital="10L")
    half = size_entry(rule, fixed_qty=1, price=1500.0, stop=1487.5, atr=3.0, lot_size=1, scale=0.5)
    assert half.qty == 400 and "x0.5 (soft drawdown)" in half.how
    capped = size_entry(rule, fixed_qty=1, price=1500.0, stop=1487.5, atr=3.0, lot_size=1,
                        margin_per_unit=300.0, margin_available=60_000.0)
    assert capped.qty == 200 and "margin available" in capped.how
    fixed = size_entry(RiskLimits(), fixed_qty=50, price=1500.0, stop=None, atr=3.0, lot_size=1)
    assert (fixed.qty, fixed.how) == (50, "fixed 50")
