"""Instants as the journal, the ledger and the arrays store them: UTC, epoch nanoseconds, ISO text.

Standard library only (the journal writer imports this in processes that must start fast).
Conversions only: what time it *is* comes from :mod:`core.clock`.
"""

from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = dt.timedelta(microseconds=1)


def epoch_ns(when: dt.datetime) -> int:
    """Epoch nanoseconds of an aware datetime, in exact integer arithmetic."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when}: attach a timezone")
    return (when - EPOCH) // _MICRO * 1000


def from_epoch_ns(ns: int) -> dt.datetime:
    """The aware UTC datetime of epoch nanoseconds (to the microsecond)."""
    return EPOCH + dt.timedelta(microseconds=ns // 1000)


def utc_text(when: dt.datetime) -> str:
    """``2026-11-20T04:01:02.123456Z``: UTC, always with microseconds."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when}: attach a timezone")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> dt.datetime:
    """An ISO-8601 instant with an offset (``Z`` accepted) as an aware UTC datetime."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"time {text!r} has no timezone")
    return when.astimezone(UTC)
