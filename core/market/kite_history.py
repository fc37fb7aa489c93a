"""Kite's historical candles in a local store: for the simulator and to warm a live start up.

- **Chunked**: Kite caps the span of one request per interval (minute 60 days, 3/5/10-minute
  100, 15/30-minute 200, 60-minute 400; these figures come from tutorials, not Kite's docs, and
  are kept conservative here); a range is fetched in chunks of at most that many days.
- **Rate-limited**: every request goes through the gateway's historical limiter (3 a second)
  and its retries (:class:`~core.execution.kite_gateway.KiteGateway`).
- **Resumable**: each complete trading day is stored as its own CSV file
  (``<root>/<symbol>/<interval>/<day>.csv``, a day without candles as a header-only file), so
  an interrupted fetch goes on where it stopped and a day is never fetched twice. Today's
  candles (still growing) are fetched every time and never stored.

Candle times come from the client as aware datetimes (``+05:30``); bars are labelled by their
start in Asia/Kolkata, as everywhere else.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.clock import IST, nse_calendar
from core.errors import DataError
from core.market.bars import Bar

MAX_DAYS = {"minute": 55, "3minute": 90, "5minute": 90, "10minute": 90, "15minute": 180, "30minute": 180,
            "60minute": 360}
MINUTES = {"minute": 1, "3minute": 3, "5minute": 5, "10minute": 10, "15minute": 15, "30minute": 30, "60minute": 60}
_HEADER = ("start", "open", "high", "low", "close", "volume")


class CandleStore:
    """Candles of Kite instruments under ``root``, fetched through a ``KiteGateway`` when missing."""

    def __init__(self, gateway: Any, root: Path) -> None:
        self.gateway = gateway
        self.root = root
        self.requests = 0  # historical requests made (a resumed fetch makes fewer)

    def bars(self, symbol: str, token: int, start: dt.date, end: dt.date, *, today: dt.date,
             interval: str = "minute") -> list[Bar]:
        """The bars of ``symbol`` from ``start`` to ``end`` (inclusive; trading days only), oldest first."""
        if interval not in MINUTES:
            raise DataError(f"unknown interval {interval!r} (one of {', '.join(MINUTES)})", where="history")
        days = [s.day for s in nse_calendar().sessions(start, end)]
        stored = {d for d in days if d < today and self._path(symbol, interval, d).exists()}
        fetched: dict[dt.date, list[Bar]] = {}
        for chunk in _chunks([d for d in days if d not in stored], MAX_DAYS[interval]):
            by_day = self._fetch(symbol, token, chunk[0], chunk[-1], interval)
            for day in chunk:
                fetched[day] = by_day.get(day, [])
                if day < today:
                    self._write(symbol, interval, day, fetched[day])
        out: list[Bar] = []
        for day in days:
            out.extend(fetched[day] if day in fetched else self._read(symbol, interval, day))
        return out

    def _fetch(self, symbol: str, token: int, first: dt.date, last: dt.date, interval: str) -> dict[dt.date, list[Bar]]:
        start = dt.datetime.combine(first, dt.time(9, 0))
        end = dt.datetime.combine(last, dt.time(15, 59))
        self.requests += 1
        rows = self.gateway.historical(token, start, end, interval)
        by_day: dict[dt.date, list[Bar]] = {}
        for row in rows:
            when = row["date"]
            when = when.replace(tzinfo=IST) if when.tzinfo is None else when.astimezone(IST)
            bar = Bar(symbol, when, float(row["open"]), float(row["high"]), float(row["low"]), float(row["close"]),
                      float(row.get("volume") or 0), MINUTES[interval])
            by_day.setdefault(when.date(), []).append(bar)
        return by_day

    def _path(self, symbol: str, interval: str, day: dt.date) -> Path:
        return self.root / symbol / interval / f"{day.isoformat()}.csv"

    def _write(self, symbol: str, interval: str, day: dt.date, bars: Sequence[Bar]) -> None:
        path = self._path(symbol, interval, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with tmp.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(_HEADER)
            writer.writerows([b.start.isoformat(), repr(b.open), repr(b.high), repr(b.low), repr(b.close),
                              repr(b.volume)] for b in bars)
        tmp.replace(path)  # a day is stored whole or not at all: an interrupted fetch resumes cleanly

    def _read(self, symbol: str, interval: str, day: dt.date) -> list[Bar]:
        path = self._path(symbol, interval, day)
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        try:
            return [Bar(symbol, dt.datetime.fromisoformat(r["start"]), float(r["open"]), float(r["high"]),
                        float(r["low"]), float(r["close"]), float(r["volume"]), MINUTES[interval]) for r in rows]
        except (KeyError, ValueError) as exc:
            raise DataError(f"a stored candle file is damaged ({exc}); delete it to fetch the day again",
                            where=str(path)) from None


def _chunks(days: Sequence[dt.date], span_days: int) -> Iterator[list[dt.date]]:
    """Consecutive runs of ``days`` whose first and last are at most ``span_days`` apart."""
    chunk: list[dt.date] = []
    for day in days:
        if chunk and (day - chunk[0]).days >= span_days:
            yield chunk
            chunk = []
        chunk.append(day)
    if chunk:
        yield chunk
