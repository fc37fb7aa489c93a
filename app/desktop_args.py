"""The desktop's arguments (``atw [--mode ...]``): the command line and the Session menu's mode
switch describe a session with the same parser, so both are checked the same way."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from core.automation.run_cli import add_order_terms

DESKTOP_FLAGS = ("--screenshot", "--tab", "--after", "--speed", "--theme", "--size", "--mode", "--api-key",
                 "--kite-root", "--clock", "--arm", "--set", "--canary-qty", "--product", "--algo-id")
KITE_MODES = ("paper", "shadow", "canary", "live")
MODES = ("replay", *KITE_MODES)


def desktop_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="atw", description="Autotrade Workstation: the desktop on its embedded demo")
    p.add_argument("--screenshot", metavar="FILE", help="render the window to this PNG after --after seconds, exit")
    p.add_argument("--tab", default="desk", choices=("desk", "simulator", "ledger", "journal"))
    p.add_argument("--after", type=float, default=20.0, metavar="SECONDS", help="play this long before the shot")
    p.add_argument("--speed", default="60", help="replay speed: times real time, or max (default 60)")
    p.add_argument("--theme", choices=("dark", "light"), help="override the saved theme")
    p.add_argument("--size", default="1600x1000", help="window size for --screenshot (default 1600x1000)")
    kite = p.add_argument_group("a session on Zerodha Kite (instead of the demo)")
    kite.add_argument("--mode", choices=MODES, default="replay",
                      help="replay: the demo; paper: Kite's data, paper fills; shadow: no orders; canary: real "
                           "orders, capped quantity; live: real orders (asks you to confirm)")
    kite.add_argument("--api-key", default=os.environ.get("ATW_KITE_API_KEY"), help="the Kite Connect app's key")
    kite.add_argument("--arm", action="append", default=[], metavar="SYMBOL:STRATEGY")
    kite.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    kite.add_argument("--canary-qty", type=int, default=1)
    kite.add_argument("--kite-root", help="the loopback replica's REST root (demos)")
    kite.add_argument("--clock", choices=("wall", "feed"), default="wall", help="feed: a replayed day (replica)")
    add_order_terms(kite)
    return p


def session_argv(args: argparse.Namespace) -> list[str]:
    """The arguments that describe ``args``'s session (not the window's: theme, screenshot)."""
    argv = ["--mode", args.mode, "--speed", str(args.speed)]
    if args.mode == "replay":
        return argv
    argv += ["--api-key", args.api_key or "", "--canary-qty", str(args.canary_qty), "--clock", args.clock,
             "--product", args.product]
    if args.algo_id:
        argv += ["--algo-id", args.algo_id]
    if args.kite_root:
        argv += ["--kite-root", args.kite_root]
    for pair in args.arm:
        argv += ["--arm", pair]
    for setting in args.set:
        argv += ["--set", setting]
    return argv


def is_desktop(argv: Sequence[str]) -> bool:
    return not argv or argv[0].split("=")[0] in DESKTOP_FLAGS
