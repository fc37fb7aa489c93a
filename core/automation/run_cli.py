"""``atw run`` (the engine headless on Kite) and ``atw kite-replica`` (the loopback replica).

    atw run --mode paper|shadow|canary|live --broker kite --arm SYMBOL:STRATEGY ... [--set k=v]
            [--kite-root URL [--kite-ws-root URL] --clock feed] [--until HH:MM] [--confirm-live]
    atw kite-replica [--port 8765] [--speed 60] [--data FILE ...]

``atw run`` is what a server with a static IP runs (SEBI's retail-algo framework): the same
engine, journal and ledger as the desktop. Modes: ``paper`` (Kite's live data, paper fills),
``shadow`` (live data, every decision journaled, no order sent: paper fills keep the book),
``canary`` (real orders, each pair's quantity capped at ``--canary-qty``), ``live`` (real orders;
refused without ``--confirm-live``). The session logs in through the keyring
(:mod:`core.execution.kite_session`), or the browser flow when today's token is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.clock import IST, LiveClock, MarketClock, SimClock
from core.errors import ConfigError
from core.paths import atw_home

MODES = ("paper", "shadow", "canary", "live")
REPLICA_KEY = "atwreplica"


def add_run_parsers(sub: Any) -> None:
    run = sub.add_parser("run", help="run the automation headless on Kite (paper, shadow, canary or live)")
    run.add_argument("--mode", choices=MODES, required=True)
    run.add_argument("--broker", choices=("kite",), default="kite")
    run.add_argument("--arm", action="append", required=True, metavar="SYMBOL:STRATEGY")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="strategy parameter")
    run.add_argument("--api-key", default=os.environ.get("ATW_KITE_API_KEY"),
                     help="the Kite Connect app's API key (default: $ATW_KITE_API_KEY)")
    run.add_argument("--kite-root", help="Kite's REST root (the loopback replica's, for demos and tests)")
    run.add_argument("--kite-ws-root", help="Kite's ticker root (default: the replica's port + 1 with --kite-root)")
    run.add_argument("--clock", choices=("wall", "feed"), default="wall",
                     help="feed: follow the ticks' exchange times (only with --kite-root: a replayed day)")
    run.add_argument("--redirect-port", type=int, default=0,
                     help="port of the login redirect catcher (the app's registered redirect URL)")
    run.add_argument("--canary-qty", type=int, default=1, help="canary mode: the most any pair may trade")
    run.add_argument("--until", help="stop at this IST time (HH:MM); default: until interrupted")
    run.add_argument("--confirm-live", action="store_true", help="live mode sends real orders: say so")
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("kite-replica", help="the loopback Kite replica (REST + ticker) playing a market, for demos")
    rep.add_argument("--port", type=int, default=8765, help="REST port (the ticker listens on port + 1)")
    rep.add_argument("--speed", type=float, default=60.0, help="market seconds per second")
    rep.add_argument("--data", action="append", metavar="FILE", help="bar files to play (default: the demo data)")
    rep.add_argument("--seconds", type=float, default=0.0, help="stop after this many seconds (0: until interrupted)")
    rep.set_defaults(func=cmd_kite_replica)


# ------------------------------------------------------------------------------------ kite-replica

def cmd_kite_replica(args: argparse.Namespace) -> int:
    from core.automation.demo import DEMO_PLAY_FROM, demo_files
    from core.kite_replica.demo import serve

    files = [Path(f) for f in args.data] if args.data else demo_files()
    replica, ticker, player = serve(args.port, files, speed=args.speed,
                                    play_from=None if args.data else DEMO_PLAY_FROM)
    print(f"kite replica: REST {replica.root}  ticker {ticker.root}  api_key {replica.api_key}  "
          f"api_secret {replica.api_secret}  (demo credentials)", flush=True)
    print(f"  atw run --mode paper --kite-root {replica.root} --clock feed --api-key {replica.api_key} "
          "--arm DEMO_TREND:ema_cross", flush=True)
    stop = _stop_on_signals()
    end = time.monotonic() + args.seconds if args.seconds else None
    while not stop.wait(0.5):
        if end is not None and time.monotonic() >= end:
            break
    player.stop()
    ticker.stop()
    replica.stop()
    print(f"kite replica: played {player.played:,} trades", flush=True)
    return 0


# ------------------------------------------------------------------------------------ run

def cmd_run(args: argparse.Namespace) -> int:
    from kiteconnect import KiteConnect

    from core.automation.broker_watch import BrokerWatch
    from core.automation.live import open_live_session, run_live
    from core.automation.replay import parse_arms
    from core.automation.schedule import CutoffScheduler
    from core.cli import parse_sets
    from core.execution.kite_broker import KiteBroker
    from core.execution.kite_gateway import KiteGateway
    from core.execution.kite_instruments import cached_dump, tokens_for, with_kite_terms
    from core.execution.paper import PaperBroker
    from core.market.feeds.kite import KiteFeed, Subscription
    from core.market.instruments import default_master
    from core.strategies import REGISTRY, create

    if args.mode == "live" and not args.confirm_live:
        raise ConfigError("live mode sends real orders to your Zerodha account: add --confirm-live", where="--mode")
    if args.clock == "feed" and not args.kite_root:
        raise ConfigError("--clock feed follows a replayed day's ticks: only with --kite-root (a real account "
                          "trades on the wall clock)", where="--clock")
    if not args.api_key:
        raise ConfigError("no Kite API key: --api-key or $ATW_KITE_API_KEY", where="--api-key")
    home = atw_home()
    arms = parse_arms(args.arm, REGISTRY)
    names = sorted({name for _, name in arms})
    sets = parse_sets(args.set, names)
    if args.mode == "canary":  # each pair trades at most the canary quantity
        for name in names:
            qty = int(sets[name].get("qty", create(name).trade.qty))
            sets[name]["qty"] = str(min(qty, args.canary_qty))
    strategies = [create(name, **sets[name]) for name in names]

    kite = KiteConnect(args.api_key, root=args.kite_root)
    token = _session_token(kite, args)
    gateway = KiteGateway(kite)
    now = dt.datetime.now(IST)
    symbols = sorted({s for s, _ in arms})
    rows = tokens_for(cached_dump(gateway, "NSE", home / "cache", now), symbols, "NSE")
    master = with_kite_terms(default_master(), rows)
    real_orders = args.mode in ("canary", "live")
    broker: Any = KiteBroker(gateway, master) if real_orders else PaperBroker(master)
    subs = [Subscription(int(r["instrument_token"]), s, float(r["tick_size"])) for s, r in rows.items()]
    ws_root = args.kite_ws_root or (_replica_ws_root(args.kite_root) if args.kite_root else None)
    feed = KiteFeed(args.api_key, token, subs, root=ws_root,
                    on_order_update=broker.on_postback if real_orders else None)
    first = None
    if args.clock == "feed":  # the replayed day's clock starts at its first tick
        feed.start()
        first = next((t for t in feed.events(0.5) if t is not None), None)
        if first is None:
            raise ConfigError("the replica's ticker sent nothing", where="--kite-root")
    clock: MarketClock = SimClock(first.time - dt.timedelta(seconds=1)) if first is not None else LiveClock()
    warm = _warmup(gateway, rows, home, first.time if first is not None else now)
    limits = None
    if real_orders:  # the paper RMS keeps the account's own margin, not a made-up capital
        from decimal import Decimal

        from core.risk.limits import RiskLimits

        limits = RiskLimits(capital=Decimal(str(gateway.margins()["equity"]["net"])))
    session = open_live_session(args.mode, broker, feed, strategies, arms, clock=clock, home=home, master=master,
                                warmup=warm, limits=limits)
    engine = session.engine
    if first is not None:
        engine.handle(first)
    watch = BrokerWatch(engine, broker) if real_orders else None
    cutoff = CutoffScheduler(clock, engine.post) if isinstance(clock, LiveClock) else None
    if cutoff is not None:
        cutoff.start()
    stop = _stop_on_signals()
    until = _until(args.until, clock)
    if first is None:
        feed.start()
    print(f"atw run: {args.mode} on Kite, {len(arms)} pair(s) armed, journal {home / 'journal'}; Ctrl-C stops",
          flush=True)
    try:
        run_live(session, stop=lambda: stop.is_set() or until(), watch=watch)
    finally:
        if cutoff is not None:
            cutoff.shutdown()
    for alert in engine.alerts:
        print(f"  {alert.level}: {alert.text}", file=sys.stderr)
    print(f"atw run: stopped; state {engine.risk.state.value}; realised today {engine.day_realised} points x qty",
          flush=True)
    return 0


def _warmup(gateway: Any, rows: dict[str, Any], home: Path, until: dt.datetime, sessions: int = 2) -> list[Any]:
    """The armed instruments' minute bars of the last ``sessions`` sessions and of today up to
    ``until`` (Kite's historical candles, through the local store): indicators start warm."""
    from core.clock import nse_calendar
    from core.market.kite_history import CandleStore

    store = CandleStore(gateway, home / "cache" / "history")
    day = until.astimezone(IST).date()
    start = day
    for _ in range(sessions):
        start = nse_calendar().previous_trading_day(start)
    bars = [b for symbol, row in rows.items()
            for b in store.bars(symbol, int(row["instrument_token"]), start, day, today=day) if b.end <= until]
    return sorted(bars, key=lambda b: (b.start, b.symbol))


def _session_token(kite: Any, args: argparse.Namespace) -> str:
    """Today's access token from the keyring, or a new login (browser redirect, or pasted)."""
    from core.execution.kite_session import (
        RequestTokenCatcher,
        TokenStore,
        login_url,
        open_session,
        request_token_from,
    )

    store = TokenStore(args.api_key)
    now = dt.datetime.now(IST)
    stored = store.session(now)
    if stored is not None:
        kite.set_access_token(stored.access_token)
        return stored.access_token
    if not store.secret():
        secret = os.environ.get("ATW_KITE_API_SECRET")
        if not secret:
            raise ConfigError("no Kite API secret in the keyring: set $ATW_KITE_API_SECRET once (it is moved "
                              "to the keyring)", where="keyring")
        store.save_secret(secret)
    catcher = RequestTokenCatcher(port=args.redirect_port)
    if args.kite_root:  # the replica's login page redirects at once: no browser needed
        import requests

        url = f"{args.kite_root}/connect/login?api_key={args.api_key}&v=3&redirect_url={catcher.url}"
        requests.get(url, timeout=10, proxies={"http": None, "https": None})
        request_token = catcher.wait(30)
    else:
        url = login_url(args.api_key)
        print(f"atw run: log in to Kite: {url}\n  (redirect URL {catcher.url}; or paste the address you were "
              "sent to and press Enter)", flush=True)
        webbrowser.open(url)
        request_token = _first_of(catcher.wait, lambda: request_token_from(sys.stdin.readline()))
    return open_session(kite, store, request_token, now).access_token


def _first_of(*sources: Callable[[], str]) -> str:
    """The first answer of several blocking sources (the redirect, the terminal)."""
    done = threading.Event()
    answers: list[str] = []
    errors: list[Exception] = []

    def take(source: Callable[[], str]) -> None:
        try:
            answers.append(source())
        except Exception as exc:  # noqa: BLE001 - the other source may still answer
            errors.append(exc)
        done.set()

    for source in sources:
        threading.Thread(target=take, args=(source,), daemon=True).start()
    while not answers and len(errors) < len(sources):
        done.wait(0.2)
        done.clear()
    if answers:
        return answers[0]
    raise errors[0]


def _replica_ws_root(rest_root: str) -> str:
    host, _, port = rest_root.removeprefix("http://").rstrip("/").rpartition(":")
    return f"ws://{host}:{int(port) + 1}"


def _until(text: str | None, clock: MarketClock) -> Callable[[], bool]:
    if not text:
        return lambda: False
    try:
        at = dt.time.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"expected HH:MM, got {text!r}", where="--until") from None
    return lambda: clock.now().astimezone(IST).time() >= at


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    return stop
