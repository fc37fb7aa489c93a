"""Prices on the tick grid and adverse slippage, shared by the event path and the fast kernel.

These are numba functions so that the Python :class:`~core.trading.manager.TradeManager` and the
compiled simulator kernel perform the very same floating-point operations. A grid price is
formed as ``ticks / (1 / tick)`` for sub-rupee ticks, which yields the double nearest to the
decimal price (``27998 / 20 == 1399.9``), where ``ticks * 0.05`` would not.
"""

from __future__ import annotations

import math

from numba import njit

SLIP_TICKS = 0
SLIP_BPS = 1


@njit(cache=True)
def grid_price(ticks: float, tick: float) -> float:
    """The price ``ticks`` grid steps above zero."""
    if tick < 1.0:
        return ticks / math.floor(1.0 / tick + 0.5)
    return ticks * tick


@njit(cache=True)
def round_to_tick(price: float, tick: float) -> float:
    """Nearest grid price (half away from zero for positive prices)."""
    return grid_price(math.floor(price / tick + 0.5), tick)


@njit(cache=True)
def ceil_to_tick(price: float, tick: float) -> float:
    return grid_price(math.ceil(price / tick - 1e-9), tick)


@njit(cache=True)
def floor_to_tick(price: float, tick: float) -> float:
    return grid_price(math.floor(price / tick + 1e-9), tick)


@njit(cache=True)
def slipped(price: float, is_buy: bool, slip: float, slip_unit: int, tick: float) -> float:
    """A market fill at ``price`` after adverse slippage; unchanged when slippage is zero."""
    if slip == 0.0:
        return price
    if slip_unit == SLIP_TICKS:
        raw = price + slip * tick if is_buy else price - slip * tick
    else:
        raw = price * (1.0 + slip / 10000.0) if is_buy else price * (1.0 - slip / 10000.0)
    return ceil_to_tick(raw, tick) if is_buy else floor_to_tick(raw, tick)
