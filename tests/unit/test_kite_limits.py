"""The client's sliding-window request limits: never more than N calls in any window of W seconds."""

from __future__ import annotations

from collections import Counter

from core.execution.kite_limits import KITE_LIMITS, SlidingWindowLimiter


class FakeTime:
    def __init__(self, start: float = 1000.7) -> None:  # mid-second: calendar seconds do not align
        self.now = start

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_burst_of_orders_never_puts_more_than_ten_into_any_calendar_second() -> None:
    t = FakeTime()
    limiter = SlidingWindowLimiter(KITE_LIMITS["orders"], clock=t.clock, sleep=t.sleep)
    sent = []
    for _ in range(95):
        limiter.acquire()
        sent.append(t.now)
    per_second = Counter(int(s) for s in sent)
    assert max(per_second.values()) <= 10
    for i in range(len(sent) - 10):  # nor into any sliding second
        assert sent[i + 10] - sent[i] >= 1.0
    assert sent[9] == 1000.7 and sent[10] > 1001.7  # the first ten go at once, the eleventh waits
    assert limiter.waited_s > 8.0


def test_the_per_minute_order_cap_holds_past_the_per_second_one() -> None:
    t = FakeTime()
    limiter = SlidingWindowLimiter(((10, 1.0), (400, 60.0)), clock=t.clock, sleep=t.sleep)
    sent = []
    for _ in range(401):
        limiter.acquire()
        sent.append(t.now)
    assert sent[399] - sent[0] < 60.0 and sent[400] - sent[0] >= 60.0  # the 401st waits for the minute


def test_calls_spread_out_in_time_never_wait() -> None:
    t = FakeTime()
    limiter = SlidingWindowLimiter(KITE_LIMITS["quote"], clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        limiter.acquire()
        t.now += 2.0
    assert limiter.waited_s == 0.0
