"""Resampling bars to a longer interval, with bins anchored at each session's open.

1-minute bars become 3/5/15/30/60-minute bars (any multiple of the source interval):
09:15, 09:30, ... for 15 minutes; 09:15-10:15, ..., 15:15-15:30 for 60 minutes (the day's
last, partial bin is kept). Bins never cross sessions, and a bin with no source bars produces
no bar (gaps stay gaps). A bar is labelled by its bin's start even when the bin's first minute
is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.clock import NseCalendar
from core.errors import ConfigError, DataError
from core.market.bars import IST_OFFSET_NS, NS_PER_MINUTE, BarSeries
from core.market.sessions import NS_PER_DAY, REGULAR_OPEN_MIN, SessionTable, ist_day


def bin_starts(ts: np.ndarray, minutes: int, calendar: NseCalendar | None = None) -> np.ndarray:
    """The start (UTC ns) of the ``minutes``-wide, session-anchored bin of each bar start.

    Days the calendar does not know as sessions are anchored at 09:15 IST.
    """
    sessions = SessionTable.covering(ts, calendar)
    idx = sessions.index_of(ts)
    fallback = ist_day(ts) * NS_PER_DAY - IST_OFFSET_NS + REGULAR_OPEN_MIN * NS_PER_MINUTE
    anchor = np.where(
        idx >= 0, sessions.open_ns[np.maximum(idx, 0)] if len(sessions) else 0, fallback
    )
    width = minutes * NS_PER_MINUTE
    return anchor + ((ts - anchor) // width) * width


def resample(series: BarSeries, minutes: int, *, calendar: NseCalendar | None = None) -> BarSeries:
    """``series`` aggregated to ``minutes``-minute bars (first/max/min/last/sum)."""
    src = series.interval_minutes
    if minutes <= 0 or minutes % src:
        raise ConfigError(
            f"cannot resample {src}-minute bars to {minutes} minutes: "
            f"the target must be a positive multiple of {src}",
            where=f"resample {series.symbol}",
        )
    if minutes == src or len(series) == 0:
        return BarSeries(series.symbol, series.frame, minutes, series.source)
    a = series.arrays
    if np.any(np.diff(a.ts) <= 0):
        raise DataError("bars must be sorted with unique starts to resample", where=f"resample {series.symbol}")
    key = bin_starts(a.ts, minutes, calendar)
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    last = np.r_[first[1:], len(key)] - 1
    index = pd.DatetimeIndex(key[first].astype("datetime64[ns]"), name=series.frame.index.name)
    frame = pd.DataFrame(
        {
            "open": a.open[first],
            "high": np.maximum.reduceat(a.high, first),
            "low": np.minimum.reduceat(a.low, first),
            "close": a.close[last],
            "volume": np.add.reduceat(a.volume, first),
        },
        index=index.tz_localize("UTC"),
    )
    return BarSeries(series.symbol, frame, minutes, series.source)
