"""UpdateSteps: each panel group sees every market update in order and the newest snapshot, is
painted after its step, and the steps run in separate passes of the event loop."""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer

from app.windows.update_steps import UpdateSteps
from core.automation.market_tape import MarketUpdate

CONTEXT = QObject()  # lives as long as the tests


def update(k: int) -> MarketUpdate:
    return MarketUpdate((), (), (k,))  # type: ignore[arg-type]  # the fills carry a marker only


def make() -> tuple[UpdateSteps, list[Any]]:
    log: list[Any] = []

    def step(name: str) -> Any:
        return lambda markets, snap: log.append((name, [m.fills[0] for m in markets], snap))

    steps = UpdateSteps([step("chart"), step("panels")], paint=lambda: log.append("paint"),
                        hold=lambda: log.append("hold"), release=lambda: log.append("release"), context=CONTEXT)
    return steps, log


def test_every_step_gets_every_market_update_in_order_and_only_the_newest_snapshot(qtbot) -> None:  # type: ignore[no-untyped-def]
    steps, log = make()
    steps.market(update(1))
    steps.snapshot("snap-1")  # type: ignore[arg-type]
    steps.market(update(2))
    steps.snapshot("snap-2")  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: steps.idle and log[-1] == "release", timeout=1_000)
    shown = [entry for entry in log if isinstance(entry, tuple)]
    assert shown == [("chart", [1, 2], "snap-2"), ("panels", [1, 2], "snap-2")]
    # the engine is held from the first update until the last step has painted; each step's
    # changes are painted before the next step runs
    assert log[0] == "hold" and log.count("release") == 1
    assert [e for e in log if e != "hold"] == [("chart", [1, 2], "snap-2"), "paint",
                                              ("panels", [1, 2], "snap-2"), "paint", "release"]


def test_a_steps_work_and_its_paint_are_separate_passes_so_timers_fire_between(qtbot) -> None:  # type: ignore[no-untyped-def]
    log: list[str] = []
    steps: UpdateSteps

    def step(name: str) -> Any:
        def run(_markets: Any, _snap: Any) -> None:
            log.append(name)
            QTimer.singleShot(0, lambda: log.append("timer"))  # posted during the step's work
        return run

    steps = UpdateSteps([step("chart"), step("panels")], paint=lambda: log.append("paint"),
                        hold=lambda: None, release=lambda: log.append("release"), context=CONTEXT)
    steps.market(update(1))
    qtbot.waitUntil(lambda: steps.idle and log[-1] == "release", timeout=1_000)
    # a timer that became due during a step's work fires before that step's paint
    assert log[:3] == ["chart", "timer", "paint"]
    assert log[3:] == ["panels", "timer", "paint", "release"]


def test_an_update_arriving_between_the_steps_reaches_both_without_a_repeat(qtbot) -> None:  # type: ignore[no-untyped-def]
    shown: list[tuple[str, list[int]]] = []
    steps: UpdateSteps

    def chart(markets: Any, _snap: Any) -> None:
        shown.append(("chart", [m.fills[0] for m in markets]))
        if len(shown) == 1:
            steps.market(update(2))  # arrives after the chart showed 1, before the panels did

    def panels(markets: Any, _snap: Any) -> None:
        shown.append(("panels", [m.fills[0] for m in markets]))

    steps = UpdateSteps([chart, panels], paint=lambda: None, hold=lambda: None, release=lambda: None,
                        context=CONTEXT)
    steps.market(update(1))
    qtbot.waitUntil(lambda: steps.idle, timeout=1_000)
    assert shown == [("chart", [1]), ("panels", [1, 2]), ("chart", [2])]


def test_flush_shows_everything_pending_at_once_and_releases(qtbot) -> None:  # type: ignore[no-untyped-def]
    steps, log = make()
    steps.market(update(7))
    steps.snapshot("snap")  # type: ignore[arg-type]
    steps.flush()
    shown = [entry for entry in log if isinstance(entry, tuple)]
    assert shown == [("chart", [7], "snap"), ("panels", [7], "snap")] and log[-1] == "release"
    assert steps.idle


def test_no_pass_runs_once_the_window_is_gone(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = QObject()
    ran: list[str] = []
    steps = UpdateSteps([lambda _m, _s: ran.append("step")], paint=lambda: ran.append("paint"),
                        hold=lambda: None, release=lambda: None, context=window)
    steps.market(update(1))  # a pass is posted
    shiboken6.delete(window)  # the window is destroyed before the loop runs it (as on close)
    qtbot.wait(50)
    assert ran == []
