"""Which strategy may enter when several fire on one instrument in the same bar.

Each (instrument, strategy) pair holds at most one position of its own. When two or more
strategies signal an **entry** on the same instrument at the same bar close, only one is let
through, so a single bar never stacks several new positions on one name:

1. the highest confidence wins;
2. on a tie, the strategy listed first in the priority order wins (default order:
   ``range_breakout, ema_cross, atr_divergence, atr_reversal`` — structure before
   momentum before mean reversion).

The losers' entry signals at that bar are dropped; their exits are untouched, and since every
strategy's opposite entry signal also counts as an exit, a losing reversal still closes that
strategy's own position. The rule looks
only at signals, never at positions, so the vectorized and streaming forms are identical.
``mode="all"`` turns the rule off (every strategy acts independently).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np

from core.errors import ConfigError
from core.strategies.base import Signal, Signals

DEFAULT_ORDER: tuple[str, ...] = ("range_breakout", "ema_cross", "atr_divergence", "atr_reversal")
MODES = ("best", "all")


def rank_order(names: Sequence[str], order: Sequence[str] = DEFAULT_ORDER) -> list[str]:
    """``names`` sorted by the priority order (unknown names last, in the given order)."""
    pos = {name: i for i, name in enumerate(order)}
    return sorted(names, key=lambda n: (pos.get(n, len(pos)), list(names).index(n)))


def prioritise(
    signals: dict[str, Signals], mode: str = "best", order: Sequence[str] = DEFAULT_ORDER
) -> dict[str, Signals]:
    """Vectorized rule over all bars of one instrument."""
    _check_mode(mode)
    if mode == "all" or len(signals) < 2:
        return signals
    names = rank_order(list(signals), order)
    fires = np.stack([signals[n].long_entry | signals[n].short_entry for n in names])
    conf = np.stack([np.where(fires[i], signals[n].confidence, -np.inf) for i, n in enumerate(names)])
    winner = np.argmax(conf, axis=0)  # first max wins ties -> priority order
    out: dict[str, Signals] = {}
    for i, name in enumerate(names):
        keep = winner == i
        sig = signals[name]
        out[name] = replace(sig, long_entry=sig.long_entry & keep, short_entry=sig.short_entry & keep)
    return out


def prioritise_one(
    signals: dict[str, Signal], mode: str = "best", order: Sequence[str] = DEFAULT_ORDER
) -> dict[str, Signal]:
    """Streaming rule for one bar of one instrument."""
    _check_mode(mode)
    if mode == "all" or len(signals) < 2:
        return signals
    if not any(sig.long_entry or sig.short_entry for sig in signals.values()):
        return dict(signals)  # no entry to arbitrate (most bars): every signal stands as it is
    names = _rank_order_cached(tuple(signals), tuple(order))
    best_name, best_conf = None, -np.inf
    for name in names:
        sig = signals[name]
        if (sig.long_entry or sig.short_entry) and sig.confidence > best_conf:
            best_name, best_conf = name, sig.confidence
    return {
        name: sig if name == best_name or not (sig.long_entry or sig.short_entry)
        else Signal(False, False, sig.exit_long, sig.exit_short, sig.atr, sig.confidence)
        for name, sig in signals.items()
    }


@lru_cache(maxsize=256)
def _rank_order_cached(names: tuple[str, ...], order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(rank_order(names, order))


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown priority mode {mode!r}; use best or all", where="priority")
