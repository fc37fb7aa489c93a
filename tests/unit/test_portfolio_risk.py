"""The portfolio risk engine's pre-trade rules with known returns: correlation and tail limits
refuse (or cut) an entry with the reason and the numbers; lockouts and cooldowns come first."""

from __future__ import annotations

import datetime as dt

import numpy as np

from core.clock import IST
from core.market.bars import Bar
from core.market.instruments import default_master
from core.risk.limits import RiskLimits
from core.risk.portfolio_risk import (
    COOLDOWN,
    CORRELATION,
    LOCKOUT,
    TAIL,
    VAR_HORIZON_BARS,
    PortfolioRisk,
)
from core.risk.tail import figures

NOW = dt.datetime(2026, 12, 3, 13, 0, tzinfo=IST)


def with_history(limits: RiskLimits, bars: int = 200, seed: int = 3) -> PortfolioRisk:
    """INFY and TCS moving together (correlation ~0.9), SBIN on its own."""
    risk = PortfolioRisk(lambda: limits, default_master())
    rng = np.random.default_rng(seed)
    prices = {"INFY": 1500.0, "TCS": 4000.0, "SBIN": 800.0}
    start = dt.datetime(2026, 12, 3, 9, 15, tzinfo=IST)
    for t in range(bars):
        common = rng.normal(0, 0.002)
        moves = {"INFY": common + rng.normal(0, 0.0007), "TCS": common + rng.normal(0, 0.0007),
                 "SBIN": rng.normal(0, 0.002)}
        when = start + dt.timedelta(minutes=t)
        for s, m in moves.items():
            prices[s] *= 1 + m
            risk.on_bar(Bar(s, when, when + dt.timedelta(minutes=1), prices[s], prices[s], prices[s], prices[s], 1.0))
    return risk


def test_an_entry_correlated_with_an_open_position_is_refused_or_cut_and_a_hedge_goes() -> None:
    limits = RiskLimits.from_mapping({"max_corr": "0.7"})
    risk = with_history(limits)
    risk.put(risk.exposure("held", "INFY", "ema_cross", 1, 100, 1500.0, 1490.0))
    long_tcs = risk.exposure("new", "TCS", "range_breakout", 1, 40, 4000.0, 3980.0)
    verdict = risk.pre_trade(long_tcs, NOW)
    assert verdict.qty == 0 and verdict.code == CORRELATION
    assert "with the open INFY position is above max_corr 0.7" in verdict.why
    c = float(verdict.why.split("correlation ")[1].split(" ")[0])
    r = risk.returns.returns(["INFY", "TCS"], VAR_HORIZON_BARS)
    assert abs(c - np.corrcoef(r, rowvar=False)[0, 1]) < 0.005 and c > 0.7
    assert risk.pre_trade(risk.exposure("new", "TCS", "range_breakout", -1, 40, 4000.0, 4020.0), NOW).qty == 40
    assert risk.pre_trade(risk.exposure("new", "SBIN", "range_breakout", 1, 40, 800.0, 795.0), NOW).qty == 40
    cut = PortfolioRisk.__new__(PortfolioRisk)
    cut.__dict__.update(risk.__dict__)
    cut._limits = lambda: RiskLimits.from_mapping({"max_corr": "0.7", "cap_action": "reduce"})
    reduced = cut.pre_trade(long_tcs, NOW)
    assert reduced.code == CORRELATION and reduced.qty == int(40 * 0.7 / c)


def test_a_var_limit_refuses_an_entry_whose_tail_would_pass_it_and_says_by_how_much() -> None:
    limits = RiskLimits.from_mapping({"capital": "10L", "var_limit_pct": "0.2"})  # 99% VaR under Rs 2,000
    risk = with_history(limits)
    small = risk.exposure("a", "SBIN", "ema_cross", 1, 50, 800.0, 790.0)  # Rs 40,000 of SBIN
    assert risk.pre_trade(small, NOW).qty == 50
    big = risk.exposure("b", "SBIN", "ema_cross", 1, 1000, 800.0, 790.0)  # Rs 8,00,000
    verdict = risk.pre_trade(big, NOW)
    assert verdict.qty == 0 and verdict.code == TAIL and "99% VaR would be Rs" in verdict.why
    symbols = risk.returns.symbols
    w = np.zeros(len(symbols))
    w[symbols.index("SBIN")] = 800_000.0
    expected = figures(risk.returns.returns(symbols, VAR_HORIZON_BARS), w).var_hist
    assert f"{expected:,.2f}" in verdict.why.replace("Rs ", "")  # the figure said is the book's own VaR


def test_lockout_windows_and_cooldowns_refuse_before_anything_is_computed() -> None:
    limits = RiskLimits.from_mapping({"lockout": "12:55-13:05", "loss_streak": "1", "cooldown_min": "10"})
    risk = with_history(limits, bars=5)
    entry = risk.exposure("n", "INFY", "ema_cross", 1, 10, 1500.0, 1490.0)
    assert risk.pre_trade(entry, NOW).code == LOCKOUT
    later = NOW + dt.timedelta(minutes=10)
    assert risk.pre_trade(entry, later).qty == 10
    assert "1 losses in a row" in risk.closed("ema_cross", -250.0, later)
    assert risk.pre_trade(entry, later).code == COOLDOWN
    assert risk.edges["ema_cross"].losses == 1
