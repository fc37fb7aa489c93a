"""Closed trade legs in columns: the one shape both simulator paths hand to costing and reports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.instants import epoch_ns
from core.market.bars import BarArrays
from core.simulator.kernel import KernelLegs
from core.trading.manager import TradeLeg


@dataclass(frozen=True, slots=True)
class LegColumns:
    """Parallel arrays, one element per leg; times are int64 UTC nanoseconds."""

    symbol: np.ndarray
    strategy: np.ndarray
    side: np.ndarray
    qty: np.ndarray
    entry_ns: np.ndarray
    entry_price: np.ndarray
    exit_ns: np.ndarray
    exit_price: np.ndarray
    reason: np.ndarray
    initial_stop: np.ndarray
    confidence: np.ndarray
    signal_ns: np.ndarray

    def __len__(self) -> int:
        return len(self.side)

    @classmethod
    def empty(cls) -> LegColumns:
        return concat([])

    def ordered(self) -> LegColumns:
        """Sorted by exit time, symbol, strategy, entry time (stable: keeps each pair's leg order)."""
        order = np.lexsort((self.entry_ns, self.strategy, self.symbol, self.exit_ns))
        return LegColumns(*(getattr(self, f)[order] for f in self.__dataclass_fields__))


def from_kernel(legs: KernelLegs, bars: BarArrays, symbol: str, strategy: str, interval_ns: int) -> LegColumns:
    """Translate kernel bar indices to instants."""
    n = len(legs)
    exit_ns = bars.ts[legs.exit_index] + np.where(legs.exit_at_close, interval_ns, 0)
    return LegColumns(
        symbol=np.full(n, symbol, dtype=object),
        strategy=np.full(n, strategy, dtype=object),
        side=legs.side.astype(np.int8),
        qty=legs.qty.astype(np.int64),
        entry_ns=bars.ts[legs.entry_index],
        entry_price=legs.entry_price,
        exit_ns=exit_ns.astype(np.int64),
        exit_price=legs.exit_price,
        reason=legs.reason.astype(np.int8),
        initial_stop=legs.initial_stop,
        confidence=legs.confidence,
        signal_ns=bars.ts[legs.signal_index],
    )


def from_trade_legs(legs: list[TradeLeg]) -> LegColumns:
    """Columns from the event path's :class:`TradeLeg` objects."""
    return LegColumns(
        symbol=np.array([x.symbol for x in legs], dtype=object),
        strategy=np.array([x.strategy for x in legs], dtype=object),
        side=np.array([x.side for x in legs], dtype=np.int8),
        qty=np.array([x.qty for x in legs], dtype=np.int64),
        entry_ns=np.array([epoch_ns(x.entry_time) for x in legs], dtype=np.int64),
        entry_price=np.array([x.entry_price for x in legs], dtype=np.float64),
        exit_ns=np.array([epoch_ns(x.exit_time) for x in legs], dtype=np.int64),
        exit_price=np.array([x.exit_price for x in legs], dtype=np.float64),
        reason=np.array([int(x.exit_reason) for x in legs], dtype=np.int8),
        initial_stop=np.array([x.initial_stop for x in legs], dtype=np.float64),
        confidence=np.array([x.confidence for x in legs], dtype=np.float64),
        signal_ns=np.array([epoch_ns(x.signal_time) for x in legs], dtype=np.int64),
    )


def concat(parts: list[LegColumns]) -> LegColumns:
    fields = LegColumns.__dataclass_fields__
    if not parts:
        dtypes = {"symbol": object, "strategy": object, "side": np.int8, "qty": np.int64, "reason": np.int8}
        return LegColumns(**{f: np.array([], dtype=dtypes.get(f, np.int64 if f.endswith("_ns") else np.float64)) for f in fields})
    return LegColumns(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields})
