"""The desk's copy of the closed bars it has been shown, per instrument, for the chart.

Bars arrive in :class:`~core.automation.market_tape.MarketUpdate` batches; the store keeps the
newest ``limit`` per instrument (a ring: memory stays flat however long the desk runs) and
hands the chart a DataFrame shaped like ``BarSeries.frame`` when the trader switches symbol.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import pandas as pd

from core.market.bars import Bar

COLUMNS = ("open", "high", "low", "close", "volume")


class BarStore:
    """Closed bars per symbol, oldest first, at most ``limit`` each."""

    def __init__(self, limit: int = 60_000) -> None:
        self.limit = limit
        self._bars: dict[str, deque[Bar]] = {}

    def add(self, bars: Iterable[Bar]) -> None:
        for bar in bars:
            ring = self._bars.get(bar.symbol)
            if ring is None:
                ring = self._bars[bar.symbol] = deque(maxlen=self.limit)
            ring.append(bar)

    def symbols(self) -> list[str]:
        return sorted(self._bars)

    def count(self, symbol: str) -> int:
        ring = self._bars.get(symbol)
        return len(ring) if ring is not None else 0

    def frame(self, symbol: str) -> pd.DataFrame:
        """The symbol's bars as a frame indexed by IST bar start (empty when none)."""
        ring = self._bars.get(symbol, ())
        index = pd.DatetimeIndex([b.start for b in ring], name="timestamp")
        data = {c: [getattr(b, c) for b in ring] for c in COLUMNS}
        return pd.DataFrame(data, index=index, columns=list(COLUMNS), dtype=float)
