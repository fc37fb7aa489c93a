"""The workstation's sessions: the embedded demo or a Zerodha Kite session, each an automation
service with its window, and the switch from one mode to another inside the running application.

A session is described by the desktop's own arguments (``atw --mode ... --arm ...``), so the
command line and the Session menu's mode switch take one path:

- :func:`prepare_session` makes a session ready (for Kite: the settings are checked, live is
  confirmed by typing LIVE, the trader logs in) and returns what builds its service and window
  (the engine itself is built on the service's thread when it starts).
- :class:`Workstation` keeps the session on screen and switches it: the new session is made ready
  first while the old one runs on; then the old window closes the way a close always does (open
  positions: flatten, leave them with their stops, or cancel the switch; its layout and watch
  list saved), and only then is the new window built (from what the old one saved) and started.
  A failed or declined switch leaves the old session running.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from app.service import AutomationService, Hosted
from app.windows.main_window import MainWindow
from core.errors import AtwError

SNAPSHOT_HZ = 15.0

Confirm = Callable[[QWidget | None], bool]
OnClose = Callable[[list[str]], str] | None


def confirm_live(parent: QWidget | None = None) -> bool:
    """Live mode sends real orders: the trader types LIVE to go on."""
    from PySide6.QtWidgets import QInputDialog

    text, ok = QInputDialog.getText(parent, "Live trading",  # type: ignore[arg-type]
                                    "LIVE mode sends REAL orders to your Zerodha account.\n"
                                    "Type LIVE to go on:")
    return bool(ok) and text.strip() == "LIVE"


def speed_of(text: str) -> float | None:
    """A replay speed: times real time, or None for ``max``."""
    if text.strip().lower() == "max":
        return None
    value = float(text)
    if not value > 0:
        raise AtwError(f"--speed must be positive or max, not {text!r}", where="--speed")
    return value


Opened = tuple[AutomationService, MainWindow]
Build = Callable[[], Opened]


def prepare_session(args: argparse.Namespace, settings: QSettings | None, on_close: OnClose, *,
                    confirm: Confirm = confirm_live, parent: QWidget | None = None) -> Build | None:
    """Make the session ``args`` describes ready to open: checked, live confirmed, logged in.
    What builds its service and window (not started), or None when live was not confirmed.
    Raises :class:`AtwError` when the session cannot start (bad settings, a failed login)."""
    if args.mode == "replay":
        return lambda: open_demo(args, settings, on_close)
    return prepare_kite(args, settings, on_close, confirm=confirm, parent=parent)


def open_demo(args: argparse.Namespace, settings: QSettings | None, on_close: OnClose) -> Opened:
    """The embedded demo: a replay-paper session on the bundled demo data."""
    from core.automation.demo import demo_files, demo_strategy_names
    from core.automation.replay import next_run_dir
    from core.paths import atw_home

    symbols = [f.stem for f in demo_files()]
    pairs = [(s, name) for s in symbols for name in demo_strategy_names()]
    run = next_run_dir(atw_home())
    service = AutomationService(demo_builder(run, speed_of(args.speed)))
    window = MainWindow(service, pairs, "replay", symbols=symbols, journal_dir=run[1] / "journal",
                        settings=settings, replay=True, on_close=on_close)
    window.speed.blockSignals(True)
    window.speed.setCurrentText(f"{args.speed}x" if args.speed != "max" else "max")
    window.speed.blockSignals(False)
    return service, window


def prepare_kite(args: argparse.Namespace, settings: QSettings | None, on_close: OnClose, *,
                 confirm: Confirm = confirm_live, parent: QWidget | None = None) -> Build | None:
    """A Kite session made ready (checked, live confirmed, logged in); what builds its window, or
    None when live was declined."""
    from kiteconnect import KiteConnect

    from app.widgets.login_dialog import ask_in_dialog
    from core.automation.kite_host import KiteSettings
    from core.automation.replay import parse_arms
    from core.cli import parse_sets
    from core.execution.kite_session import session_token
    from core.paths import atw_home
    from core.strategies import REGISTRY

    arms = parse_arms(args.arm, REGISTRY)
    if not arms:
        raise AtwError("name the pairs to arm: --arm SYMBOL:STRATEGY", where="--arm")
    kite_settings = KiteSettings(args.mode, args.api_key or "", arms,
                                 parse_sets(args.set, sorted({n for _, n in arms})), kite_root=args.kite_root,
                                 clock=args.clock, canary_qty=args.canary_qty, home=atw_home(),
                                 product=args.product, algo_id=args.algo_id)
    kite_settings.check()
    if args.mode == "live" and not confirm(parent):
        return None
    token = session_token(KiteConnect(kite_settings.api_key, root=args.kite_root), kite_settings.api_key,
                          ask=ask_in_dialog(parent), kite_root=args.kite_root)

    def build() -> Opened:
        service = AutomationService(kite_builder(kite_settings, token))
        shown: list[MainWindow] = []

        def relogin() -> str:  # Kite refused the token mid-session: a new login, from the window
            return session_token(KiteConnect(kite_settings.api_key, root=args.kite_root), kite_settings.api_key,
                                 ask=ask_in_dialog(shown[0] if shown else None), kite_root=args.kite_root,
                                 again=True)

        window = MainWindow(service, list(arms), args.mode, symbols=sorted({s for s, _ in arms}),
                            journal_dir=kite_settings.home / "journal", settings=settings, replay=False,
                            on_close=on_close, relogin=relogin)
        shown.append(window)
        return service, window

    return build


def kite_builder(settings: Any, token: str) -> Callable[[Callable[..., None]], Hosted]:
    """Build the Kite session on the service's thread (the engine must live there)."""
    from core.automation.kite_host import build_kite_host
    from core.automation.live import live_events
    from core.automation.market_tape import MarketTape

    def build(publish: Callable[..., None]) -> Hosted:
        host = build_kite_host(settings, token, on_snapshot=publish, tape=MarketTape(), snapshot_hz=SNAPSHOT_HZ)
        return Hosted(host.session.engine, live_events(host.session, watch=host.watch), host.close,
                      renew=host.renew, watch=host.watch_symbols)

    return build


def demo_builder(run: tuple[str, Path], speed: float | None) -> Callable[[Callable[..., None]], Hosted]:
    """Build the demo session on the service's thread (the engine must live there)."""
    from core.automation.demo import open_demo_session
    from core.automation.market_tape import MarketTape

    def build(publish: Callable[..., None]) -> Hosted:
        session = open_demo_session(speed=speed, tape=MarketTape(), on_snapshot=publish,
                                    snapshot_hz=SNAPSHOT_HZ, run=run)
        return Hosted(session.engine, session.feed.events(), session.close, feed=session.feed)

    return build


class Workstation:
    """The session on screen, and the switch to another (see the module docstring)."""

    def __init__(self, settings: QSettings | None, on_close: OnClose = None, *, theme: str | None = None,
                 confirm: Confirm = confirm_live) -> None:
        self.settings, self.on_close, self.theme, self.confirm = settings, on_close, theme, confirm
        self.args: argparse.Namespace | None = None
        self.service: AutomationService | None = None
        self.window: MainWindow | None = None
        self.switches = 0

    def open(self, args: argparse.Namespace) -> bool:
        """Open the first session (not shown yet: :meth:`start`); False when live was declined."""
        build = prepare_session(args, self.settings, self.on_close, confirm=self.confirm)
        if build is None:
            return False
        self._adopt(args, *build())
        return True

    def start(self) -> None:
        assert self.window is not None and self.service is not None
        self.window.show()
        self.service.start()

    def switch(self, args: argparse.Namespace) -> str:
        """Switch to the session ``args`` describes: "" when done, else why not (the old
        session then runs on)."""
        old_window, old_service = self.window, self.service
        assert old_window is not None and old_service is not None
        try:
            build = prepare_session(args, self.settings, self.on_close, confirm=self.confirm, parent=old_window)
        except AtwError as exc:
            return str(exc)
        if build is None:
            return "live mode was not confirmed"
        app = QApplication.instance()
        quits = isinstance(app, QApplication) and app.quitOnLastWindowClosed()
        if isinstance(app, QApplication):
            app.setQuitOnLastWindowClosed(False)  # between the old window and the new one
        try:
            old_window.close()  # asks what to do with open positions, as any close does
            if old_window.isVisible():
                return "the switch was cancelled: the session runs on"
            old_service.wait(10_000)
            old_window.deleteLater()
            self._adopt(args, *build())
            self.switches += 1
            self.start()
        finally:
            if isinstance(app, QApplication):
                app.setQuitOnLastWindowClosed(quits)
        return ""

    def stop(self) -> None:
        if self.service is not None and self.service.isRunning():
            self.service.stop()

    def _adopt(self, args: argparse.Namespace, service: AutomationService, window: MainWindow) -> None:
        self.args, self.service, self.window = args, service, window
        window.switch_to = self.switch
        window.session_args = args
        if self.theme:
            window.set_theme(self.theme)
