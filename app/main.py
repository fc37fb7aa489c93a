"""``atw``: the desktop workstation with no command, the command line (``core.cli``) with one.

    atw                                   open the workstation on its embedded demo
    atw --speed 300 --theme light         the same, faster, in the light theme
    atw --screenshot FILE [--tab desk|simulator|ledger|journal] [--after SECONDS]
                                          play the demo, render the window at 1600x1000 to PNG, exit
    atw --mode paper|shadow|canary|live --api-key KEY --arm SYMBOL:STRATEGY ...
                                          the workstation on a Zerodha Kite session (login first;
                                          live asks you to type LIVE)
    atw sim|replay|ledger|journal|...     the command line (``atw --help``)

The embedded demo is a replay-paper session on the bundled demo data
(:mod:`core.automation.demo`): no account and no configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

DESKTOP_FLAGS = ("--screenshot", "--tab", "--after", "--speed", "--theme", "--size", "--mode", "--api-key",
                 "--kite-root", "--clock", "--arm", "--set", "--canary-qty")
KITE_MODES = ("paper", "shadow", "canary", "live")
SNAPSHOT_HZ = 15.0


def _desktop_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="atw", description="Autotrade Workstation: the desktop on its embedded demo")
    p.add_argument("--screenshot", metavar="FILE", help="render the window to this PNG after --after seconds, exit")
    p.add_argument("--tab", default="desk", choices=("desk", "simulator", "ledger", "journal"))
    p.add_argument("--after", type=float, default=20.0, metavar="SECONDS", help="play this long before the shot")
    p.add_argument("--speed", default="60", help="replay speed: times real time, or max (default 60)")
    p.add_argument("--theme", choices=("dark", "light"), help="override the saved theme")
    p.add_argument("--size", default="1600x1000", help="window size for --screenshot (default 1600x1000)")
    kite = p.add_argument_group("a session on Zerodha Kite (instead of the demo)")
    kite.add_argument("--mode", choices=("replay", *KITE_MODES), default="replay",
                      help="replay: the demo; paper: Kite's data, paper fills; shadow: no orders; canary: real "
                           "orders, capped quantity; live: real orders (asks you to confirm)")
    kite.add_argument("--api-key", default=os.environ.get("ATW_KITE_API_KEY"), help="the Kite Connect app's key")
    kite.add_argument("--arm", action="append", default=[], metavar="SYMBOL:STRATEGY")
    kite.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    kite.add_argument("--canary-qty", type=int, default=1)
    kite.add_argument("--kite-root", help="the loopback replica's REST root (demos)")
    kite.add_argument("--clock", choices=("wall", "feed"), default="wall", help="feed: a replayed day (replica)")
    return p


def is_desktop(argv: Sequence[str]) -> bool:
    return not argv or argv[0].split("=")[0] in DESKTOP_FLAGS


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not is_desktop(args):
        from core.cli import main as cli_main

        return cli_main(args)
    return run_desktop(_desktop_parser().parse_args(args))


def _speed(text: str) -> float | None:
    if text.strip().lower() == "max":
        return None
    value = float(text)
    if not value > 0:
        raise SystemExit(f"atw: error: --speed must be positive or max, not {text!r}")
    return value


def confirm_live(parent: object = None) -> bool:
    """Live mode sends real orders: the trader types LIVE to go on."""
    from PySide6.QtWidgets import QInputDialog

    text, ok = QInputDialog.getText(parent, "Live trading",  # type: ignore[arg-type]
                                    "LIVE mode sends REAL orders to your Zerodha account.\n"
                                    "Type LIVE to go on:")
    return bool(ok) and text.strip() == "LIVE"


def kite_window(args: argparse.Namespace, settings: object, on_close: object) -> tuple[object, object] | None:
    """A window on a Kite session (login first; live asks to confirm); None when the trader declined
    or the session could not start (said on stderr)."""
    from kiteconnect import KiteConnect

    from app.service import AutomationService
    from app.widgets.login_dialog import ask_in_dialog
    from app.windows.main_window import MainWindow
    from core.automation.kite_host import KiteSettings
    from core.automation.replay import parse_arms
    from core.cli import parse_sets
    from core.errors import AtwError
    from core.paths import atw_home
    from core.strategies import REGISTRY

    try:
        if args.mode == "live" and not confirm_live():
            print("atw: live mode not confirmed", file=sys.stderr)
            return None
        arms = parse_arms(args.arm, REGISTRY)
        if not arms:
            raise AtwError("name the pairs to arm: --arm SYMBOL:STRATEGY", where="--arm")
        kite_settings = KiteSettings(args.mode, args.api_key or "", arms,
                                     parse_sets(args.set, sorted({n for _, n in arms})), kite_root=args.kite_root,
                                     clock=args.clock, canary_qty=args.canary_qty, home=atw_home())
        kite_settings.check()
        from core.execution.kite_session import session_token

        token = session_token(KiteConnect(kite_settings.api_key, root=args.kite_root), kite_settings.api_key,
                              ask=ask_in_dialog(), kite_root=args.kite_root)
    except AtwError as exc:
        print(f"atw: error: {exc}", file=sys.stderr)
        return None
    service = AutomationService(kite_builder(kite_settings, token))  # type: ignore[arg-type]
    symbols = sorted({s for s, _ in arms})
    shown: list[MainWindow] = []

    def relogin() -> str:  # Kite refused the token mid-session: a new login, from the window
        return session_token(KiteConnect(kite_settings.api_key, root=args.kite_root), kite_settings.api_key,
                             ask=ask_in_dialog(shown[0] if shown else None), kite_root=args.kite_root, again=True)

    window = MainWindow(service, list(arms), args.mode, symbols=symbols,  # type: ignore[arg-type]
                        journal_dir=kite_settings.home / "journal", settings=settings, replay=False,
                        on_close=on_close, relogin=relogin)  # type: ignore[arg-type]
    shown.append(window)
    return service, window


def kite_builder(settings: object, token: str) -> Callable[..., object]:
    """Build the Kite session on the service's thread (the engine must live there)."""
    from app.service import Hosted
    from core.automation.kite_host import build_kite_host
    from core.automation.live import live_events
    from core.automation.market_tape import MarketTape

    def build(publish: Callable[..., None]) -> Hosted:
        host = build_kite_host(settings, token, on_snapshot=publish, tape=MarketTape(),  # type: ignore[arg-type]
                               snapshot_hz=SNAPSHOT_HZ)
        return Hosted(host.session.engine, live_events(host.session, watch=host.watch), host.close,
                      renew=host.renew)

    return build


def demo_builder(run: tuple[str, Path], speed: float | None) -> Callable[..., object]:
    """Build the demo session on the service's thread (the engine must live there)."""
    from app.service import Hosted
    from core.automation.demo import open_demo_session
    from core.automation.market_tape import MarketTape

    def build(publish: Callable[..., None]) -> Hosted:
        session = open_demo_session(speed=speed, tape=MarketTape(), on_snapshot=publish,
                                    snapshot_hz=SNAPSHOT_HZ, run=run)
        return Hosted(session.engine, session.feed.events(), session.close, feed=session.feed)

    return build


def run_desktop(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.runtime import desktop_runtime
    from app.service import AutomationService
    from app.windows.main_window import TABS, MainWindow
    from core.automation.demo import demo_files, demo_strategy_names
    from core.automation.replay import next_run_dir
    from core.paths import atw_home

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Autotrade Workstation")
    settings = None
    if args.screenshot:  # a shot is made from the defaults, never from this user's saved layout
        settings = QSettings(str(Path(tempfile.mkdtemp()) / "shot.ini"), QSettings.Format.IniFormat)
    on_close = (lambda _held: "leave") if args.screenshot else None
    if args.mode == "replay":
        symbols = [f.stem for f in demo_files()]
        pairs = [(s, name) for s in symbols for name in demo_strategy_names()]
        run = next_run_dir(atw_home())
        service = AutomationService(demo_builder(run, _speed(args.speed)))  # type: ignore[arg-type]
        window = MainWindow(service, pairs, "replay", symbols=symbols, journal_dir=run[1] / "journal",
                            settings=settings, replay=True, on_close=on_close)
    else:
        started = kite_window(args, settings, on_close)
        if started is None:
            return 1
        service, window = started
    if args.theme:
        window.set_theme(args.theme)
    if args.speed and args.mode == "replay":
        window.speed.blockSignals(True)
        window.speed.setCurrentText(f"{args.speed}x" if args.speed != "max" else "max")
        window.speed.blockSignals(False)
    window.tabs.setCurrentIndex(TABS.index(args.tab))
    if args.screenshot:
        width, _, height = args.size.partition("x")
        window.resize(int(width), int(height))
        if args.tab == "simulator":
            window.simulator.start_run()  # the tab shows a real run, not an empty form
    desktop_runtime(app, busy=lambda: not window.steps.idle)
    window.show()
    service.start()
    code = 0
    if args.screenshot:
        out = Path(args.screenshot)

        def shoot() -> None:
            window.ledger.refresh()
            if args.tab == "journal":  # show a whole trade's trace, as a trader clicking a fill would
                fills = [r for r in window.journal.shown_rows() if r.type == "fill" and r.trace_id]
                if fills:
                    window.journal.show_trace(fills[-1])
            QTimer.singleShot(1500, lambda: _save(window, out))

        def _save(w: MainWindow, path: Path) -> None:
            nonlocal code
            path.parent.mkdir(parents=True, exist_ok=True)
            if not w.grab().save(str(path)):
                print(f"atw: error: could not write {path}", file=sys.stderr)
                code = 1
            else:
                print(f"wrote {path}")
            w.close()

        QTimer.singleShot(int(args.after * 1000), shoot)
    app.exec()
    if service.isRunning():
        service.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
