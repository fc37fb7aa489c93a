"""KiteFeed: Kite's WebSocket ticker as the engine's market feed (and its order postbacks).

The official ``KiteTicker`` runs on a Twisted reactor in a thread of its own (one reactor per
process, never restartable: :meth:`KiteFeed.stop` closes the socket and leaves the reactor
running, so a later feed in the same process still works). What this class adds:

- **Ticks in the engine's terms**: each tick of a subscribed instrument becomes a
  :class:`~core.market.events.Tick` (price on the instrument's tick grid, the volume traded since
  the previous tick, the exchange's time in Asia/Kolkata) on a thread-safe queue that
  :meth:`events` yields from, in arrival order, on the engine's thread. Frames are taken raw
  (the client's public ``on_message``) and parsed by :mod:`core.market.feeds.kite_packets`, ~40x
  faster than the client's own parser; times come from the packets' epoch seconds, never through
  the machine's local zone (the client's parser would give naive local datetimes).
- **Subscriptions**: every instrument asked for, in ``full`` mode, on every (re)connect; the
  client itself resubscribes after a reconnect and the server takes both idempotently.
- **Order postbacks** go to ``on_order_update`` (the broker's :meth:`~KiteBroker.on_postback`).
- **Health**: connection state, reconnects, the age of the last tick; ``stale`` once no tick has
  come for ``stale_after_s`` while connected or not (the engine takes no new entries on a stale
  feed); ``token_refused`` once Kite answers the socket's handshake with 403 (the session has
  ended: :func:`~core.automation.broker_watch.watch_session`).
- **A new login** (:meth:`renew`): the socket is replaced by one with the new access token.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from core.clock import IST, LiveClock, MarketClock
from core.market.events import Tick
from core.market.feeds.kite_packets import RawTick, parse_frame

OrderUpdateHandler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Subscription:
    """An instrument the feed streams: its Kite token, our symbol and its tick size."""

    token: int
    symbol: str
    tick_size: float = 0.05


class KiteFeed:
    """See the module docstring. ``ticker_factory`` builds the ``KiteTicker`` (tests pass the root)."""

    def __init__(self, api_key: str, access_token: str, subscriptions: list[Subscription], *,
                 root: str | None = None, on_order_update: OrderUpdateHandler | None = None,
                 stale_after_s: float = 10.0, clock: MarketClock | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        # imports Twisted and installs its reactor: only when a feed is made (in _new_ticker)
        self.clock = clock or LiveClock()  # the time of a tick whose packet carries none (ltp, quote modes)
        self._by_token: Mapping[int, Subscription] = {s.token: s for s in subscriptions}
        self._volume: dict[int, int] = {}
        self._queue: queue.SimpleQueue[Tick | None] = queue.SimpleQueue()
        self._monotonic = monotonic
        self.on_order_update = on_order_update
        self.stale_after_s = stale_after_s
        self._last_tick_at: float | None = None
        self._started_at = monotonic()
        self.connected = threading.Event()
        self.connects = 0
        self.disconnects = 0
        self.ticks_received = 0
        self.last_error = ""
        self.token_refused = False  # Kite refused the socket's access token (403): log in again
        self.received_at: Callable[[RawTick, float], None] | None = None  # per tick queued: benchmarks
        self._api_key, self._root = api_key, root
        self.ticker = self._new_ticker(access_token)

    def _new_ticker(self, access_token: str) -> Any:
        from kiteconnect import KiteTicker

        ticker = KiteTicker(self._api_key, access_token, root=self._root, reconnect_max_delay=5,
                            reconnect_max_tries=300)

        def while_current(handler: Callable[..., None]) -> Callable[..., None]:
            # a replaced ticker's last callbacks (its socket closing) say nothing about the feed now
            return lambda *args: handler(*args) if self.ticker is ticker else None

        ticker.on_connect = while_current(self._on_connect)
        ticker.on_message = self._on_message  # raw frames: parsed here (kite_packets), not by the client
        ticker.on_close = while_current(self._on_close)
        ticker.on_error = while_current(self._on_error)
        ticker.on_order_update = while_current(self._on_order_update)
        return ticker

    # ------------------------------------------------------------------ life

    def start(self) -> KiteFeed:
        self.ticker.connect(threaded=True)
        return self

    def subscribe(self, subscriptions: list[Subscription]) -> None:
        """Stream these instruments too (full mode), from now and on every reconnect."""
        from twisted.internet import reactor

        new = [sub for sub in subscriptions if sub.token not in self._by_token]
        if not new:
            return
        self._by_token = {**self._by_token, **{sub.token: sub for sub in new}}  # replaced whole: read elsewhere
        tokens = [sub.token for sub in new]

        def send() -> None:
            if self.connected.is_set():
                self.ticker.subscribe(tokens)
                self.ticker.set_mode(self.ticker.MODE_FULL, tokens)

        reactor.callFromThread(send)

    def renew(self, access_token: str) -> None:
        """A new access token (the trader logged in again): the old socket is closed and a new
        one opened with it, on the reactor's thread; every instrument is subscribed again on
        connect. Ticks go on into the same queue."""
        from twisted.internet import reactor

        old = self.ticker
        self.ticker = self._new_ticker(access_token)
        self.connected.clear()
        self.token_refused = False

        def swap() -> None:
            old.close()
            self.ticker.connect(threaded=True)  # the reactor runs already: this only connects

        reactor.callFromThread(swap)

    def stop(self) -> None:
        """Close the socket, stop reconnecting and end :meth:`events`."""
        from twisted.internet import reactor

        reactor.callFromThread(self.ticker.close)
        self._queue.put(None)

    def events(self, poll_s: float = 0.5) -> Iterator[Tick | None]:
        """Ticks as they arrive; ``None`` every ``poll_s`` without one (the engine's idle turn).
        Ends after :meth:`stop`."""
        while True:
            try:
                tick = self._queue.get(timeout=poll_s)
            except queue.Empty:
                yield None
                continue
            if tick is None:
                return
            yield tick

    def drain(self) -> list[Tick]:
        """Every tick waiting, without blocking."""
        out = []
        while True:
            try:
                tick = self._queue.get_nowait()
            except queue.Empty:
                return out
            if tick is not None:
                out.append(tick)

    # ------------------------------------------------------------------ health

    @property
    def last_tick_age_s(self) -> float | None:
        return None if self._last_tick_at is None else self._monotonic() - self._last_tick_at

    @property
    def stale(self) -> bool:
        since = self._last_tick_at if self._last_tick_at is not None else self._started_at
        return self._monotonic() - since > self.stale_after_s

    # ------------------------------------------------------------------ ticker callbacks (reactor thread)

    def _on_connect(self, ws: Any, _response: Any) -> None:
        self.connects += 1
        self.token_refused = False
        tokens = [t for t in self._by_token if ws.subscribed_tokens.get(t) != ws.MODE_FULL]
        if tokens:
            ws.subscribe(tokens)
            ws.set_mode(ws.MODE_FULL, tokens)
        self.connected.set()

    def _on_close(self, _ws: Any, code: Any, reason: Any) -> None:
        if self.connected.is_set():
            self.disconnects += 1
        self.connected.clear()

    def _on_error(self, _ws: Any, code: Any, reason: Any) -> None:
        self.last_error = f"{code}: {reason}"
        if "403" in str(reason):  # "WebSocket connection upgrade failed (403 - Forbidden)"
            self.token_refused = True

    def _on_order_update(self, _ws: Any, data: dict[str, Any]) -> None:
        if self.on_order_update is not None:
            self.on_order_update(data)

    def _on_message(self, _ws: Any, payload: bytes | str, is_binary: bool) -> None:
        if not is_binary:
            return  # text (order updates, errors) is dispatched by the client itself
        arrived = self._monotonic()
        raws = parse_frame(payload)  # type: ignore[arg-type]
        if not raws:
            return  # a heartbeat
        self._last_tick_at = arrived
        now = self.clock.now()
        for raw in raws:
            sub = self._by_token.get(raw.token)
            if sub is None:
                continue
            self.ticks_received += 1
            previous = self._volume.get(raw.token)
            self._volume[raw.token] = raw.volume
            traded = raw.volume - previous if previous is not None and raw.volume >= previous else 0
            price = round(round(raw.price / sub.tick_size) * sub.tick_size, 10)
            when = dt.datetime.fromtimestamp(raw.epoch, IST) if raw.epoch else now
            self._queue.put(Tick(sub.symbol, when, price, float(traded)))
            if self.received_at is not None:
                self.received_at(raw, arrived)
