"""A live session on Kite, assembled: what ``atw run`` and the desktop both start.

From the settings and a valid access token: the day's instrument dump (cached) read into the
master, the broker for the mode (``paper``/``shadow``: the paper broker on Kite's data;
``canary``/``live``: :class:`~core.execution.kite_broker.KiteBroker`; canary caps every pair's
quantity), the ticker feed on the armed instruments, the clock (the wall clock with the cutoff
scheduler; or, against the replica only, the replayed day's clock from its first tick), the
strategies warmed on the last sessions' candles, the RMS on the account's own margin (real
orders), the session (journal + ledger) and the broker watch. The caller drives it
(:func:`~core.automation.live.run_live` or the desktop's service with
:func:`~core.automation.live.live_events`) and calls :meth:`KiteHost.close`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.automation.broker_watch import BrokerWatch
from core.automation.live import LiveSession, open_live_session
from core.automation.schedule import CutoffScheduler
from core.clock import IST, LiveClock, MarketClock, SimClock, nse_calendar
from core.errors import ConfigError
from core.market.bars import Bar
from core.market.events import Tick

REAL_ORDER_MODES = ("canary", "live")
PRODUCTS = ("MIS", "NRML", "CNC")


@dataclass(frozen=True)
class KiteSettings:
    """What a Kite session is started with (the access token comes separately, from the login)."""

    mode: str
    api_key: str
    arms: Sequence[tuple[str, str]]
    params: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # strategy -> key -> value
    kite_root: str | None = None  # the replica's REST root (None: Kite itself)
    ws_root: str | None = None  # default: the replica's port + 1, or Kite's
    clock: str = "wall"  # or "feed": a replayed day's clock (replica only)
    canary_qty: int = 1
    home: Path = Path(".")
    product: str = "MIS"  # MIS intraday (the cutoff squares off), NRML F&O carry, CNC delivery
    risk: Sequence[str] = ()  # --risk KEY=VALUE over config.toml's [risk] (core.risk.settings)
    algo_id: str | None = None  # the exchange-issued algo id sent with every order (SEBI's framework)

    def check(self) -> None:
        if self.clock == "feed" and not self.kite_root:
            raise ConfigError("the feed's clock follows a replayed day: only against the replica (a real "
                              "account trades on the wall clock)", where="--clock")
        if not self.api_key:
            raise ConfigError("no Kite API key: --api-key or $ATW_KITE_API_KEY", where="--api-key")
        if self.product not in PRODUCTS:
            raise ConfigError(f"product must be one of {', '.join(PRODUCTS)}, not {self.product!r}", where="--product")


@dataclass
class KiteHost:
    session: LiveSession
    watch: BrokerWatch | None
    cutoff: CutoffScheduler | None
    kite: Any = None  # the KiteConnect client every REST call goes through
    instrument_rows: Callable[[list[str]], Mapping[str, Any]] | None = None  # symbol -> Kite's dump row

    def watch_symbols(self, symbols: list[str]) -> None:
        """On the engine's thread: the market watch's symbols are streamed too (those Kite lists;
        the others are said once in an alert)."""
        feed = self.session.feed
        if self.instrument_rows is None or not hasattr(feed, "subscribe"):
            return
        rows = self.instrument_rows(symbols)
        missing = sorted(set(symbols) - set(rows))
        if missing:
            self.session.engine.alert("warning", f"not streamed (not in Kite's instruments): {', '.join(missing)}")
        from core.market.feeds.kite import Subscription

        feed.subscribe([Subscription(int(r["instrument_token"]), s, float(r["tick_size"])) for s, r in rows.items()])

    def renew(self, access_token: str) -> None:
        """On the engine's thread: the trader logged in again. The REST client and the ticker take
        the new token; the broker watch lifts the "log in again" hold on its next turn and
        compares the books at once."""
        if self.kite is not None:
            self.kite.set_access_token(access_token)
        self.session.feed.renew(access_token)
        if self.watch is not None:
            self.watch.session_renewed()
        self.session.engine.note("session_renewed")
        self.session.engine.alert("info", "logged in to Kite again: the session goes on")

    def close(self) -> None:
        """Stop the cutoff job and the feed; the session (journal, ledger) closes too."""
        try:
            if self.cutoff is not None:
                self.cutoff.shutdown()
            self.session.feed.stop()
        finally:
            self.session.close()


def strategies_for(settings: KiteSettings) -> list[Any]:
    from core.strategies import create

    names = sorted({name for _, name in settings.arms})
    built = []
    for name in names:
        params = dict(settings.params.get(name, {}))
        if settings.mode == "canary":  # each pair trades at most the canary quantity
            params["qty"] = str(min(int(params.get("qty", create(name).trade.qty)), settings.canary_qty))
        built.append(create(name, **params))
    return built


def build_kite_host(settings: KiteSettings, access_token: str, *, on_snapshot: Callable[[Any], None] | None = None,
                    tape: Any = None, snapshot_hz: float = 10.0) -> KiteHost:
    """Assemble the session (see the module docstring); its feed is started."""
    from kiteconnect import KiteConnect

    from core.execution.kite_broker import KiteBroker
    from core.execution.kite_gateway import KiteGateway
    from core.execution.kite_instruments import rows_for, with_kite_terms
    from core.execution.paper import PaperBroker
    from core.market.feeds.kite import KiteFeed, Subscription
    from core.market.instruments import default_master
    from core.risk.settings import load_limits

    settings.check()
    home = settings.home
    kite = KiteConnect(settings.api_key, access_token=access_token, root=settings.kite_root)
    gateway = KiteGateway(kite)
    now = LiveClock().now()
    rows = rows_for(gateway, [s for s, _ in settings.arms], home / "cache", now)
    master = with_kite_terms(default_master(), rows)
    real_orders = settings.mode in REAL_ORDER_MODES
    broker: Any = KiteBroker(gateway, master, product=settings.product, algo_id=settings.algo_id) if real_orders \
        else PaperBroker(master)
    subs = [Subscription(int(r["instrument_token"]), s, float(r["tick_size"])) for s, r in rows.items()]
    ws_root = settings.ws_root or (replica_ws_root(settings.kite_root) if settings.kite_root else None)
    feed = KiteFeed(settings.api_key, access_token, subs, root=ws_root,
                    on_order_update=broker.on_postback if real_orders else None).start()
    first: Tick | None = None
    if settings.clock == "feed":  # the replayed day's clock starts at its first tick
        first = next((t for t in feed.events(0.5) if t is not None), None)
        if first is None:
            feed.stop()
            raise ConfigError("the replica's ticker sent nothing", where="--kite-root")
    clock: MarketClock = SimClock(first.time - dt.timedelta(seconds=1)) if first is not None else LiveClock()
    feed.clock = clock
    if real_orders:
        broker.clock = clock
    warm = warmup_bars(gateway, rows, home, first.time if first is not None else now)
    # real orders: the capital is the account's margin (a --risk capital=... overrides it)
    account = Decimal(str(gateway.margins()["equity"]["net"])) if real_orders else None
    limits = load_limits(home, settings.risk, capital=float(account) if account is not None else None)
    session = open_live_session(settings.mode, broker, feed, strategies_for(settings), settings.arms, clock=clock,
                                home=home, master=master, warmup=warm, limits=limits, on_snapshot=on_snapshot,
                                tape=tape, snapshot_hz=snapshot_hz)
    if first is not None:
        session.engine.handle(first)
    watch = BrokerWatch(session.engine, broker, feed=feed) if real_orders else None
    cutoff = CutoffScheduler(clock, session.engine.post) if isinstance(clock, LiveClock) else None
    if cutoff is not None:
        cutoff.start()
    def instrument_rows(symbols: list[str]) -> Mapping[str, Any]:
        return rows_for(gateway, symbols, home / "cache", clock.now(), strict=False)

    return KiteHost(session, watch, cutoff, kite, instrument_rows)


def warmup_bars(gateway: Any, rows: Mapping[str, Any], home: Path, until: dt.datetime, sessions: int = 2) -> list[Bar]:
    """The armed instruments' minute bars of the last ``sessions`` sessions and of today up to
    ``until`` (Kite's historical candles, through the local store): indicators start warm."""
    from core.market.kite_history import CandleStore

    store = CandleStore(gateway, home / "cache" / "history")
    day = until.astimezone(IST).date()
    start = day
    for _ in range(sessions):
        start = nse_calendar().previous_trading_day(start)
    bars = [b for symbol, row in rows.items()
            for b in store.bars(symbol, int(row["instrument_token"]), start, day, today=day) if b.end <= until]
    return sorted(bars, key=lambda b: (b.start, b.symbol))


def replica_ws_root(rest_root: str) -> str:
    """The replica's ticker: its REST port + 1."""
    host, _, port = rest_root.removeprefix("http://").rstrip("/").rpartition(":")
    return f"ws://{host}:{int(port) + 1}"
