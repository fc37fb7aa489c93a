"""Tail risk of the book: VaR and CVaR (historical and parametric) and stress scenarios.

The book is a vector of signed rupee exposures ``w`` (long notional positive) over instruments
whose returns over the horizon are the rows of ``R`` (:class:`~core.risk.returns.ReturnsWindow`).
A row's P&L is ``R @ w``; losses are reported as positive rupees.

- **Historical**: the losses of the rows, sorted. VaR at confidence ``c`` is the smallest loss
  that at least ``c`` of the rows do not exceed (the ``ceil(c·T)``-th smallest); CVaR the mean
  of the losses at or beyond it.
- **Parametric** (normal): ``σ = sqrt(wᵀΣw)``, ``μ = wᵀm`` from the rows' covariance and mean;
  VaR = ``z·σ − μ``, CVaR = ``σ·φ(z)/(1 − c) − μ`` with ``z`` the normal quantile of ``c``.
- **Stress** (P&L, negative is a loss): every instrument gaps up, and down, by ``gap_pct``; a
  volatility shock (the parametric VaR with every σ times ``vol_shock``); a correlation spike
  (every correlation 1: the parametric VaR of ``|Σ wᵢσᵢ|``).

:class:`TailBook` caches ``R``, the covariance and the book's P&L rows between recomputes (each
fill and bar), so the pre-trade question "and with this entry?" costs one column update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class TailFigures:
    """The book's tail risk in rupees (losses positive) and its stress P&L (losses negative)."""

    var_hist: float
    cvar_hist: float
    var_param: float
    cvar_param: float
    stress: dict[str, float]

    @property
    def worst_stress(self) -> tuple[str, float]:
        name = min(self.stress, key=lambda k: self.stress[k])
        return name, self.stress[name]


def historical(pnl: np.ndarray, confidence: float) -> tuple[float, float]:
    """(VaR, CVaR) of the P&L samples (module docstring); (0, 0) without samples."""
    if len(pnl) == 0:
        return 0.0, 0.0
    losses = np.sort(-pnl)
    k = max(math.ceil(confidence * len(losses)) - 1, 0)
    var = float(losses[k])
    return var, float(losses[k:].mean())


def parametric(sigma: float, mean: float, confidence: float) -> tuple[float, float]:
    """(VaR, CVaR) of a normal P&L with standard deviation ``sigma`` and mean ``mean``."""
    z = _NORMAL.inv_cdf(confidence)
    return z * sigma - mean, sigma * _NORMAL.pdf(z) / (1 - confidence) - mean


def figures(returns: np.ndarray, w: np.ndarray, *, confidence: float = 0.99, gap_pct: float = 5.0,
            vol_shock: float = 3.0) -> TailFigures:
    """Every figure of the book ``w`` over the return rows ``returns`` (a direct computation)."""
    book = TailBook(confidence=confidence, gap_pct=gap_pct, vol_shock=vol_shock)
    book.load(returns, w)
    return book.figures()


class TailBook:
    """Cached returns and book (see the module docstring)."""

    def __init__(self, *, confidence: float = 0.99, gap_pct: float = 5.0, vol_shock: float = 3.0) -> None:
        self.confidence, self.gap_pct, self.vol_shock = confidence, gap_pct, vol_shock
        self._r = np.zeros((0, 0))
        self._w = np.zeros(0)
        self._cov = np.zeros((0, 0))
        self._mean = np.zeros(0)
        self._sd = np.zeros(0)
        self._pnl = np.zeros(0)
        self._cov_w = np.zeros(0)

    def load(self, returns: np.ndarray, w: np.ndarray) -> None:
        """A full recompute: new return rows (T x n) and exposures (n)."""
        self._r = np.asarray(returns, dtype=float)
        self._w = np.asarray(w, dtype=float).copy()
        n = self._r.shape[1] if self._r.ndim == 2 else 0
        if len(self._r) >= 2:
            self._cov = np.atleast_2d(np.cov(self._r, rowvar=False))
            self._mean = self._r.mean(axis=0)
        else:
            self._cov, self._mean = np.zeros((n, n)), np.zeros(n)
        self._sd = np.sqrt(np.clip(np.diag(self._cov), 0.0, None))
        self._pnl = self._r @ self._w if len(self._r) else np.zeros(0)
        self._cov_w = self._cov @ self._w

    @property
    def rows(self) -> int:
        return len(self._r)

    def correlations(self, column: int) -> np.ndarray:
        """The correlation of ``column``'s returns with every column's (NaN where one is flat)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._cov[column] / (self._sd[column] * self._sd)

    def figures(self, column: int | None = None, delta: float = 0.0, confidence: float | None = None) -> TailFigures:
        """The figures of the book, or of the book with ``delta`` rupees more in ``column``."""
        confidence = confidence or self.confidence
        w, pnl, cov_w = self._w, self._pnl, self._cov_w
        var_p = float(self._w @ cov_w) if len(w) else 0.0
        if column is not None and delta:
            w = w.copy()
            w[column] += delta
            pnl = pnl + delta * self._r[:, column] if len(pnl) else pnl
            var_p += 2 * delta * cov_w[column] + delta * delta * self._cov[column, column]
        sigma = math.sqrt(max(var_p, 0.0))
        mean = float(w @ self._mean) if len(w) else 0.0
        var_h, cvar_h = historical(pnl, confidence)
        var_n, cvar_n = parametric(sigma, mean, confidence)
        z = _NORMAL.inv_cdf(confidence)
        gap = self.gap_pct / 100 * float(w.sum())
        stress = {
            f"gap up {self.gap_pct:g}%": gap,
            f"gap down {self.gap_pct:g}%": -gap,
            f"volatility x{self.vol_shock:g}": -(z * sigma * self.vol_shock - mean),
            "correlation to 1": -(z * abs(float(w @ self._sd)) - mean),
        }
        return TailFigures(var_h, cvar_h, var_n, cvar_n, stress)
