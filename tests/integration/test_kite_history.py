"""Historical candles from the replica through the real client: chunked, rate-limited, resumable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core.clock import IST
from core.market.kite_history import CandleStore
from core.market.loader import load_many
from core.paths import resource
from tests.integration.kite_fixtures import KiteRig


def demo_bars():  # type: ignore[no-untyped-def]
    return load_many([str(resource("demo", "DEMO_TREND.csv"))]).series[0].bars()


def test_candles_come_back_as_the_exchange_had_them_and_a_resumed_fetch_asks_only_for_what_is_missing(
        rig: KiteRig, tmp_path: Path) -> None:
    bars = demo_bars()
    rig.book.add_candles("NSE:DEMO_TREND", bars)
    token = rig.book.instruments["NSE:DEMO_TREND"].token
    days = sorted({b.start.date() for b in bars})
    first, last = days[0], days[-1]
    store = CandleStore(rig.gateway, tmp_path)
    got = store.bars("DEMO_TREND", token, first, days[len(days) // 2], today=dt.date(2026, 12, 4))
    assert [(b.start, b.open, b.high, b.low, b.close, b.volume) for b in got] == [
        (b.start, b.open, b.high, b.low, b.close, b.volume) for b in bars if b.start.date() <= days[len(days) // 2]]
    assert got[0].start.tzinfo is IST
    asked = store.requests
    again = CandleStore(rig.gateway, tmp_path)  # a later run (or one resumed after an interruption)
    more = again.bars("DEMO_TREND", token, first, last, today=dt.date(2026, 12, 4))
    assert len(more) == len(bars) and again.requests == 1  # only the days not stored yet
    assert asked >= 1 and rig.replica.limiter.most_in_one_second("historical") <= 3


def test_five_minute_candles_are_aligned_to_the_open_and_a_long_range_is_chunked(rig: KiteRig, tmp_path: Path) -> None:
    bars = demo_bars()
    rig.book.add_candles("NSE:DEMO_TREND", bars)
    token = rig.book.instruments["NSE:DEMO_TREND"].token
    day = bars[0].start.date()
    store = CandleStore(rig.gateway, tmp_path)
    five = store.bars("DEMO_TREND", token, day, day, today=dt.date(2026, 12, 4), interval="5minute")
    minute = [b for b in bars if b.start.date() == day]
    assert five[0].start.time() == dt.time(9, 15) and all(b.start.minute % 5 == 0 for b in five)
    assert five[0].open == minute[0].open and five[0].close == minute[4].close
    assert five[0].high == max(b.high for b in minute[:5]) and five[0].volume == sum(b.volume for b in minute[:5])
    long = CandleStore(rig.gateway, tmp_path / "long")
    long.bars("DEMO_TREND", token, dt.date(2024, 6, 3), dt.date(2025, 1, 24), today=dt.date(2026, 12, 4))
    assert long.requests >= 4  # 235 calendar days in chunks of at most 55: Kite would refuse one request
