"""KiteGateway: every Kite Connect call the product makes, limited, retried by kind, and typed.

The official ``kiteconnect`` client does no limiting and no retrying of its own, and raises its
own exception classes (or ``requests``' for a dropped connection). Here:

- **Limits**: each call waits for its endpoint class's sliding window
  (:mod:`core.execution.kite_limits`) before it is sent, so the client never goes past Kite's.
- **Retries by kind of error** (``tenacity``, exponential backoff with jitter):
  a 429 is retried for any call (Kite did not act on it); a network failure — a dropped
  connection, a timeout, a 5xx, Kite's ``NetworkException``/``DataException`` — is retried only
  where repeating is harmless: reads, and modify/cancel (which name the order). **Placing** is
  not repeatable blindly: after a failure whose outcome is unknown the gateway looks for the
  order by its tag in the order book and answers with that order if it landed, and places again
  only if it did not. Input and order errors are never retried; a ``TokenException`` is never
  retried either: the session is over and the trader must log in again.
- **Typed errors**: :class:`BrokerRejected` (Kite refused the request), :class:`BrokerSessionExpired`
  and :class:`BrokerUnavailable` (still failing after the retries), each a
  :class:`~core.errors.BrokerError` that names the endpoint in ``where``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kex
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from core.errors import BrokerError
from core.execution.kite_limits import SlidingWindowLimiter, kite_limiters

T = TypeVar("T")

ATTEMPTS = 5  # per call, the first one included
BACKOFF_MAX_S = 4.0


class BrokerRejected(BrokerError):
    """Kite refused the request (bad input, an order it will not take): retrying cannot help."""


class BrokerSessionExpired(BrokerError):
    """The access token is no longer valid: the trader has to log in again."""


class BrokerUnavailable(BrokerError):
    """Kite could not be reached, or kept failing, after every retry."""


class _Uncertain(Exception):
    """A placement whose outcome is unknown (internal: triggers the look-up by tag)."""


def is_rate_limited(exc: BaseException) -> bool:
    return isinstance(exc, kex.KiteException) and getattr(exc, "code", None) == 429


def is_transient(exc: BaseException) -> bool:
    """A failure that says nothing about whether Kite acted: the connection, a timeout, a 5xx."""
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    if isinstance(exc, (kex.NetworkException, kex.DataException)):
        return True
    return isinstance(exc, kex.GeneralException) and int(getattr(exc, "code", 500)) >= 500


class KiteGateway:
    """Wraps one authenticated :class:`KiteConnect` (see the module docstring)."""

    def __init__(self, kite: KiteConnect, *, limiters: Mapping[str, SlidingWindowLimiter] | None = None,
                 sleep: Callable[[float], None] = time.sleep, attempts: int = ATTEMPTS) -> None:
        self.kite = kite
        self.limiters = dict(limiters) if limiters is not None else kite_limiters()
        self._sleep = sleep
        self._attempts = attempts
        self.retries = 0  # calls repeated after a failure, over the gateway's life

    # ------------------------------------------------------------------ orders

    def place_order(self, params: Mapping[str, Any], tag: str) -> str:
        """Place an order tagged ``tag`` (unique per order); its Kite order id. Never places twice."""
        def attempt() -> str:
            try:
                return str(self._limited("orders", lambda: self.kite.place_order(**params, tag=tag)))
            except Exception as exc:
                if is_transient(exc) and not is_rate_limited(exc):
                    landed = self.find_by_tag(tag)
                    if landed is not None:
                        return str(landed["order_id"])
                    raise _Uncertain(str(exc)) from exc
                raise
        return self._retrying("place_order", attempt, retry_on=lambda e: isinstance(e, _Uncertain)
                              or is_rate_limited(e))

    def modify_order(self, variety: str, order_id: str, **changes: Any) -> str:
        return str(self._call("orders", f"modify_order {order_id}",
                              lambda: self.kite.modify_order(variety=variety, order_id=order_id, **changes)))

    def cancel_order(self, variety: str, order_id: str) -> str:
        return str(self._call("orders", f"cancel_order {order_id}",
                              lambda: self.kite.cancel_order(variety=variety, order_id=order_id)))

    def find_by_tag(self, tag: str) -> dict[str, Any] | None:
        """The order carrying ``tag`` in today's order book, or None."""
        for order in self.orders():
            if order.get("tag") == tag or tag in (order.get("tags") or ()):
                return order
        return None

    # ------------------------------------------------------------------ reads

    def orders(self) -> list[dict[str, Any]]:
        return list(self._call("other", "orders", self.kite.orders))

    def order_trades(self, order_id: str) -> list[dict[str, Any]]:
        return list(self._call("other", f"order_trades {order_id}", lambda: self.kite.order_trades(order_id)))

    def positions(self) -> dict[str, list[dict[str, Any]]]:
        return dict(self._call("other", "positions", self.kite.positions))

    def holdings(self) -> list[dict[str, Any]]:
        return list(self._call("other", "holdings", self.kite.holdings))

    def margins(self) -> dict[str, Any]:
        return dict(self._call("other", "margins", self.kite.margins))

    def basket_order_margins(self, orders: list[dict[str, Any]], *, consider_positions: bool = True) -> dict[str, Any]:
        """The margin of the orders together (``final``: with spread benefit, and the open
        positions when ``consider_positions``)."""
        return dict(self._call("other", "basket_order_margins",
                               lambda: self.kite.basket_order_margins(orders, consider_positions=consider_positions)))

    def instruments(self, exchange: str) -> list[dict[str, Any]]:
        """The exchange's instrument dump (Kite's daily CSV, parsed by the client)."""
        return list(self._call("other", f"instruments {exchange}", lambda: self.kite.instruments(exchange)))

    def historical(self, token: int, start: Any, end: Any, interval: str) -> list[dict[str, Any]]:
        """Candles of one instrument (``start``/``end`` naive IST datetimes), oldest first."""
        return list(self._call("historical", f"historical {token} {interval}",
                               lambda: self.kite.historical_data(token, start, end, interval)))

    def ltp(self, *keys: str) -> dict[str, Any]:
        return dict(self._call("quote", "ltp", lambda: self.kite.ltp(*keys)))

    # ------------------------------------------------------------------ machinery

    def _call(self, kind: str, what: str, fn: Callable[[], T]) -> T:
        return self._retrying(what, lambda: self._limited(kind, fn),
                              retry_on=lambda e: is_rate_limited(e) or is_transient(e))

    def _limited(self, kind: str, fn: Callable[[], T]) -> T:
        self.limiters[kind].acquire()
        return fn()

    def _retrying(self, what: str, fn: Callable[[], T], *, retry_on: Callable[[BaseException], bool]) -> T:
        def count(_state: RetryCallState) -> None:
            self.retries += 1

        retrying = Retrying(sleep=self._sleep, stop=stop_after_attempt(self._attempts),
                            wait=wait_random_exponential(multiplier=0.25, max=BACKOFF_MAX_S),
                            retry=retry_if_exception(retry_on), before_sleep=count, reraise=True)
        try:
            return retrying(fn)
        except kex.TokenException as exc:
            raise BrokerSessionExpired(f"the Kite session has ended ({exc}); log in again", where=what) from exc
        except _Uncertain as exc:
            raise BrokerUnavailable(f"order not confirmed after {self._attempts} attempts: {exc}", where=what) from exc
        except Exception as exc:
            if is_rate_limited(exc) or is_transient(exc):
                raise BrokerUnavailable(f"Kite still failing after {self._attempts} attempts: "
                                        f"{type(exc).__name__}: {exc}", where=what) from exc
            if isinstance(exc, kex.KiteException):
                raise BrokerRejected(f"{type(exc).__name__}: {exc}", where=what) from exc
            raise
