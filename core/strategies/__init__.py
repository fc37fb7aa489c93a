"""The four strategies, by name. ``create("ema_cross", fast=5)`` builds one with overrides."""

from __future__ import annotations

import difflib
from typing import Any

from core.errors import ConfigError
from core.strategies.atr_divergence import AtrDivergence
from core.strategies.atr_reversal import AtrReversal
from core.strategies.base import Signal, Signals, Strategy
from core.strategies.ema_cross import EmaCross
from core.strategies.range_breakout import RangeBreakout

REGISTRY: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (AtrReversal, AtrDivergence, EmaCross, RangeBreakout)
}


def create(name: str, **params: Any) -> Strategy:
    """Build the strategy ``name`` with parameter overrides."""
    cls = REGISTRY.get(name)
    if cls is None:
        hint = difflib.get_close_matches(name, REGISTRY, n=1)
        more = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ConfigError(
            f"unknown strategy {name!r}{more}; known: {', '.join(sorted(REGISTRY))}", where="strategy"
        )
    return cls(**params)


__all__ = ["REGISTRY", "Signal", "Signals", "Strategy", "create"]
