"""The workstation on the loopback Kite replica, in a process of its own (Twisted's reactor runs
once per process).

    python tests/gui/kite_window_child.py PORT relogin|switch

Runs with ``QT_QPA_PLATFORM=offscreen`` and an in-memory keyring (the parent sets them). The
replica plays the demo market in this process, so the scenario can end its sessions.

``relogin``: a canary window, logged in. Once ticks flow, every access token is revoked at the
replica and the ticker's sockets dropped: the ticker's reconnects are refused (403), the engine
holds entries with "log in again", the window shows its Log in button and logs in by itself (the
replica's login page redirects at once), the new token reaches the session on the engine's
thread, and trading goes on; an instrument then added to the market watch is streamed too.

``switch``: the workstation opens on the embedded demo (replay) and switches, as the Session
menu does, to canary on the replica: the demo session ends cleanly and the new window trades
Kite's data through the real client; every instrument of its market watch is streamed, armed or
not.

Prints one JSON object with what was seen.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.desktop_args import desktop_parser  # noqa: E402
from app.sessions import Workstation, prepare_kite  # noqa: E402
from core.automation.broker_watch import SESSION_ENDED  # noqa: E402
from core.automation.demo import DEMO_PLAY_FROM, demo_files  # noqa: E402
from core.automation.snapshot import Snapshot  # noqa: E402
from core.kite_replica.demo import serve  # noqa: E402


def wait_for(app: QApplication, predicate, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return False


def main() -> None:
    port, scenario = int(sys.argv[1]), sys.argv[2]
    replica, ticker, player = serve(port, demo_files(), speed=120, play_from=DEMO_PLAY_FROM)
    app = QApplication(sys.argv[:1])
    canary = desktop_parser().parse_args([
        "--mode", "canary", "--api-key", replica.api_key, "--kite-root", replica.root, "--clock", "feed",
        "--arm", "DEMO_TREND:ema_cross", "--set", "qty=50", "--set", "stop=1.5atr"])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "w.ini"), QSettings.Format.IniFormat)
    try:
        out = relogin(app, canary, settings, replica, ticker) if scenario == "relogin" else switch(app, canary, settings)
    finally:
        player.stop()
        ticker.stop()
        replica.stop()
    print(json.dumps(out), flush=True)


def switch(app: QApplication, canary, settings: QSettings) -> dict[str, object]:  # type: ignore[no-untyped-def]
    desk = Workstation(settings, lambda _held: "flatten")
    assert desk.open(desktop_parser().parse_args(["--speed", "max"]))
    demo_service = desk.service
    assert demo_service is not None
    demo: list[Snapshot] = []
    demo_service.snapshot.connect(demo.append)
    desk.start()
    out: dict[str, object] = {"demo_ticking": wait_for(app, lambda: bool(demo), 30)}
    out["why_not"] = desk.switch(canary)
    out["demo_finished_cleanly"] = demo_service.isFinished() and demo_service.finished_cleanly
    window, service = desk.window, desk.service
    assert window is not None and service is not None
    snaps: list[Snapshot] = []
    service.snapshot.connect(snaps.append)
    quoted: set[str] = set()
    service.market.connect(lambda update: quoted.update(q.symbol for q in update.quotes))
    try:
        out["kite_ticking"] = wait_for(app, lambda: bool(snaps) and snaps[-1].last_tick_at is not None, 60)
        out["watched"] = window.desk.watch.watched()  # the demo's watch list, saved when its window closed
        out["all_watched_streamed"] = wait_for(app, lambda: set(out["watched"]) <= quoted, 30)  # type: ignore[arg-type]
        out["mode"] = snaps[-1].mode if snaps else ""
        out["broker"] = snaps[-1].broker if snaps else ""
        out["title"] = window.windowTitle()
        out["badge"] = window.mode_badge.text().strip()
        out["switches"] = desk.switches
    finally:
        window.close()
        service.wait(10_000)
    return out


def relogin(app: QApplication, args, settings: QSettings, replica, ticker) -> dict[str, object]:  # type: ignore[no-untyped-def]
    build = prepare_kite(args, settings, lambda _held: "leave")
    assert build is not None
    service, window = build()
    snaps: list[Snapshot] = []
    service.snapshot.connect(snaps.append)
    window.show()
    service.start()
    out: dict[str, object] = {}
    try:
        out["ticking"] = wait_for(app, lambda: bool(snaps) and snaps[-1].last_tick_at is not None, 60)
        ticks_before = len([s for s in snaps if s.last_tick_at is not None])
        replica.expire_tokens()
        ticker.drop_connections()
        expired_at = len(snaps)
        out["held"] = wait_for(app, lambda: any(s.entry_hold == SESSION_ENDED for s in snaps[expired_at:]), 30)
        held = next((s for s in snaps[expired_at:] if s.entry_hold == SESSION_ENDED), None)
        out["held_state"] = held.state if held is not None else ""
        login = window.broker_login
        assert login is not None
        out["button_shown"] = wait_for(app, lambda: login.session_ended and login.button_action.isVisible(), 10)
        out["logged_out_label"] = window.broker_label.text()
        out["relogged"] = wait_for(app, lambda: login.logins >= 1, 30)
        renewed_at = len(snaps)
        out["released"] = wait_for(app, lambda: any(s.entry_hold == "" and s.state == "active"
                                                    for s in snaps[renewed_at:]), 30)
        last_tick = snaps[-1].last_tick_at
        out["ticks_after"] = wait_for(app, lambda: snaps[-1].last_tick_at is not None and last_tick is not None
                                      and snaps[-1].last_tick_at > last_tick, 30)
        out["button_hidden"] = wait_for(app, lambda: not login.button_action.isVisible(), 10)
        quoted: set[str] = set()
        service.market.connect(lambda update: quoted.update(q.symbol for q in update.quotes))
        out["quoted_before_watch"] = wait_for(app, lambda: "DEMO_TREND" in quoted, 30) and sorted(quoted)
        out["watch_added"] = window.desk.watch.add_symbol("DEMO_VOL")  # not armed: streamed because watched
        out["watched_streams"] = wait_for(app, lambda: "DEMO_VOL" in quoted, 30)
        out["alerts"] = [a.text for a in snaps[-1].alerts]
        out["ticks_before"] = ticks_before
    finally:
        window.close()
        service.wait(10_000)
    return out


if __name__ == "__main__":
    main()
