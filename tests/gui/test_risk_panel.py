"""The risk panel: margin, day P&L against the loss limit, trading state, and the deliberate reset."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt

from app.models.palette import DARK, LIGHT
from app.widgets.risk_panel import RiskPanel
from core.automation.events import Command, ResetLock
from core.automation.snapshot import PositionView, Snapshot
from core.risk.limits import RiskLimits
from core.risk.rms import RmsSnapshot

IST = ZoneInfo("Asia/Kolkata")
T = dt.datetime(2024, 3, 14, 11, 42, 17, tzinfo=IST)
D = Decimal


def rms(utilisation: str = "0.7766") -> RmsSnapshot:
    return RmsSnapshot(D("1000000"), D("991530.25"), D("41380.00"), D("728500.40"), D("221649.85"), D(utilisation),
                       D("-6000.00"), D("1500.00"))


def position(symbol: str) -> PositionView:
    return PositionView(symbol, "ema_cross", "LONG", 10, 100.0, T, 99.0, "stop", None, 101.0, D("10.00"))


def snapshot(state: str = "active", halt_reason: str = "", realised: str = "-6000.00", unrealised: str = "1500.00",
             loss_limit: str = "10000", utilisation: str = "0.7766", positions: int = 2) -> Snapshot:
    limits = RiskLimits(max_open_positions=5, daily_loss_limit=D(loss_limit), max_loss_per_trade=D("2500"))
    return Snapshot(T, state, halt_reason, (), tuple(position(f"S{k}") for k in range(positions)), (),
                    D(realised), D(unrealised), rms(utilisation), dt.timedelta(hours=3, minutes=17), (),
                    "paper", "paper", limits)


def make_panel(qtbot, answers: list[bool] | None = None) -> tuple[RiskPanel, list[Command], list[str]]:  # type: ignore[no-untyped-def]
    posted: list[Command] = []
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return answers.pop(0) if answers else False

    panel = RiskPanel(posted.append, confirm)
    qtbot.addWidget(panel)
    panel.resize(1400, 900)
    panel.show()
    return panel, posted, asked


def test_the_loss_bar_is_the_days_loss_over_the_daily_loss_limit(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = make_panel(qtbot)
    panel.apply_snapshot(snapshot(realised="-6000.00", unrealised="1500.00", loss_limit="10000"))
    assert panel.loss_used == D("4500.00") / D("10000")  # |-6,000 + 1,500| / 10,000
    assert panel.loss_bar.value() == 4500  # basis points of the limit
    assert panel.day_pnl_label.text() == "-Rs 4,500.00"
    assert panel.loss_text.text() == "Rs 4,500.00 of Rs 10,000.00  (45.0 %)"

    panel.apply_snapshot(snapshot(realised="-9312.35", unrealised="0", loss_limit="10000"))
    assert panel.loss_bar.value() == 9312 and DARK.danger in panel.loss_bar.styleSheet()  # past 90 %
    panel.apply_snapshot(snapshot(realised="-12000", unrealised="500", loss_limit="10000"))
    assert panel.loss_used == D("1.15") and panel.loss_bar.value() == 10_000  # full, not beyond
    panel.apply_snapshot(snapshot(realised="2500.50", unrealised="-500.25"))  # a winning day uses none of it
    assert panel.loss_bar.value() == 0 and panel.day_pnl_label.text() == "Rs 2,000.25"

    panel.apply_snapshot(snapshot(loss_limit="0"))  # the rule is off
    assert panel.loss_used is None and not panel.loss_bar.isEnabled()
    assert panel.loss_limit_label.text() == "off" and panel.loss_text.text() == "daily loss limit off"


def test_margin_figures_and_utilisation_come_from_the_rms_snapshot(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = make_panel(qtbot)
    panel.apply_snapshot(snapshot(utilisation="0.7766"))
    assert panel.utilisation_bar.value() == 7766  # = rms.utilisation in basis points
    assert panel.utilisation_text.text() == "77.66 % of funds"
    assert (panel.capital_label.text(), panel.used_label.text(), panel.available_label.text()) == (
        "Rs 10,00,000.00", "Rs 7,28,500.40", "Rs 2,21,649.85")
    assert DARK.warn in panel.utilisation_bar.styleSheet()  # 70 % .. 90 %
    panel.apply_snapshot(snapshot(utilisation="0.3"))
    assert panel.utilisation_bar.value() == 3000 and DARK.ok in panel.utilisation_bar.styleSheet()
    panel.apply_snapshot(snapshot(utilisation="0.9"))
    assert panel.utilisation_bar.value() == 9000 and DARK.danger in panel.utilisation_bar.styleSheet()
    assert panel.positions_label.text() == "2 of 5" and panel.positions_bar.value() == 4000


def test_the_state_badge_follows_the_state_and_says_why(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = make_panel(qtbot)
    cases = [
        ("active", "", "ACTIVE", DARK.ok, "Trading normally"),
        ("reducing", "loss", "REDUCING", DARK.warn, "Daily loss limit reached"),
        ("halted", "kill", "HALTED", DARK.danger, "Kill switch"),
        ("halted", "cutoff", "HALTED", DARK.danger, "cutoff"),
    ]
    for state, reason, text, colour, words in cases:
        panel.apply_snapshot(snapshot(state, reason))
        assert panel.state_label.text() == text
        assert panel.state_colour() == colour and f"background:{colour}" in panel.state_label.styleSheet()
        assert words in panel.reason_label.text()
    panel.set_theme(False)
    assert panel.state_colour() == LIGHT.danger and f"background:{LIGHT.danger}" in panel.state_label.styleSheet()


def test_reset_lock_is_enabled_only_while_locked_and_posts_only_after_confirmation(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, posted, asked = make_panel(qtbot, answers=[False, True])
    for state, reason in (("active", ""), ("halted", "cutoff"), ("reducing", "")):
        panel.apply_snapshot(snapshot(state, reason))
        assert not panel.reset_button.isEnabled()
        assert panel.reset_lock() is None  # even called directly, nothing is asked or posted
    assert posted == [] and asked == []

    panel.apply_snapshot(snapshot("halted", "kill"))
    assert panel.reset_button.isEnabled()
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)  # the trader declines
    assert posted == [] and len(asked) == 1 and "kill switch" in asked[0]
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)  # the trader confirms
    assert posted == [ResetLock("trader")] and len(asked) == 2
    assert panel.state_label.text() == "HALTED"  # the panel waits for the engine to say so

    panel.apply_snapshot(snapshot("reducing", "loss"))
    assert panel.reset_button.isEnabled()


def test_a_bar_value_change_paints_with_the_window_not_on_the_spot(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QProgressBar

    from app.widgets.progress import set_bar_value

    bar = QProgressBar()
    bar.setRange(0, 10_000)
    bar.setTextVisible(False)
    qtbot.addWidget(bar)
    bar.resize(300, 20)
    bar.show()
    qtbot.waitExposed(bar)
    qtbot.wait(20)
    paints: list[int] = []

    class Count(QObject):
        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                paints.append(bar.value())
            return False

    counter = Count()
    bar.installEventFilter(counter)
    set_bar_value(bar, 7_500)
    assert paints == [] and bar.value() == 7_500  # a plain setValue would have painted right here
    qtbot.waitUntil(lambda: paints == [7_500], timeout=2_000)  # painted by the loop, with the new value
