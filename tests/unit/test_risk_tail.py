"""VaR, CVaR and stress of a known book agree with independent calculations."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from core.risk.tail import TailBook, figures, historical, parametric


def known_returns(rows: int = 500, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0002, 0.01, rows)
    b = 0.6 * a + rng.normal(-0.0001, 0.008, rows)  # correlated with a
    return np.column_stack([a, b])


def test_historical_var_and_cvar_are_the_tail_of_the_sorted_losses() -> None:
    pnl = np.array([-50.0, 10.0, -20.0, 5.0, -80.0, 30.0, -10.0, 0.0, 20.0, -5.0])
    var, cvar = historical(pnl, 0.8)
    # losses sorted: -30 -20 -10 -5 0 5 10 20 50 80; the 8th smallest (ceil(0.8 x 10)) is 20
    assert var == 20.0 and cvar == (20.0 + 50.0 + 80.0) / 3
    r = known_returns()
    w = np.array([1_000_000.0, -400_000.0])
    losses = -(r @ w)
    expected_var = float(np.quantile(losses, 0.99, method="inverted_cdf"))  # numpy's own definition
    got = figures(r, w, confidence=0.99)
    assert math.isclose(got.var_hist, expected_var)
    assert math.isclose(got.cvar_hist, float(losses[losses >= expected_var].mean()))
    assert got.cvar_hist >= got.var_hist > 0


def test_parametric_var_and_cvar_match_the_closed_form_on_two_correlated_instruments() -> None:
    r = known_returns()
    w = np.array([1_000_000.0, -400_000.0])
    s1, s2 = r.std(axis=0, ddof=1)
    rho = np.corrcoef(r, rowvar=False)[0, 1]
    sigma = math.sqrt((w[0] * s1) ** 2 + (w[1] * s2) ** 2 + 2 * w[0] * w[1] * rho * s1 * s2)
    mean = float(w @ r.mean(axis=0))
    z = NormalDist().inv_cdf(0.95)
    got = figures(r, w, confidence=0.95)
    assert math.isclose(got.var_param, z * sigma - mean, rel_tol=1e-9)
    assert math.isclose(got.cvar_param, sigma * NormalDist().pdf(z) / 0.05 - mean, rel_tol=1e-9)
    assert parametric(100.0, 0.0, 0.99)[0] == NormalDist().inv_cdf(0.99) * 100.0


def test_each_stress_scenario_gives_the_right_pnl_for_a_known_book() -> None:
    r = known_returns()
    w = np.array([1_000_000.0, -400_000.0])  # long Rs 10 lakh of A, short Rs 4 lakh of B
    got = figures(r, w, confidence=0.99, gap_pct=5.0, vol_shock=3.0)
    assert got.stress["gap up 5%"] == 30_000.0 and got.stress["gap down 5%"] == -30_000.0  # 5% of the net 6 lakh
    z, mean = NormalDist().inv_cdf(0.99), float(w @ r.mean(axis=0))
    s1, s2 = r.std(axis=0, ddof=1)
    assert math.isclose(got.stress["volatility x3"], -(3 * (got.var_param + mean) - mean))
    assert math.isclose(got.stress["correlation to 1"], -(z * abs(w[0] * s1 + w[1] * s2) - mean))
    assert got.worst_stress[0] == "volatility x3"


def test_the_pre_trade_figures_with_an_entry_equal_a_full_recompute() -> None:
    r = known_returns()
    w = np.array([1_000_000.0, -400_000.0])
    book = TailBook(confidence=0.99)
    book.load(r, w)
    with_entry = book.figures(column=1, delta=250_000.0)
    direct = figures(r, w + np.array([0.0, 250_000.0]), confidence=0.99)
    for name in ("var_hist", "cvar_hist", "var_param", "cvar_param"):
        assert math.isclose(getattr(with_entry, name), getattr(direct, name), rel_tol=1e-9)
    assert with_entry.stress == direct.stress or all(
        math.isclose(with_entry.stress[k], direct.stress[k], rel_tol=1e-9) for k in direct.stress)
