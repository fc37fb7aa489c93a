"""AutomationService: the engine on a QThread, commands in, snapshots out through Qt signals."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.service import AutomationService, Hosted
from core.automation.engine import Engine
from core.automation.events import Arm, Kill
from core.automation.market_tape import MarketTape, MarketUpdate
from core.automation.snapshot import Snapshot
from core.clock import SimClock
from core.execution.paper import PaperBroker
from core.journal.writer import JournalWriter
from core.market.bars import BarSeries
from core.market.feed import ReplayFeed
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.strategies import create
from tests.conftest import synthetic


def builder(home: Path, built_on: list[threading.Thread], speed: float | None = 3000,
            hz: float = 50.0) -> Callable[[Callable[[Snapshot], None]], Hosted]:
    """A replay-paper engine over two demo sessions, built on whichever thread calls it."""

    def build(publish: Callable[[Snapshot], None]) -> Hosted:
        built_on.append(threading.current_thread())
        s = synthetic("SYN", sessions=2, seed=31)
        series = [BarSeries("DEMO_TREND", s.frame, 1, s.source)]
        clock = SimClock(s.frame.index[0].to_pydatetime() - dt.timedelta(minutes=1))
        master = default_master()
        limits = RiskLimits()
        writer = JournalWriter(clock, "paper", home=home)
        engine = Engine(clock, PaperBroker(master), RiskEngine(limits, PaperRms(limits.capital, master), clock),
                        {"ema_cross": create("ema_cross")}, record=writer.append, master=master, mode="paper",
                        on_snapshot=publish, snapshot_hz=hz, tape=MarketTape())
        engine.standing_arms = [("DEMO_TREND", "ema_cross")] if speed is None else []
        feed = ReplayFeed(series, speed=speed)
        return Hosted(engine, iter(feed.events()), writer.close, feed=feed)  # 3000x: a bar every 20 ms

    return build


def both_days_played(snaps: list[Snapshot]) -> bool:
    """The replay went past its second day's cutoff (halted there, the next day later than the first)."""
    return bool(snaps) and snaps[-1].state == "halted" and snaps[-1].cutoff_in is not None \
        and snaps[-1].time.date() > snaps[0].time.date()


def test_arm_then_kill_through_the_service_reach_the_engine_and_come_back_as_snapshots(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    built_on: list[threading.Thread] = []
    service = AutomationService(builder(tmp_path, built_on), idle_ms=10)
    seen: list[Snapshot] = []
    service.snapshot.connect(seen.append)
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)  # the market is open and priced
        service.post(Arm("DEMO_TREND", "ema_cross"))
        qtbot.waitUntil(lambda: bool(seen[-1].slots) and seen[-1].slots[0].armed, timeout=30_000)
        qtbot.waitUntil(lambda: bool(seen[-1].positions), timeout=60_000)
        service.post(Kill("test"))
        qtbot.waitUntil(lambda: seen[-1].state == "halted" and not seen[-1].positions, timeout=30_000)
        assert seen[-1].halt_reason == "kill"
    finally:
        assert service.stop()
    assert built_on and built_on[0] is not threading.main_thread()  # the engine lives on the service's thread
    assert service.finished_cleanly
    assert all(isinstance(s, Snapshot) for s in seen)


def test_an_engine_error_reaches_the_ui_as_an_alert_and_the_thread_ends(qtbot) -> None:  # type: ignore[no-untyped-def]
    def broken(_publish: Callable[[Snapshot], None]) -> Hosted:
        raise RuntimeError("the instrument master is unreadable")

    service = AutomationService(broken)
    alerts: list[tuple[str, str]] = []
    service.alert.connect(lambda level, text: alerts.append((level, text)))
    with qtbot.waitSignal(service.finished, timeout=10_000):
        service.start()
    qtbot.waitUntil(lambda: bool(alerts), timeout=5_000)
    assert alerts[0][0] == "critical" and "instrument master is unreadable" in alerts[0][1]
    assert not service.finished_cleanly


def test_a_tick_storm_reaches_the_ui_as_a_bounded_rate_of_snapshots(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = AutomationService(builder(tmp_path, [], speed=None, hz=20.0), idle_ms=10)
    seen: list[Snapshot] = []
    service.snapshot.connect(seen.append)
    started = time.monotonic()
    service.start()
    try:
        qtbot.waitUntil(lambda: both_days_played(seen), timeout=60_000)
    finally:
        assert service.stop()
    elapsed = time.monotonic() - started
    assert len(seen) <= 20 * elapsed + 3, (len(seen), elapsed)  # ~7,500 events went through the engine
    assert any(s.positions for s in seen) or any(s.realised for s in seen)


def test_every_bar_and_fill_reaches_the_ui_once_in_order_with_its_snapshot(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = AutomationService(builder(tmp_path, [], speed=None, hz=20.0), idle_ms=10)
    updates: list[MarketUpdate] = []
    snaps: list[Snapshot] = []
    service.market.connect(updates.append)
    service.snapshot.connect(snaps.append)
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(snaps) and snaps[-1].state == "halted" and not snaps[-1].positions
                        and sum(len(u.bars) for u in updates) >= 2 * 375, timeout=60_000)
    finally:
        assert service.stop()
    bars = [b for u in updates for b in u.bars]
    expected = synthetic("SYN", sessions=2, seed=31).frame
    assert [b.start for b in bars] == list(expected.index)  # every closed bar once, in order
    assert [b.close for b in bars] == list(expected["close"])
    fills = [f for u in updates for f in u.fills]
    entries = [f for f in fills if f.purpose == "entry"]
    assert entries and len(fills) == len({(f.client_order_id, f.time, f.qty) for f in fills})
    assert sum(f.qty for f in fills if f.purpose == "exit") == sum(f.qty for f in entries)  # flat at the end
    assert len(updates) == len(snaps)  # one market update per snapshot


def test_pause_holds_the_replay_while_commands_still_apply_and_speed_changes(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = AutomationService(builder(tmp_path, [], speed=3000), idle_ms=10)
    snaps: list[Snapshot] = []
    service.snapshot.connect(snaps.append)
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(snaps), timeout=30_000)
        service.set_paused(True)
        qtbot.wait(300)
        held = snaps[-1].time
        qtbot.wait(500)
        assert snaps[-1].time == held  # no market time passes while paused
        service.post(Arm("DEMO_TREND", "ema_cross"))
        qtbot.waitUntil(lambda: bool(snaps[-1].slots) and snaps[-1].slots[0].armed, timeout=10_000)
        assert snaps[-1].time == held
        service.set_speed(None)  # then as fast as possible: the two sessions end quickly
        service.set_paused(False)
        qtbot.waitUntil(lambda: snaps[-1].state == "halted", timeout=30_000)
        assert snaps[-1].time > held
    finally:
        assert service.stop()


def test_a_ui_that_never_releases_its_turn_does_not_stop_the_automation(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = AutomationService(builder(tmp_path, [], speed=None, hz=20.0), idle_ms=10)
    snaps: list[Snapshot] = []
    service.snapshot.connect(snaps.append)
    service.snapshot.connect(lambda _snap: service.hold_for_ui())  # held on every update, never released
    service.start()
    try:
        qtbot.waitUntil(lambda: both_days_played(snaps), timeout=60_000)
    finally:
        assert service.stop()
    assert service.finished_cleanly



def test_the_engine_waits_for_a_ui_turn_within_both_caps() -> None:
    from app.service import UI_TURN_MAX_S, UI_UPDATE_MAX_S, ui_hold_deadline

    assert ui_hold_deadline(10.0, 10.0) == 10.0 + UI_TURN_MAX_S  # a fresh hold: one turn
    assert ui_hold_deadline(10.0, 10.1) == 10.1 + UI_TURN_MAX_S  # renewed by a later pass
    assert ui_hold_deadline(10.0, 10.19) == 10.0 + UI_UPDATE_MAX_S  # never past the update's cap


def time_between_events_while(service: AutomationService, ui: Callable[[threading.Event], None]) -> float:
    """How long the engine's thread waits between two events while ``ui`` runs on this thread."""
    waited: list[float] = []
    held = threading.Event()

    def engine_side() -> None:
        held.wait()
        start = time.monotonic()
        assert service._between_events(None, Hosted(None, iter(())))  # type: ignore[arg-type]
        waited.append(time.monotonic() - start)

    worker = threading.Thread(target=engine_side)
    worker.start()
    service.hold_for_ui()
    held.set()
    ui(worker)  # type: ignore[arg-type]
    worker.join(5.0)
    service.release_from_ui()
    return waited[0]


def test_an_update_shown_in_several_passes_holds_the_engine_through_all_of_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.service import UI_TURN_MAX_S, UI_UPDATE_MAX_S

    service = AutomationService(lambda publish: Hosted(None, iter(())))  # type: ignore[arg-type]

    def passes_then_release(_worker: threading.Thread) -> None:  # each pass renews the hold
        end = time.monotonic() + 2.5 * UI_TURN_MAX_S
        while time.monotonic() < end:
            time.sleep(0.004)
            service.hold_for_ui()
        service.release_from_ui()

    waited = time_between_events_while(service, passes_then_release)
    assert 2 * UI_TURN_MAX_S < waited < UI_UPDATE_MAX_S  # longer than one turn, ended by the release

    def never_releases(worker: threading.Thread) -> None:  # a swamped UI renews for ever
        while worker.is_alive():
            time.sleep(0.004)
            service.hold_for_ui()

    waited = time_between_events_while(service, never_releases)
    assert UI_UPDATE_MAX_S * 0.9 < waited < UI_UPDATE_MAX_S + 0.5  # the update's cap frees the engine
