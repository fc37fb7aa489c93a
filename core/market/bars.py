"""Bar types: one ``Bar`` for the event path, ``BarSeries`` / ``BarArrays`` for vectorized work.

Conventions (DESIGN.md §3/§4): a bar is labelled by its **start**; times are Asia/Kolkata;
instants inside arrays are int64 nanoseconds since the epoch (UTC).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from core.clock import IST

PRICE_COLUMNS = ("open", "high", "low", "close")
COLUMNS = (*PRICE_COLUMNS, "volume")
NS_PER_MINUTE = 60_000_000_000
IST_OFFSET_NS = 19_800_000_000_000  # +05:30, India has no DST


@dataclass(frozen=True, slots=True)
class Bar:
    """One closed OHLCV bar of one instrument, labelled by its start (converted to Asia/Kolkata)."""

    symbol: str
    start: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    minutes: int = 1

    def __post_init__(self) -> None:
        # Session logic reads the bar's wall-clock day and minute: they must be Indian ones.
        if self.start.tzinfo is not IST:
            if self.start.tzinfo is None:
                raise ValueError(f"bar of {self.symbol} at {self.start} has no timezone")
            object.__setattr__(self, "start", self.start.astimezone(IST))

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class BarArrays:
    """Contiguous numpy views of a series, the input of every vectorized kernel.

    ``day`` is the IST calendar day as days since 1970-01-01; ``minute`` is the IST minute of
    the day at which the bar starts (09:15 -> 555).
    """

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    day: np.ndarray
    minute: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


def arrays_from_frame(frame: pd.DataFrame) -> BarArrays:
    """Build :class:`BarArrays` from a start-labelled, tz-aware OHLCV frame."""
    ts = frame.index.as_unit("ns").asi8.astype(np.int64, copy=True)
    local = ts + IST_OFFSET_NS
    day = (local // (NS_PER_MINUTE * 1440)).astype(np.int32)
    minute = ((local // NS_PER_MINUTE) % 1440).astype(np.int16)
    cols = {c: np.ascontiguousarray(frame[c].to_numpy(dtype=np.float64)) for c in COLUMNS}
    return BarArrays(ts=ts, day=day, minute=minute, **cols)


@dataclass(frozen=True)
class BarSeries:
    """The bars of one instrument at one interval, sorted, start-labelled, Asia/Kolkata."""

    symbol: str
    frame: pd.DataFrame
    interval_minutes: int = 1
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        index = self.frame.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
            raise TypeError("BarSeries needs a timezone-aware DatetimeIndex")
        if str(index.tz) != str(IST):
            object.__setattr__(self, "frame", self.frame.tz_convert(IST))
        missing = [c for c in COLUMNS if c not in self.frame.columns]
        if missing:
            raise TypeError(f"BarSeries frame lacks columns {missing}")

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def arrays(self) -> BarArrays:
        return arrays_from_frame(self.frame)

    def fingerprint(self) -> str:
        """SHA-256 of the symbol, interval and every bar (start, OHLCV): same bars, same print."""
        a = self.arrays
        digest = hashlib.sha256(f"{self.symbol}|{self.interval_minutes}".encode())
        for column in (a.ts, a.open, a.high, a.low, a.close, a.volume):
            digest.update(np.ascontiguousarray(column).tobytes())
        return digest.hexdigest()

    def between(self, start: dt.date | None, end: dt.date | None) -> BarSeries:
        """The bars whose IST day lies in ``[start, end]`` (either bound optional)."""
        days = self.frame.index.date
        mask = np.ones(len(self.frame), dtype=bool)
        if start is not None:
            mask &= days >= start
        if end is not None:
            mask &= days <= end
        return BarSeries(self.symbol, self.frame[mask], self.interval_minutes, self.source)

    def bars(self) -> list[Bar]:
        """The series as :class:`Bar` objects (for the event path)."""
        f = self.frame
        return [
            Bar(self.symbol, ts.to_pydatetime(), o, h, lo, c, v, self.interval_minutes)
            for ts, o, h, lo, c, v in zip(
                f.index, f["open"].to_numpy(), f["high"].to_numpy(), f["low"].to_numpy(),
                f["close"].to_numpy(), f["volume"].to_numpy(),
            )
        ]

    @property
    def days(self) -> list[dt.date]:
        return sorted(set(self.frame.index.date))
