"""The fast path: one compiled pass of trade management over a whole series.

This kernel is an operation-for-operation mirror of :class:`core.trading.manager.TradeManager`
(read that class for the rules). It exists because research sweeps need tens of millions of
bars per second, which a Python object per bar cannot give. Tests run both on every strategy
with stops, targets, trailing, breakeven, scale-outs, slippage and entry limits switched on,
and require identical trade lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from core.market.bars import BarArrays
from core.strategies.base import Signals
from core.trading.manager import ExitReason
from core.trading.params import TradeParams
from core.trading.pricing import SLIP_BPS, SLIP_TICKS, round_to_tick, slipped

# indices into the packed parameter vector
P_QTY, P_STOP_U, P_STOP_V, P_TGT_U, P_TGT_V, P_TRAIL_U, P_TRAIL_V = 0, 1, 2, 3, 4, 5, 6
P_TAFTER_U, P_TAFTER_V, P_BE_U, P_BE_V, P_MAXTR, P_CUTOFF, P_SLIP, P_SLIP_U, P_TICK = range(7, 16)
N_PARAMS = 16

R_STOP, R_TRAIL, R_BREAKEVEN = int(ExitReason.STOP), int(ExitReason.TRAIL), int(ExitReason.BREAKEVEN)
R_TARGET, R_PARTIAL, R_SIGNAL = int(ExitReason.TARGET), int(ExitReason.PARTIAL), int(ExitReason.SIGNAL)
R_REVERSE, R_CUTOFF, R_SESSION_END = int(ExitReason.REVERSE), int(ExitReason.CUTOFF), int(ExitReason.SESSION_END)

A_NONE, A_ENTER, A_EXIT, A_REVERSE = 0, 1, 2, 3


def pack_params(params: TradeParams, tick: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TradeParams as the kernel's flat vectors: (scalars, partial R levels, partial fractions)."""
    v = np.zeros(N_PARAMS)
    v[P_QTY] = params.qty
    for (iu, iv), spec in zip(
        ((P_STOP_U, P_STOP_V), (P_TGT_U, P_TGT_V), (P_TRAIL_U, P_TRAIL_V), (P_TAFTER_U, P_TAFTER_V), (P_BE_U, P_BE_V)),
        (params.stop, params.target, params.trail, params.trail_after, params.breakeven),
    ):
        v[iu] = int(spec.unit)
        v[iv] = spec.value
    v[P_MAXTR] = params.max_trades
    v[P_CUTOFF] = params.cutoff_minute
    v[P_SLIP] = params.slippage.value
    v[P_SLIP_U] = SLIP_BPS if params.slippage.unit == "bps" else SLIP_TICKS
    v[P_TICK] = tick
    levels = np.array([s.level.value for s in params.partials], dtype=np.float64)
    fracs = np.array([s.fraction for s in params.partials], dtype=np.float64)
    return v, levels, fracs


@njit(cache=True)
def _resolve(unit: int, value: float, atr: float, risk: float, price: float) -> float:
    if unit == 0:
        return math.nan
    if unit == 1:
        return value
    if unit == 2:
        return value * atr
    if unit == 3:
        return value * risk
    return value * price / 100.0


@njit(cache=True)
def _finite(x: float) -> bool:
    return not math.isnan(x) and not math.isinf(x)


@njit(cache=True)
def _unusable(unit: float, distance: float) -> bool:
    """A configured distance that cannot be used yet (e.g. ATR still warming up)."""
    return int(unit) != 0 and not (_finite(distance) and distance > 0)


# columns of the kernel's leg matrix (bar indices and codes are exact in float64)
C_SIDE, C_QTY, C_ENTRY_I, C_EXIT_I, C_AT_CLOSE, C_ENTRY_PX, C_EXIT_PX = range(7)
C_REASON, C_INIT_STOP, C_CONF, C_SIGNAL_I = range(7, 11)
N_COLS = 11


@njit(cache=True)
def _put(legs, k, side, qty, entry_i, exit_i, at_close, entry_px, exit_px, reason, init_stop, conf, signal_i):  # type: ignore[no-untyped-def]
    legs[k, C_SIDE] = side
    legs[k, C_QTY] = qty
    legs[k, C_ENTRY_I] = entry_i
    legs[k, C_EXIT_I] = exit_i
    legs[k, C_AT_CLOSE] = 1.0 if at_close else 0.0
    legs[k, C_ENTRY_PX] = entry_px
    legs[k, C_EXIT_PX] = exit_px
    legs[k, C_REASON] = reason
    legs[k, C_INIT_STOP] = init_stop
    legs[k, C_CONF] = conf
    legs[k, C_SIGNAL_I] = signal_i


@njit(cache=True)
def run_kernel(o, h, lo, c, day, minute, long_in, short_in, exit_long, exit_short, atr, conf,
               pv, part_levels, part_fracs):  # type: ignore[no-untyped-def]
    """Trade legs as a matrix, one row per leg (columns ``C_*``)."""
    n = o.shape[0]
    n_sig = 0
    for i in range(n):
        if long_in[i] or short_in[i]:
            n_sig += 1
    legs = np.empty((n_sig * (1 + part_levels.shape[0]) + 1, N_COLS))
    k = 0

    qty0 = int(pv[P_QTY])
    max_trades = int(pv[P_MAXTR])
    cutoff = int(pv[P_CUTOFF])
    slip = pv[P_SLIP]
    slip_u = int(pv[P_SLIP_U])
    tick = pv[P_TICK]
    n_part = part_levels.shape[0]
    p_price = np.empty(n_part)
    p_qty = np.empty(n_part, np.int64)

    # position state
    side = 0
    qty = 0
    entry_px = 0.0
    entry_i = 0
    signal_i = 0
    pconf = 0.0
    stop = math.nan
    stop_kind = R_STOP
    init_stop = math.nan
    target = math.nan
    trail_d = math.nan
    trail_after = 0.0
    be_d = math.nan
    best = 0.0
    p_next = 0
    p_count = 0
    # pending order
    pend = A_NONE
    pend_side = 0
    pend_atr = math.nan
    pend_conf = 0.0
    pend_sig_i = 0
    trades_today = 0
    cur_day = -1

    for i in range(n):
        if day[i] != cur_day:
            cur_day = day[i]
            trades_today = 0
            pend = A_NONE
        # 1. cutoff
        if minute[i] >= cutoff:
            pend = A_NONE
            if side != 0:
                px = slipped(o[i], side < 0, slip, slip_u, tick)
                _put(legs, k, side, qty, entry_i, i, False, entry_px, px,
                     R_CUTOFF, init_stop, pconf, signal_i)
                k += 1
                side = 0
            continue
        # 2. pending orders at the open
        if pend != A_NONE:
            action = pend
            pend = A_NONE
            can_enter = False
            e_px = 0.0
            e_stop = math.nan
            e_target = math.nan
            e_trail = math.nan
            e_tafter = 0.0
            e_be = math.nan
            e_pcount = 0
            if action == A_ENTER or action == A_REVERSE:
                can_enter = not (max_trades > 0 and trades_today >= max_trades)
                if can_enter:
                    s_new = pend_side
                    e_px = slipped(o[i], s_new > 0, slip, slip_u, tick)
                    risk = _resolve(int(pv[P_STOP_U]), pv[P_STOP_V], pend_atr, math.nan, e_px)
                    d_stop = _resolve(int(pv[P_STOP_U]), pv[P_STOP_V], pend_atr, risk, e_px)
                    d_tgt = _resolve(int(pv[P_TGT_U]), pv[P_TGT_V], pend_atr, risk, e_px)
                    d_trail = _resolve(int(pv[P_TRAIL_U]), pv[P_TRAIL_V], pend_atr, risk, e_px)
                    d_tafter = _resolve(int(pv[P_TAFTER_U]), pv[P_TAFTER_V], pend_atr, risk, e_px)
                    d_be = _resolve(int(pv[P_BE_U]), pv[P_BE_V], pend_atr, risk, e_px)
                    can_enter = not (
                        _unusable(pv[P_STOP_U], d_stop) or _unusable(pv[P_TGT_U], d_tgt)
                        or _unusable(pv[P_TRAIL_U], d_trail) or _unusable(pv[P_TAFTER_U], d_tafter)
                        or _unusable(pv[P_BE_U], d_be)
                    )
                    if can_enter:
                        if _finite(d_stop):
                            e_stop = round_to_tick(e_px - s_new * d_stop, tick)
                        if _finite(d_tgt):
                            e_target = round_to_tick(e_px + s_new * d_tgt, tick)
                        e_trail = d_trail
                        e_tafter = d_tafter if _finite(d_tafter) else 0.0
                        e_be = d_be
                        remaining = qty0
                        for j in range(n_part):
                            level_d = part_levels[j] * risk
                            if not _finite(level_d) or (_finite(d_tgt) and level_d >= d_tgt):
                                continue
                            q = min(int(math.floor(qty0 * part_fracs[j])), remaining - 1)
                            if q <= 0:
                                continue
                            p_price[e_pcount] = round_to_tick(e_px + s_new * level_d, tick)
                            p_qty[e_pcount] = q
                            e_pcount += 1
                            remaining -= q
            if side != 0 and (action == A_EXIT or action == A_REVERSE):
                px = slipped(o[i], side < 0, slip, slip_u, tick)
                _put(legs, k, side, qty, entry_i, i, False, entry_px, px,
                     R_REVERSE if can_enter else R_SIGNAL, init_stop, pconf, signal_i)
                k += 1
                side = 0
            if can_enter and side == 0:
                side = pend_side
                qty = qty0
                entry_px = e_px
                entry_i = i
                signal_i = pend_sig_i
                pconf = pend_conf
                stop = e_stop
                stop_kind = R_STOP
                init_stop = e_stop
                target = e_target
                trail_d = e_trail
                trail_after = e_tafter
                be_d = e_be
                best = e_px
                p_next = 0
                p_count = e_pcount
                trades_today += 1
        # 3. intrabar
        if side != 0:
            s = side
            adverse = lo[i] if s > 0 else h[i]
            favour = h[i] if s > 0 else lo[i]
            if _finite(stop) and (o[i] - stop) * s <= 0:
                _put(legs, k, s, qty, entry_i, i, False, entry_px, slipped(o[i], s < 0, slip, slip_u, tick),
                     stop_kind, init_stop, pconf, signal_i)
                k += 1
                side = 0
            elif _finite(target) and (o[i] - target) * s >= 0:
                _put(legs, k, s, qty, entry_i, i, False, entry_px, o[i], R_TARGET, init_stop, pconf, signal_i)
                k += 1
                side = 0
            else:
                while p_next < p_count and (o[i] - p_price[p_next]) * s >= 0:  # opened through a scale-out
                    q = p_qty[p_next]
                    p_next += 1
                    _put(legs, k, s, q, entry_i, i, False, entry_px, o[i], R_PARTIAL, init_stop, pconf, signal_i)
                    k += 1
                    qty -= q
                if _finite(stop) and (adverse - stop) * s <= 0:
                    _put(legs, k, s, qty, entry_i, i, False, entry_px, slipped(stop, s < 0, slip, slip_u, tick),
                         stop_kind, init_stop, pconf, signal_i)
                    k += 1
                    side = 0
                else:
                    while p_next < p_count and (favour - p_price[p_next]) * s >= 0:
                        q = p_qty[p_next]
                        _put(legs, k, s, q, entry_i, i, False, entry_px, p_price[p_next], R_PARTIAL,
                             init_stop, pconf, signal_i)
                        p_next += 1
                        k += 1
                        qty -= q
                    if _finite(target) and (favour - target) * s >= 0:
                        _put(legs, k, s, qty, entry_i, i, False, entry_px, target, R_TARGET, init_stop, pconf,
                             signal_i)
                        k += 1
                        side = 0
        # 4. at the close: best price, breakeven, trailing
        if side != 0:
            s = side
            if s > 0:
                best = max(best, h[i])
            else:
                best = min(best, lo[i])
            gained = (best - entry_px) * s
            if _finite(be_d) and gained >= be_d:
                if not _finite(stop) or (entry_px - stop) * s > 0:
                    stop = entry_px
                    stop_kind = R_BREAKEVEN
            if _finite(trail_d) and gained >= trail_after:
                level = round_to_tick(best - s * trail_d, tick)
                if not _finite(stop) or (level - stop) * s > 0:
                    stop = level
                    stop_kind = R_TRAIL
        # 6. session end (this is the session's last bar in the data)
        if i == n - 1 or day[i + 1] != day[i]:
            pend = A_NONE
            if side != 0:
                _put(legs, k, side, qty, entry_i, i, True, entry_px, c[i],
                     R_SESSION_END, init_stop, pconf, signal_i)
                k += 1
                side = 0
            continue
        # 5. signals at the close queue the next bar's order
        li = long_in[i] and not short_in[i]
        si = short_in[i] and not long_in[i]
        if side == 0:
            if li or si:
                pend = A_ENTER
                pend_side = 1 if li else -1
                pend_atr = atr[i]
                pend_conf = conf[i]
                pend_sig_i = i
        else:
            opposite = si if side > 0 else li
            wants_exit = exit_long[i] if side > 0 else exit_short[i]
            if opposite:
                pend = A_REVERSE
                pend_side = -side
                pend_atr = atr[i]
                pend_conf = conf[i]
                pend_sig_i = i
            elif wants_exit:
                pend = A_EXIT
    return legs[:k]


@dataclass(frozen=True, slots=True)
class KernelLegs:
    """The kernel's output columns (bar indices refer to the input arrays)."""

    side: np.ndarray
    qty: np.ndarray
    entry_index: np.ndarray
    exit_index: np.ndarray
    exit_at_close: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    reason: np.ndarray
    initial_stop: np.ndarray
    confidence: np.ndarray
    signal_index: np.ndarray

    def __len__(self) -> int:
        return len(self.side)


def run_fast(bars: BarArrays, signals: Signals, params: TradeParams, tick: float) -> KernelLegs:
    """Trade management over a whole series in one compiled pass."""
    pv, levels, fracs = pack_params(params, tick)
    m = run_kernel(
        bars.open, bars.high, bars.low, bars.close, bars.day, bars.minute,
        signals.long_entry, signals.short_entry, signals.exit_long, signals.exit_short,
        np.ascontiguousarray(signals.atr, dtype=np.float64),
        np.ascontiguousarray(signals.confidence, dtype=np.float64), pv, levels, fracs,
    )
    return KernelLegs(
        side=m[:, C_SIDE].astype(np.int8), qty=m[:, C_QTY].astype(np.int64),
        entry_index=m[:, C_ENTRY_I].astype(np.int64), exit_index=m[:, C_EXIT_I].astype(np.int64),
        exit_at_close=m[:, C_AT_CLOSE] > 0, entry_price=m[:, C_ENTRY_PX].copy(), exit_price=m[:, C_EXIT_PX].copy(),
        reason=m[:, C_REASON].astype(np.int8), initial_stop=m[:, C_INIT_STOP].copy(),
        confidence=m[:, C_CONF].copy(), signal_index=m[:, C_SIGNAL_I].astype(np.int64),
    )
