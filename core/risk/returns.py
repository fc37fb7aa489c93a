"""Rolling prices of the instruments the engine trades, aligned on the bar clock: what the
correlation limit and the tail-risk figures are computed from.

Prices are kept in one array, a row per bar start (minute) and a column per instrument; a new
row starts as a copy of the previous one, so an instrument with no bar in a minute keeps its
last close (no return) instead of leaving a hole. The last ``window`` rows are kept. Returns
over ``horizon`` bars are the relative change between rows ``horizon`` apart.
"""

from __future__ import annotations

import datetime as dt

import numpy as np


class ReturnsWindow:
    """See the module docstring."""

    def __init__(self, window: int = 375, capacity: int = 64) -> None:
        self.window = window
        self._cols: dict[str, int] = {}
        self._prices = np.full((2 * window, capacity), np.nan)
        self._rows = 0  # rows in use
        self._last_start: dt.datetime | None = None
        self.version = 0  # bumped on every new row or price: caches compare it

    @property
    def symbols(self) -> list[str]:
        return list(self._cols)

    def on_bar(self, symbol: str, start: dt.datetime, close: float) -> None:
        """A closed bar: its close is the instrument's price at ``start`` (bars come in time order)."""
        if self._last_start is None or start > self._last_start:
            self._new_row()
            self._last_start = start
        col = self._cols.get(symbol)
        if col is None:
            col = self._add_column(symbol)
        self._prices[self._rows - 1, col] = close
        self.version += 1

    def returns(self, symbols: list[str], horizon: int = 1) -> np.ndarray:
        """Relative returns over ``horizon`` bars (rows: time, oldest first; columns: ``symbols``),
        only rows where every one of them had a price; a symbol never seen is all zero."""
        rows = self._prices[max(self._rows - self.window, 0): self._rows]
        cols = [self._cols.get(s) for s in symbols]
        out = np.zeros((max(len(rows) - horizon, 0), len(symbols)))
        if len(rows) <= horizon:
            return out
        for j, col in enumerate(cols):
            if col is not None:
                p = rows[:, col]
                out[:, j] = p[horizon:] / p[:-horizon] - 1.0
        return out[~np.isnan(out).any(axis=1)]

    def correlation(self, a: str, b: str, min_rows: int = 30) -> float | None:
        """The correlation of the two instruments' one-bar returns; None with too little history."""
        r = self.returns([a, b])
        if len(r) < min_rows or a not in self._cols or b not in self._cols:
            return None
        sd = r.std(axis=0)
        if (sd == 0).any():
            return None
        return float(np.corrcoef(r, rowvar=False)[0, 1])

    def _new_row(self) -> None:
        if self._rows == len(self._prices):  # full: keep the newest window - 1 rows
            keep = self.window - 1
            self._prices[:keep] = self._prices[self._rows - keep: self._rows]
            self._prices[keep:] = np.nan
            self._rows = keep
        if self._rows:
            self._prices[self._rows] = self._prices[self._rows - 1]
        self._rows += 1

    def _add_column(self, symbol: str) -> int:
        col = len(self._cols)
        if col == self._prices.shape[1]:
            wider = np.full((self._prices.shape[0], 2 * col), np.nan)
            wider[:, :col] = self._prices
            self._prices = wider
        self._cols[symbol] = col
        return col
