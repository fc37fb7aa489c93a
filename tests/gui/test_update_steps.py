"""UpdateSteps: each panel group sees every market update in order and the newest snapshot, is
painted after its step, and the steps run in separate passes of the event loop."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer

from app.windows.update_steps import UpdateSteps
from core.automation.market_tape import MarketUpdate


def update(k: int) -> MarketUpdate:
    return MarketUpdate((), (), (k,))  # type: ignore[arg-type]  # the fills carry a marker only


def make() -> tuple[UpdateSteps, list[Any]]:
    log: list[Any] = []

    def step(name: str) -> Any:
        return lambda markets, snap: log.append((name, [m.fills[0] for m in markets], snap))

    steps = UpdateSteps([step("chart"), step("panels")], paint=lambda: log.append("paint"),
                        hold=lambda: log.append("hold"), release=lambda: log.append("release"))
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
    # the engine is held from the first update until the last step has painted
    assert log[0] == "hold" and log.count("release") == 1
    assert log[log.index(("chart", [1, 2], "snap-2")) + 1] == "paint"
    assert log[log.index(("panels", [1, 2], "snap-2")) + 1] == "paint"


def test_the_steps_run_in_separate_passes_so_a_timer_due_meanwhile_fires_between(qtbot) -> None:  # type: ignore[no-untyped-def]
    steps, log = make()
    QTimer.singleShot(0, lambda: log.append("timer"))  # due before the steps are scheduled
    steps.market(update(1))
    qtbot.waitUntil(lambda: steps.idle and log[-1] == "release", timeout=1_000)
    order = [e if isinstance(e, str) else e[0] for e in log if e not in ("hold", "paint")]
    assert order == ["timer", "chart", "panels", "release"] or order == ["chart", "timer", "panels", "release"]


def test_an_update_arriving_between_the_steps_reaches_both_without_a_repeat(qtbot) -> None:  # type: ignore[no-untyped-def]
    shown: list[tuple[str, list[int]]] = []
    steps: UpdateSteps

    def chart(markets: Any, _snap: Any) -> None:
        shown.append(("chart", [m.fills[0] for m in markets]))
        if len(shown) == 1:
            steps.market(update(2))  # arrives after the chart showed 1, before the panels did

    def panels(markets: Any, _snap: Any) -> None:
        shown.append(("panels", [m.fills[0] for m in markets]))

    steps = UpdateSteps([chart, panels], paint=lambda: None, hold=lambda: None, release=lambda: None)
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
