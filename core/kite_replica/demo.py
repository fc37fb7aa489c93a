"""``atw kite-replica``: the loopback Kite replica as a standalone server that plays a market.

Serves the REST routes on ``--port`` and the ticker WebSocket on ``--port + 1`` for the
instruments of the bundled master, and plays bar files (default: the bundled demo data, from its
last sessions) as trades: four a minute per instrument (the open, the extremes, the close), at
``--speed`` market seconds per second. The ticker's times are the bars' (the scripted day), so
a client must follow the feed's clock (``atw run --clock feed``). Credentials are printed:
the API key and secret are the replica's own and fixed, for demos only.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from core.clock import LiveClock
from core.kite_replica.book import ReplicaBook, instruments_from_master
from core.kite_replica.server import KiteReplica
from core.kite_replica.ticker import ReplicaTicker
from core.market.bars import Bar
from core.market.instruments import InstrumentMaster, default_master
from core.market.loader import load_many

_TRADE_OFFSETS_S = (0, 15, 30, 59)


def trades_of(bar: Bar) -> Iterator[tuple[dt.datetime, float, int]]:
    """Four trades in a bar's minute: the open, the extremes (the low first on an up bar), the close."""
    up = bar.close >= bar.open
    path = (bar.open, bar.low, bar.high, bar.close) if up else (bar.open, bar.high, bar.low, bar.close)
    qty = max(1, int(bar.volume // 4))
    for offset, price in zip(_TRADE_OFFSETS_S, path, strict=True):
        yield bar.start + dt.timedelta(seconds=offset), price, qty


class MarketPlayer:
    """Plays bars into a replica's book at ``speed`` market seconds per wall second."""

    def __init__(self, replica: KiteReplica, bars: Sequence[Sequence[Bar]], *, speed: float,
                 market: list[dt.datetime]) -> None:
        self.replica = replica
        self.bars = bars
        self.speed = speed
        self.market = market  # shared with the book's and the ticker's clocks
        self._stop = threading.Event()
        self.played = 0

    def trades(self) -> Iterator[tuple[dt.datetime, str, float, int]]:
        streams = [((when, f"NSE:{bar.symbol}", price, qty) for bar in series for when, price, qty in trades_of(bar))
                   for series in self.bars]
        return heapq.merge(*streams, key=lambda t: t[0])

    def run(self) -> None:
        previous: dt.datetime | None = None
        for when, key, price, qty in self.trades():
            if self._stop.is_set():
                return
            if previous is not None and when > previous:
                time.sleep(min((when - previous).total_seconds() / self.speed, 1.0))
            previous = when
            self.market[0] = when
            if key in self.replica.book.instruments:
                self.replica.book.set_price(key, price, qty)
                self.played += 1

    def start(self) -> MarketPlayer:
        threading.Thread(target=self.run, name="kite-replica-player", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()


def serve(port: int, files: Sequence[Path], *, speed: float, play_from: dt.datetime | None,
          master: InstrumentMaster | None = None) -> tuple[KiteReplica, ReplicaTicker, MarketPlayer]:
    """Start the replica, its ticker (``port + 1``) and the player; the caller stops them."""
    master = master or default_master()
    data = load_many([str(f) for f in files])
    everything = [s.bars() for s in data.series]
    series = [[b for b in bars if play_from is None or b.start >= play_from] for bars in everything]
    first = min((s[0].start for s in series if s), default=LiveClock().now())
    market = [first]
    book = ReplicaBook(instruments_from_master(master), now=lambda: market[0])
    for bars in everything:  # the historical API serves every bar, played or not
        key = f"NSE:{bars[0].symbol}" if bars else ""
        if key in book.instruments:
            book.add_candles(key, bars)
    replica = KiteReplica(book, port=port).start()
    ticker = ReplicaTicker(replica, port=port + 1 if port else 0, clock=lambda: market[0].timestamp()).start()
    player = MarketPlayer(replica, series, speed=speed, market=market).start()
    return replica, ticker, player
