"""Switching mode inside the running workstation (Session -> Switch mode...): the dialog's choice is
checked as the command line's is; open positions are flattened, left or keep the old session; a
declined live confirmation changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.desktop_args import desktop_parser
from app.sessions import Workstation
from app.widgets.mode_dialog import ModeDialog
from core.automation.snapshot import Snapshot


def test_the_mode_dialog_gives_back_the_session_as_the_command_line_would(qtbot) -> None:  # type: ignore[no-untyped-def]
    current = desktop_parser().parse_args(["--mode", "paper", "--api-key", "k1", "--arm", "INFY:ema_cross",
                                           "--set", "qty=5", "--speed", "300"])
    dialog = ModeDialog(current)
    qtbot.addWidget(dialog)
    assert dialog.mode.currentText() == "paper" and dialog.pairs.text() == "INFY:ema_cross"
    dialog.mode.setCurrentText("canary")
    dialog.pairs.setText("INFY:ema_cross, RELIANCE:range_breakout")
    dialog.sets.setText("qty=50 stop=1.5atr")
    dialog.canary_qty.setValue(3)
    dialog.product.setCurrentText("NRML")
    chosen = dialog.chosen()
    assert (chosen.mode, chosen.api_key, chosen.canary_qty, chosen.speed, chosen.product) == (
        "canary", "k1", 3, "300", "NRML")
    assert chosen.arm == ["INFY:ema_cross", "RELIANCE:range_breakout"] and chosen.set == ["qty=50", "stop=1.5atr"]
    assert "REAL orders" in dialog.help.text()
    dialog.mode.setCurrentText("replay")
    assert not dialog.api_key.isEnabled() and not dialog.pairs.isEnabled()
    assert dialog.chosen().mode == "replay"


def test_a_switch_with_open_positions_asks_cancel_keeps_the_session_flatten_moves_on(  # type: ignore[no-untyped-def]
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATW_HOME", str(tmp_path))
    choices = ["cancel", "flatten"]
    asked: list[list[str]] = []

    def on_close(held: list[str]) -> str:
        asked.append(held)
        return choices.pop(0) if choices else "leave"

    desk = Workstation(QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat), on_close,
                       confirm=lambda _parent: False)
    assert desk.open(desktop_parser().parse_args(["--speed", "max"]))
    first, first_service = desk.window, desk.service
    assert first is not None and first_service is not None
    qtbot.addWidget(first)
    seen: list[Snapshot] = []
    first_service.snapshot.connect(seen.append)
    desk.start()
    try:
        qtbot.waitUntil(lambda: bool(seen) and bool(seen[-1].positions), timeout=60_000)
        first.pause_action.setChecked(True)  # the demo holds still: the positions stay open
        qtbot.wait(300)
        held = len(seen[-1].positions)

        live = desktop_parser().parse_args(["--mode", "live", "--api-key", "k", "--arm", "DEMO_TREND:ema_cross"])
        assert desk.switch(live) == "live mode was not confirmed"
        assert desk.window is first and first_service.isRunning() and not asked

        no_pairs = desktop_parser().parse_args(["--mode", "paper", "--api-key", "k"])
        assert "--arm" in desk.switch(no_pairs) and desk.window is first

        again = desktop_parser().parse_args(["--speed", "60"])
        assert desk.switch(again) == "the switch was cancelled: the session runs on"
        assert len(asked) == 1 and len(asked[0]) == held
        assert desk.window is first and first.isVisible() and first_service.isRunning()

        assert desk.switch(again) == ""  # flatten, then the new session
        assert first_service.isFinished() and first_service.finished_cleanly
        assert seen[-1].positions == ()  # flat before the old session closed
        second = desk.window
        assert second is not None and second is not first and second.isVisible()
        qtbot.addWidget(second)
        assert desk.switches == 1 and desk.service is not None and desk.service.isRunning()
        assert second.session_args is not None and second.session_args.speed == "60"
        assert second.speed.currentText() == "60x"
    finally:
        desk.stop()
