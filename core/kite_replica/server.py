"""KiteReplica: a loopback HTTP server that speaks Kite Connect v3 to the unmodified client.

What the official ``kiteconnect`` 5.2.2 client needs (kite-wire-spec §2): every answer carries
``Content-Type: application/json`` (the instrument dump ``text/csv``), successes are
``{"status": "success", "data": ...}``, errors ``{"status": "error", "message", "error_type"}``
with the HTTP status the client copies into the exception's ``code``. Requests carry
``Authorization: token <api_key>:<access_token>``; an unknown or expired token answers 403
``TokenException`` (which also fires the client's session-expiry hook).

Routes served: the session (``POST``/``DELETE /session/token``; and, for demos, a login page
that redirects at once), ``/user/profile``, ``/user/margins[/{segment}]``, the order book
(``GET /orders``, ``GET /orders/{id}``, ``GET /orders/{id}/trades``, ``GET /trades``, ``POST
/orders/{variety}``, ``PUT`` and ``DELETE /orders/{variety}/{id}``), ``/portfolio/positions``, ``/portfolio/holdings``,
``/quote/ltp``, ``/instruments[/{exchange}]``, ``/instruments/historical/{token}/{interval}``
``POST /margins/orders`` and ``POST /margins/basket``. Orders match in :class:`~core.kite_replica.book.ReplicaBook`.

Limits and faults: :mod:`core.kite_replica.faults`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.clock import IST
from core.execution.kite_wire import KITE_TIME
from core.kite_replica.book import ReplicaBook, ReplicaRefusal
from core.kite_replica.faults import Faults, RequestLimiter

CSV_HEADER = ("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,"
              "instrument_type,segment,exchange")



@dataclass(frozen=True)
class Request:
    """One request as the handlers see it: query and form fields merged (the last value of a
    repeated key in ``params``, all of them in ``multi``), a JSON body as ``body``."""

    method: str
    path: str
    params: dict[str, str]
    multi: dict[str, list[str]]
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["KiteReplica", re.Match[str], Request], tuple[int, Any]]


def _success(data: Any) -> tuple[int, Any]:
    return 200, {"status": "success", "data": data}


class KiteReplica:
    """Serves one :class:`ReplicaBook` on 127.0.0.1; ``start()``, then point the client at :attr:`root`."""

    def __init__(self, book: ReplicaBook, *, api_key: str = "atwreplica", api_secret: str = "replicasecret",
                 port: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.book = book
        self.api_key = api_key
        self.api_secret = api_secret
        self.faults = Faults()
        self.limiter = RequestLimiter(clock)
        self._tokens: set[str] = set()
        self._request_tokens: set[str] = set()
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.over_limit = 0  # requests refused for going past Kite's limits (not the scripted storms)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> KiteReplica:
        self._thread = threading.Thread(target=self._server.serve_forever, name="kite-replica-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ sessions

    def mint_request_token(self) -> str:
        """What Kite's login page hands the redirect URL after a successful login."""
        token = secrets.token_hex(16)
        with self._lock:
            self._request_tokens.add(token)
        return token

    def issue_access_token(self) -> str:
        """A valid access token without the login dance (tests that are not about logging in)."""
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        """Every session ends (Kite's 6 AM expiry, a logout elsewhere): calls answer TokenException."""
        with self._lock:
            self._tokens.clear()

    def token_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: Request) -> tuple[int, Any]:
        """Answer one request: (status, JSON object) or (status, CSV text)."""
        method, path = request.method, request.path
        with self._lock:
            self.requests.append((method, path))
        if self.faults.latency_s:
            time.sleep(self.faults.latency_s)
        failure = self.faults.take_failure()
        if failure is not None:
            return failure.status, _error(failure.error_type, failure.message)
        for route_method, pattern, kind, handler, auth in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None or route_method != method:
                continue
            if auth and not self._authorised(request.headers.get("authorization", "")):
                return 403, _error("TokenException", "Incorrect `api_key` or `access_token`.")
            if not self.limiter.admit(kind):
                self.over_limit += 1
                return 429, _error("NetworkException", "Too many requests")
            try:
                return handler(self, match, request)
            except ReplicaRefusal as refusal:
                return refusal.status, _error(refusal.error_type, refusal.message)
        return 404, _error("GeneralException", f"Route not found: {method} {path}")

    def _authorised(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        key, _, token = credentials.partition(":")
        return scheme == "token" and key == self.api_key and self.token_valid(token)

    # ------------------------------------------------------------------ handlers

    def _session(self, _m: re.Match[str], r: Request) -> tuple[int, Any]:
        p = r.params
        request_token = p.get("request_token", "")
        expected = hashlib.sha256(f"{self.api_key}{request_token}{self.api_secret}".encode()).hexdigest()
        with self._lock:
            known = request_token in self._request_tokens
            self._request_tokens.discard(request_token)
        if p.get("api_key") != self.api_key or not known or p.get("checksum") != expected:
            return 403, _error("TokenException", "Token is invalid or has expired.")
        access = self.issue_access_token()
        user = self.book.user_id
        return _success({
            "user_type": "individual/res_no_nn", "email": "trader@example.com", "user_name": "Replica Trader",
            "user_shortname": "Trader", "broker": "ZERODHA", "exchanges": ["NSE", "BSE", "NFO"],
            "products": ["CNC", "NRML", "MIS"], "order_types": ["MARKET", "LIMIT", "SL", "SL-M"],
            "avatar_url": None, "user_id": user, "api_key": self.api_key, "access_token": access,
            "public_token": secrets.token_hex(8), "enctoken": "", "refresh_token": "", "silo": "",
            "login_time": self.book.now().strftime(KITE_TIME), "meta": {"demat_consent": "physical"},
        })

    def _login_page(self, _m: re.Match[str], r: Request) -> tuple[int, Any]:
        """Kite's login page, for demos: no form, an immediate redirect to ``redirect_url`` (a
        replica-only parameter; real Kite redirects to the app's registered URL) with a fresh
        request token, as after a successful login."""
        if r.params.get("api_key") != self.api_key:
            return 400, _error("InputException", "Invalid `api_key`.")
        target = r.params.get("redirect_url", "")
        if not target.startswith(("http://127.0.0.1", "http://localhost")):
            return 400, _error("InputException", "redirect_url must be a loopback address")
        sep = "&" if "?" in target else "?"
        return 302, f"{target}{sep}action=login&type=login&status=success&request_token={self.mint_request_token()}"

    def _logout(self, _m: re.Match[str], r: Request) -> tuple[int, Any]:
        with self._lock:
            self._tokens.discard(r.params.get("access_token", ""))
        return _success(True)

    def _profile(self, _m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success({"user_id": self.book.user_id, "user_type": "individual", "email": "trader@example.com",
                         "user_name": "Replica Trader", "user_shortname": "Trader", "broker": "ZERODHA",
                         "exchanges": ["NSE", "BSE", "NFO"], "products": ["CNC", "NRML", "MIS"],
                         "order_types": ["MARKET", "LIMIT", "SL", "SL-M"], "avatar_url": None, "meta": {}})

    def _margins(self, m: re.Match[str], _r: Request) -> tuple[int, Any]:
        margins = self.book.margins()
        segment = m.group("segment")
        if segment is None:
            return _success(margins)
        if segment not in margins:
            raise ReplicaRefusal(f"Invalid segment: {segment}")
        return _success(margins[segment])

    def _orders(self, _m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success(self.book.orders())

    def _order_history(self, m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success(self.book.order_history(m.group("order_id")))

    def _order_trades(self, m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success(self.book.trades(m.group("order_id")))

    def _trades(self, _m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success(self.book.trades())

    def _place(self, m: re.Match[str], r: Request) -> tuple[int, Any]:
        return _success({"order_id": self.book.place(m.group("variety"), r.params)})

    def _modify(self, m: re.Match[str], r: Request) -> tuple[int, Any]:
        return _success({"order_id": self.book.modify(m.group("variety"), m.group("order_id"), r.params)})

    def _cancel(self, m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success({"order_id": self.book.cancel(m.group("variety"), m.group("order_id"))})

    def _positions(self, _m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success(self.book.positions())

    def _holdings(self, _m: re.Match[str], _r: Request) -> tuple[int, Any]:
        return _success(self.book.holdings())

    def _ltp(self, _m: re.Match[str], r: Request) -> tuple[int, Any]:
        out = {}
        for key in r.multi.get("i", []):
            price = self.book.ltp(key) if key in self.book.instruments else None
            if price is not None:  # Kite omits unknown keys rather than failing the call
                out[key] = {"instrument_token": self.book.instruments[key].token, "last_price": price}
        return _success(out)

    def _instruments(self, m: re.Match[str], _r: Request) -> tuple[int, Any]:
        exchange = m.group("exchange")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER.split(","))
        for inst in self.book.instruments.values():
            if exchange is None or inst.exchange == exchange:
                writer.writerow([inst.token, inst.token >> 8, inst.tradingsymbol, inst.name, "0.0", inst.expiry,
                                 inst.strike,
                                 inst.tick_size, inst.lot_size, inst.instrument_type, inst.segment or inst.exchange,
                                 inst.exchange])
        return 200, out.getvalue()

    def _historical(self, m: re.Match[str], r: Request) -> tuple[int, Any]:
        interval = m.group("interval")
        minutes = HISTORY_INTERVALS.get(interval)
        if minutes is None:
            raise ReplicaRefusal(f"invalid interval: {interval}")
        try:
            start = dt.datetime.strptime(r.params.get("from", ""), KITE_TIME).replace(tzinfo=IST)
            end = dt.datetime.strptime(r.params.get("to", ""), KITE_TIME).replace(tzinfo=IST)
        except ValueError:
            raise ReplicaRefusal("invalid `from` or `to`: use yyyy-mm-dd hh:mm:ss") from None
        if end - start > dt.timedelta(days=HISTORY_MAX_DAYS[interval]):  # limits from tutorials (UNVERIFIED)
            raise ReplicaRefusal(f"interval exceeds max limit: {HISTORY_MAX_DAYS[interval]} days")
        return _success({"candles": self.book.history(int(m.group("token")), start, end, minutes)})

    def _order_margins(self, _m: re.Match[str], r: Request) -> tuple[int, Any]:
        return _success([self._margin_of(order) for order in self._orders_in(r)])

    def _basket_margins(self, _m: re.Match[str], r: Request) -> tuple[int, Any]:
        """``initial``: the orders' margins summed; ``final``: on each instrument's net quantity
        after the basket (with the open positions when ``consider_positions``), so opposite
        orders, and orders that reduce a position, need less."""
        orders = self._orders_in(r)
        each = [self._margin_of(order) for order in orders]
        held = {f"{p['exchange']}:{p['tradingsymbol']}": int(p["quantity"]) for p in self.book.positions()["net"]} \
            if r.params.get("consider_positions", "True").lower() in ("true", "1") else {}
        net: dict[str, int] = {}
        for order in orders:
            key = f"{order.get('exchange')}:{order.get('tradingsymbol')}"
            sign = 1 if order.get("transaction_type") == "BUY" else -1
            net[key] = net.get(key, held.get(key, 0)) + sign * int(order.get("quantity", 0))
        final = 0.0
        for key, qty in net.items():
            extra = max(abs(qty) - abs(held.get(key, 0)), 0)  # only what the basket adds needs margin
            final += self._margin_of({"exchange": key.split(":")[0], "tradingsymbol": key.split(":")[1],
                                      "quantity": extra, "product": "MIS"})["total"]
        initial = round(sum(m["total"] for m in each), 2)
        return _success({"initial": _margin_row(initial), "final": _margin_row(round(final, 2)), "orders": each,
                         "charges": {}})

    @staticmethod
    def _orders_in(r: Request) -> list[dict[str, Any]]:
        if not isinstance(r.body, list):
            raise ReplicaRefusal("Invalid JSON body: a list of orders is expected.")
        return r.body

    def _margin_of(self, order: dict[str, Any]) -> dict[str, Any]:
        key = f"{order.get('exchange')}:{order.get('tradingsymbol')}"
        price = float(order.get("price") or 0) or (self.book.ltp(key) or 0.0)
        self.book.instrument(key)
        leverage = 5.0 if order.get("product") == "MIS" else 1.0
        total = round(float(order.get("quantity", 0)) * price / leverage, 2)
        return {**_margin_row(total), "type": "equity", "tradingsymbol": order.get("tradingsymbol"),
                "exchange": order.get("exchange"), "var": total, "leverage": leverage}


def _margin_row(total: float) -> dict[str, Any]:
    """A margin object of Kite's shape (``basket_margins.json``) carrying ``total``."""
    return {"type": "", "tradingsymbol": "", "exchange": "", "span": 0, "exposure": 0, "option_premium": 0,
            "additional": 0, "bo": 0, "cash": 0, "var": 0, "pnl": {"realised": 0, "unrealised": 0}, "leverage": 0,
            "charges": {}, "total": total}


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "error_type": error_type, "data": None}


HISTORY_INTERVALS = {"minute": 1, "3minute": 3, "5minute": 5, "10minute": 10, "15minute": 15, "30minute": 30,
                     "60minute": 60}
HISTORY_MAX_DAYS = {"minute": 60, "3minute": 100, "5minute": 100, "10minute": 100, "15minute": 200,
                    "30minute": 200, "60minute": 400}
_O = r"(?P<order_id>[0-9A-Za-z]+)"
_V = r"(?P<variety>[a-z]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str, Handler, bool]] = [
    ("GET", re.compile(r"/connect/login"), "other", KiteReplica._login_page, False),
    ("POST", re.compile(r"/session/token"), "other", KiteReplica._session, False),
    ("DELETE", re.compile(r"/session/token"), "other", KiteReplica._logout, True),
    ("GET", re.compile(r"/user/profile"), "other", KiteReplica._profile, True),
    ("GET", re.compile(r"/user/margins(?:/(?P<segment>[a-z]+))?"), "other", KiteReplica._margins, True),
    ("GET", re.compile(r"/orders"), "other", KiteReplica._orders, True),
    ("GET", re.compile(rf"/orders/{_O}/trades"), "other", KiteReplica._order_trades, True),
    ("GET", re.compile(rf"/orders/{_O}"), "other", KiteReplica._order_history, True),
    ("GET", re.compile(r"/trades"), "other", KiteReplica._trades, True),
    ("POST", re.compile(rf"/orders/{_V}"), "orders", KiteReplica._place, True),
    ("PUT", re.compile(rf"/orders/{_V}/{_O}"), "orders", KiteReplica._modify, True),
    ("DELETE", re.compile(rf"/orders/{_V}/{_O}"), "orders", KiteReplica._cancel, True),
    ("GET", re.compile(r"/portfolio/positions"), "other", KiteReplica._positions, True),
    ("GET", re.compile(r"/portfolio/holdings"), "other", KiteReplica._holdings, True),
    ("GET", re.compile(r"/quote/ltp"), "quote", KiteReplica._ltp, True),
    ("GET", re.compile(r"/instruments(?:/(?P<exchange>[A-Z]+))?"), "other", KiteReplica._instruments, False),
    ("GET", re.compile(r"/instruments/historical/(?P<token>\d+)/(?P<interval>\w+)"), "historical",
     KiteReplica._historical, True),
    ("POST", re.compile(r"/margins/orders"), "other", KiteReplica._order_margins, True),
    ("POST", re.compile(r"/margins/basket"), "other", KiteReplica._basket_margins, True),
]


def _handler_for(replica: KiteReplica) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as requests' session expects

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return  # the replica keeps its own request list

        def _serve(self) -> None:
            url = urlsplit(self.path)
            multi = parse_qs(url.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw)
            elif raw:
                for k, v in parse_qs(raw.decode(), keep_blank_values=True).items():
                    multi.setdefault(k, []).extend(v)
            request = Request(self.command, url.path, {k: v[-1] for k, v in multi.items()}, multi, body,
                              {k.lower(): v for k, v in self.headers.items()})
            status, payload = replica.handle(request)
            if replica.faults.take_drop():  # processed, but the answer never reaches the client
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if status == 302:
                self.send_response(302)
                self.send_header("Location", payload)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(payload, str):
                data, ctype = payload.encode(), "text/csv"
            else:
                data, ctype = json.dumps(payload).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - http.server's naming

    return _Handler
