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

from core.clock import IST, MarketClock
from core.errors import ConfigError
from core.paths import atw_home

MODES = ("paper", "shadow", "canary", "live")
REPLICA_KEY = "atwreplica"


def add_order_terms(parser: Any) -> None:
    """``--product`` and ``--algo-id``: the terms every real order carries (``atw run`` and the desktop)."""
    parser.add_argument("--product", choices=("MIS", "NRML", "CNC"), default="MIS",
                        help="Kite product: MIS intraday (default), NRML F&O carry, CNC delivery")
    parser.add_argument("--algo-id", default=os.environ.get("ATW_KITE_ALGO_ID"),
                        help="the exchange-issued algo id sent with every order (default: $ATW_KITE_ALGO_ID)")


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
    add_order_terms(run)
    run.add_argument("--risk", action="append", default=[], metavar="KEY=VALUE",
                     help="a risk setting over config.toml's [risk] (docs/risk.md)")
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

    from core.automation.kite_host import KiteSettings, build_kite_host
    from core.automation.live import run_live
    from core.automation.replay import parse_arms
    from core.cli import parse_sets
    from core.strategies import REGISTRY

    if args.mode == "live" and not args.confirm_live:
        raise ConfigError("live mode sends real orders to your Zerodha account: add --confirm-live", where="--mode")
    arms = parse_arms(args.arm, REGISTRY)
    settings = KiteSettings(args.mode, args.api_key or "", arms, parse_sets(args.set, sorted({n for _, n in arms})),
                            kite_root=args.kite_root, ws_root=args.kite_ws_root, clock=args.clock,
                            canary_qty=args.canary_qty, home=atw_home(), product=args.product,
                            algo_id=args.algo_id, risk=tuple(args.risk))
    settings.check()
    token = _session_token(KiteConnect(settings.api_key, root=args.kite_root), args)
    host = build_kite_host(settings, token)
    engine = host.session.engine
    stop = _stop_on_signals()
    until = _until(args.until, engine.clock)
    print(f"atw run: {args.mode} on Kite, {len(arms)} pair(s) armed, journal {settings.home / 'journal'}; "
          "Ctrl-C stops", flush=True)
    try:
        run_live(host.session, stop=lambda: stop.is_set() or until(), watch=host.watch)
    finally:
        if host.cutoff is not None:
            host.cutoff.shutdown()
    for alert in engine.alerts:
        print(f"  {alert.level}: {alert.text}", file=sys.stderr)
    print(f"atw run: stopped; state {engine.risk.state.value}; realised today {engine.day_realised} points x qty",
          flush=True)
    return 0


def _session_token(kite: Any, args: argparse.Namespace) -> str:
    """Today's access token from the keyring, or a new login (browser redirect, or pasted)."""
    from core.execution.kite_session import RequestTokenCatcher, request_token_from, session_token

    def ask(url: str, catcher: RequestTokenCatcher) -> str:
        print(f"atw run: log in to Kite: {url}\n  (redirect URL {catcher.url}; or paste the address you were "
              "sent to and press Enter)", flush=True)
        webbrowser.open(url)
        return _first_of(catcher.wait, lambda: request_token_from(sys.stdin.readline()))

    return session_token(kite, args.api_key, ask=ask, kite_root=args.kite_root, redirect_port=args.redirect_port)


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
