"""BarHistory: the engine's compact ring of recent bars gives back exactly the bars it was given."""

from __future__ import annotations

import datetime as dt

import pytest

from core.clock import IST
from core.market.bars import Bar
from core.market.history import BarHistory

T0 = dt.datetime(2026, 11, 20, 9, 15, tzinfo=IST)


def bars(n: int) -> list[Bar]:
    return [Bar("RELIANCE", T0 + dt.timedelta(minutes=k), 1400.05 + k, 1401.1 + k, 1399.95 + k, 1400.5 + k,
                1000.0 * k) for k in range(n)]


def test_bars_come_back_oldest_first_and_equal_before_the_ring_is_full() -> None:
    history = BarHistory("RELIANCE", 10)
    assert list(history) == [] and history.last() is None
    for bar in bars(7):
        history.append(bar)
    assert list(history) == bars(7) and len(history) == 7
    assert history.last() == bars(7)[-1]
    assert all(b.start.utcoffset() == dt.timedelta(hours=5, minutes=30) for b in history)


@pytest.mark.parametrize("n", [10, 11, 23, 30])
def test_a_full_ring_keeps_the_newest_maxlen_bars(n: int) -> None:
    history = BarHistory("RELIANCE", 10)
    for bar in bars(n):
        history.append(bar)
    assert list(history) == bars(n)[-10:] and len(history) == 10
    assert history.last() == bars(n)[-1]
