"""ReplicaTicker: the replica's WebSocket, speaking Kite's ticker protocol to the real KiteTicker.

- **Handshake**: ``ws://127.0.0.1:PORT/?api_key=K&access_token=T``; an unknown token is refused
  with HTTP 403 (the client reports it and keeps retrying, as it does against Kite).
- **Requests** (text JSON): ``subscribe`` (the token streams in ``quote`` mode until a ``mode``
  message), ``unsubscribe``, ``mode``. They are idempotent: the client resubscribes after every
  reconnect.
- **Market data**: every trade the book sees (:meth:`ReplicaBook.set_price`) goes out at once to
  the connections subscribed to it, as one binary frame in each connection's mode;
  :meth:`ReplicaTicker.broadcast` sends many instruments in one frame (a real feed batches).
- **Order postbacks** (text ``{"type": "order", "data": ...}``) for every order update.
- **Heartbeat**: one byte when a connection has had nothing for ``heartbeat_s``. No unsolicited
  pongs and no pings (the client's watchdog misreads them; kite-wire-spec §1.2).
- **Faults**: :meth:`drop_connections` (the socket dies; the client reconnects and
  resubscribes), ``lose_postbacks`` (the next N order updates are never sent).

Each connection has a sender thread fed by a queue, so market data, postbacks and heartbeats
reach a socket from one thread in the order they were produced.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from core.kite_replica.book import ReplicaInstrument
from core.kite_replica.packets import FULL, HEARTBEAT, LTP, QUOTE, TickState, frame, packet
from core.kite_replica.server import KiteReplica

_STOP = object()


class _Client:
    def __init__(self, conn: ServerConnection) -> None:
        self.conn = conn
        self.modes: dict[int, str] = {}
        self.outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()


class ReplicaTicker:
    """The ticker of one :class:`KiteReplica` (see the module docstring)."""

    def __init__(self, replica: KiteReplica, *, port: int = 0, heartbeat_s: float = 1.5,
                 clock: Callable[[], float] = time.time) -> None:
        self.replica = replica
        self.heartbeat_s = heartbeat_s
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: list[_Client] = []
        self.states: dict[int, TickState] = {}
        self.lose_postbacks = 0
        self.connections_seen = 0
        self.requests: list[dict[str, Any]] = []  # every text request, in order
        replica.book.price_listeners.append(self._on_trade)
        replica.book.listeners.append(self._on_order)
        self._server: Server = serve(self._handle, "127.0.0.1", port, process_request=self._authorise,
                                     compression=None, ping_interval=None)
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}"

    def start(self) -> ReplicaTicker:
        self._thread = threading.Thread(target=self._server.serve_forever, name="kite-replica-ws", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.drop_connections()
        self._server.shutdown()

    # ------------------------------------------------------------------ market data

    def state(self, inst: ReplicaInstrument) -> TickState:
        with self._lock:
            return self.states.setdefault(inst.token, TickState(inst.token))

    def broadcast(self, tokens: list[int]) -> None:
        """Send the current state of ``tokens`` in one frame per connection (a batched feed)."""
        epoch = int(self._clock())
        with self._lock:
            clients = list(self._clients)
            states = [self.states[t] for t in tokens if t in self.states]
        for client in clients:
            packets = [packet(s, client.modes[s.token], epoch) for s in states if s.token in client.modes]
            if packets:
                client.outbox.put(frame(packets))

    def _on_trade(self, inst: ReplicaInstrument, price: float, qty: int) -> None:
        now = self._clock()
        self.state(inst).trade(price, qty, int(now))
        self.broadcast([inst.token])

    # ------------------------------------------------------------------ postbacks

    def _on_order(self, payload: dict[str, Any]) -> None:
        with self._lock:
            if self.lose_postbacks > 0:
                self.lose_postbacks -= 1
                return
            clients = list(self._clients)
        text = json.dumps({"type": "order", "data": payload}, default=str)
        for client in clients:
            client.outbox.put(text)

    # ------------------------------------------------------------------ faults

    def drop_connections(self) -> None:
        """Every socket dies without a closing handshake (a network blip)."""
        with self._lock:
            clients, self._clients = list(self._clients), []
        for client in clients:
            client.outbox.put(_STOP)
            client.conn.close_socket()

    def connected(self) -> int:
        with self._lock:
            return len(self._clients)

    def backlog(self) -> int:
        """Frames and messages waiting to be sent, on the busiest connection."""
        with self._lock:
            return max((c.outbox.qsize() for c in self._clients), default=0)

    def subscribed(self) -> dict[int, str]:
        """The union of every live connection's subscriptions (token -> mode)."""
        with self._lock:
            out: dict[int, str] = {}
            for client in self._clients:
                out.update(client.modes)
            return out

    # ------------------------------------------------------------------ connections

    def _authorise(self, conn: ServerConnection, request: Request) -> Response | None:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(request.path).query).items()}
        if query.get("api_key") != self.replica.api_key or not self.replica.token_valid(query.get("access_token", "")):
            return conn.respond(403, "Forbidden: invalid api_key or access_token\n")
        return None

    def _handle(self, conn: ServerConnection) -> None:
        client = _Client(conn)
        with self._lock:
            self._clients.append(client)
            self.connections_seen += 1
        reader = threading.Thread(target=self._read, args=(client,), name="kite-replica-ws-read", daemon=True)
        reader.start()
        try:
            while True:
                try:
                    item = client.outbox.get(timeout=self.heartbeat_s)
                except queue.Empty:
                    item = HEARTBEAT
                if item is _STOP:
                    return
                conn.send(item)
        except ConnectionClosed:
            return
        finally:
            with self._lock:
                if client in self._clients:
                    self._clients.remove(client)

    def _read(self, client: _Client) -> None:
        try:
            for message in client.conn:
                if isinstance(message, str):
                    self._request(client, message)
        except ConnectionClosed:
            pass
        client.outbox.put(_STOP)

    def _request(self, client: _Client, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            return
        with self._lock:
            self.requests.append(msg)
            action, value = msg.get("a"), msg.get("v")
            if action == "subscribe":
                for token in value:
                    client.modes.setdefault(int(token), QUOTE)
            elif action == "unsubscribe":
                for token in value:
                    client.modes.pop(int(token), None)
            elif action == "mode" and isinstance(value, list) and len(value) == 2 and value[0] in (LTP, QUOTE, FULL):
                for token in value[1]:
                    client.modes[int(token)] = value[0]
