"""The last bars of one instrument, kept compactly for warming up a strategy armed later.

A live engine keeps thousands of bars for each of hundreds of instruments all day. As
:class:`~core.market.bars.Bar` objects that is ~300 bytes a bar (the object, its floats, its
datetime); here a bar is six machine numbers in typed arrays (48 bytes), in a ring that
overwrites the oldest once ``maxlen`` is reached. Bars come back out as :class:`Bar` objects,
oldest first, exactly as they went in (epoch microseconds keep the start exact).
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterator

from core.clock import IST
from core.market.bars import Bar

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICRO = dt.timedelta(microseconds=1)


class BarHistory:
    """A bounded ring of one symbol's bars (one interval)."""

    __slots__ = ("symbol", "maxlen", "minutes", "_start", "_ohlcv", "_next", "_count")

    def __init__(self, symbol: str, maxlen: int, minutes: int = 1) -> None:
        if maxlen < 1:
            raise ValueError(f"a bar history holds at least one bar, not {maxlen}")
        self.symbol, self.maxlen, self.minutes = symbol, maxlen, minutes
        self._start = array("q")  # epoch microseconds of each bar's start
        self._ohlcv = [array("d") for _ in range(5)]
        self._next = 0  # the slot the next bar goes to, once the ring is full
        self._count = 0

    def append(self, bar: Bar) -> None:
        start = (bar.start - _EPOCH) // _MICRO
        values = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        if self._count < self.maxlen:
            self._start.append(start)
            for column, value in zip(self._ohlcv, values, strict=True):
                column.append(value)
            self._count += 1
            return
        i = self._next
        self._start[i] = start
        for column, value in zip(self._ohlcv, values, strict=True):
            column[i] = value
        self._next = (i + 1) % self.maxlen

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Bar]:
        """The bars, oldest first."""
        first = self._next if self._count == self.maxlen else 0
        for k in range(self._count):
            yield self._bar((first + k) % self.maxlen if self._count == self.maxlen else k)

    def last(self) -> Bar | None:
        if not self._count:
            return None
        return self._bar((self._next - 1) % self.maxlen if self._count == self.maxlen else self._count - 1)

    def _bar(self, i: int) -> Bar:
        o, h, lo, c, v = (column[i] for column in self._ohlcv)
        start = (_EPOCH + self._start[i] * _MICRO).astimezone(IST)
        return Bar(self.symbol, start, o, h, lo, c, v, self.minutes)
