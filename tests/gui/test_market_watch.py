"""The market watch: quotes land in their rows, arm state follows snapshots, arming is a command."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt

from app.models.palette import DARK
from app.models.quotes_model import (
    COL_CHG,
    COL_HIGH,
    COL_LOW,
    COL_LTP,
    COL_PCT,
    COL_VOLUME,
)
from app.service import AutomationService, Hosted
from app.widgets.market_watch import MarketWatch
from core.automation.engine import Engine
from core.automation.events import Arm, Command, Disarm
from core.automation.market_tape import MarketTape, MarketUpdate, Quote
from core.automation.snapshot import PositionView, SlotView, Snapshot
from core.clock import SimClock
from core.execution.paper import PaperBroker
from core.journal.writer import JournalWriter
from core.market.bars import BarSeries
from core.market.feed import ReplayFeed
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms, RmsSnapshot
from core.strategies import create
from tests.conftest import synthetic

IST = ZoneInfo("Asia/Kolkata")
T = dt.datetime(2024, 3, 14, 11, 42, 17, tzinfo=IST)
STRATEGIES = ("ema_cross", "atr_reversal")
ZERO = Decimal(0)
RMS = RmsSnapshot(Decimal(1_000_000), Decimal(1_000_000), ZERO, ZERO, Decimal(1_000_000), ZERO, ZERO, ZERO)


def snapshot(slots: tuple[SlotView, ...] = (), positions: tuple[PositionView, ...] = ()) -> Snapshot:
    return Snapshot(T, "active", "", slots, positions, (), ZERO, ZERO, RMS, dt.timedelta(hours=3), ())


def slot(symbol: str, strategy: str, armed: bool, failed: str = "", signal: str = "") -> SlotView:
    return SlotView(symbol, strategy, armed, failed, signal, T if signal else None, 0)


def make_watch(qtbot, symbols: tuple[str, ...] = ("RELIANCE", "INFY", "NIFTY")) -> tuple[MarketWatch, list[Command]]:  # type: ignore[no-untyped-def]
    posted: list[Command] = []
    watch = MarketWatch(posted.append, symbols, STRATEGIES, default_master())
    qtbot.addWidget(watch)
    watch.resize(1400, 600)
    watch.show()
    return watch, posted


def text(watch: MarketWatch, row: int, column: int) -> str:
    return str(watch.model.index(row, column).data())


def test_quotes_land_in_their_rows_with_change_against_prev_close_or_the_open(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, _ = make_watch(qtbot)
    reliance = Quote("RELIANCE", T, 2945.35, 2920.0, 2951.0, 2903.2, 3_456_789, 2911.90)
    infy = Quote("INFY", T, 1618.20, 1633.55, 1641.0, 1611.75, 2_150_430, None)  # first day: no previous close
    watch.apply_market(MarketUpdate((infy, reliance), (), ()))

    r = watch.model.row_of("RELIANCE")
    assert (text(watch, r, COL_LTP), text(watch, r, COL_CHG), text(watch, r, COL_PCT)) == ("2,945.35", "+33.45", "+1.15 %")
    assert (text(watch, r, COL_HIGH), text(watch, r, COL_LOW), text(watch, r, COL_VOLUME)) == ("2,951.00", "2,903.20", "34,56,789")
    i = watch.model.row_of("INFY")
    assert (text(watch, i, COL_LTP), text(watch, i, COL_CHG), text(watch, i, COL_PCT)) == ("1,618.20", "-15.35", "-0.94 %")
    assert round(100 * (1618.20 - 1633.55) / 1633.55, 2) == -0.94  # against the open, not against nothing
    n = watch.model.row_of("NIFTY")
    assert text(watch, n, COL_LTP) == "—"  # no quote yet: nothing invented
    up = watch.model.index(r, COL_CHG).data(Qt.ItemDataRole.ForegroundRole)
    down = watch.model.index(i, COL_PCT).data(Qt.ItemDataRole.ForegroundRole)
    assert (up.name(), down.name()) == (DARK.up, DARK.down)


def test_an_update_repaints_only_the_rows_whose_quote_changed_and_never_resets(qtbot) -> None:  # type: ignore[no-untyped-def]
    symbols = tuple(f"SYM{k:03d}" for k in range(200))
    watch, _ = make_watch(qtbot, symbols)
    changed: list[tuple[int, int]] = []
    resets: list[bool] = []
    watch.model.dataChanged.connect(lambda a, b, _roles=None: changed.append((a.row(), b.row())))
    watch.model.modelReset.connect(lambda: resets.append(True))

    everything = tuple(Quote(s, T, 100.0 + k, 100.0, 101.0 + k, 99.0, 10.0, 99.5) for k, s in enumerate(symbols))
    watch.apply_market(MarketUpdate(everything, (), ()), now=100.0)
    watch.apply_snapshot(snapshot())  # the first snapshot: every strategy cell leaves "waiting"
    assert changed == [(0, 199), (0, 199)]  # one contiguous run, one signal each
    changed.clear()
    some = (Quote("SYM007", T, 150.0, 100.0, 150.0, 99.0, 20.0, 99.5), Quote("SYM150", T, 90.0, 100.0, 101.0, 90.0, 30.0, 99.5),
            Quote("NOT_WATCHED", T, 1.0, 1.0, 1.0, 1.0, 1.0, None))
    watch.apply_market(MarketUpdate(some, (), ()), now=101.0)
    assert changed == [(7, 7), (150, 150)] and not resets
    assert text(watch, 7, COL_LTP) == "150.00" and text(watch, 150, COL_CHG) == "-9.50"
    watch.apply_snapshot(snapshot((slot("SYM042", "ema_cross", True),)))
    assert changed[-1] == (42, 42) and not resets
    changed.clear()
    watch.apply_snapshot(snapshot((slot("SYM042", "ema_cross", True),)))  # nothing changed: nothing repaints
    assert changed == []


def test_a_snapshot_arming_a_pair_shows_it_armed_with_its_failure_signal_and_position(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, _ = make_watch(qtbot)
    r = watch.model.row_of("RELIANCE")
    ema, atr = watch.model.column_of_strategy("ema_cross"), watch.model.column_of_strategy("atr_reversal")
    assert text(watch, r, ema) == "—" and not watch.model.is_armed("RELIANCE", "ema_cross")  # nothing heard yet

    pos = PositionView("RELIANCE", "ema_cross", "LONG", 50, 2921.40, T, 2931.05, "trail", 2990.0, 2945.35, Decimal("1197.50"))
    snap = snapshot((slot("RELIANCE", "ema_cross", True, signal="long_entry"),
                     slot("RELIANCE", "atr_reversal", False, failed="pre-arm: stale feed")), (pos,))
    watch.apply_snapshot(snap)
    assert watch.model.is_armed("RELIANCE", "ema_cross")
    assert text(watch, r, ema) == "● ARMED   L 50 @ 2,921.40   long 11:42"
    assert watch.model.index(r, ema).data(Qt.ItemDataRole.BackgroundRole).name() == DARK.armed_bg
    assert text(watch, r, atr).startswith("⚠ ○ off")
    assert "pre-arm: stale feed" in watch.model.index(r, atr).data(Qt.ItemDataRole.ToolTipRole)
    assert text(watch, watch.model.row_of("INFY"), ema).startswith("not configured")  # not run by the engine

    watch.apply_snapshot(snapshot((slot("RELIANCE", "ema_cross", False),)))  # disarmed and flat
    assert text(watch, r, ema) == "○ off   —" and not watch.model.is_armed("RELIANCE", "ema_cross")


def test_toggle_posts_arm_then_after_an_armed_snapshot_disarm_for_the_selected_pair(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, posted = make_watch(qtbot)
    watch.apply_snapshot(snapshot((slot("INFY", "atr_reversal", False),)))
    i = watch.model.row_of("INFY")
    watch.table.setCurrentIndex(watch.model.index(i, watch.model.column_of_strategy("atr_reversal")))
    assert watch.selected_pair() == ("INFY", "atr_reversal")
    watch.toggle_selected()
    assert posted == [Arm("INFY", "atr_reversal")]
    watch.toggle_selected()  # no snapshot yet: the display (and so the toggle) has not changed
    assert posted[-1] == Arm("INFY", "atr_reversal")
    watch.apply_snapshot(snapshot((slot("INFY", "atr_reversal", True),)))
    watch.toggle_selected()
    assert posted[-1] == Disarm("INFY", "atr_reversal")

    watch.table.setCurrentIndex(watch.model.index(0, COL_LTP))  # not a strategy column: the first strategy
    assert watch.selected_pair() == ("RELIANCE", "ema_cross")
    cell = watch.model.index(watch.model.row_of("NIFTY"), watch.model.column_of_strategy("atr_reversal"))
    centre = watch.table.visualRect(cell).center()
    qtbot.mouseClick(watch.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # a double-click's first press
    qtbot.mouseDClick(watch.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert posted[-1] == Arm("NIFTY", "atr_reversal") and len(posted) == 4


def test_adding_through_the_completer_adds_a_known_symbol_and_refuses_an_unknown_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, _ = make_watch(qtbot, ("INFY",))
    changes: list[list[str]] = []
    watch.watch_changed.connect(changes.append)
    watch.add_edit.setFocus()
    qtbot.keyClicks(watch.add_edit, "rel")
    assert watch.completer.currentCompletion() == "RELIANCE"
    watch.add_edit.setText(watch.completer.currentCompletion())  # what picking the suggestion does
    qtbot.keyClick(watch.add_edit, Qt.Key.Key_Return)
    assert watch.watched() == ["INFY", "RELIANCE"] and changes == [["INFY", "RELIANCE"]]
    assert watch.add_edit.text() == ""

    watch.add_edit.setText("XYZCORP")
    qtbot.keyClick(watch.add_edit, Qt.Key.Key_Return)
    assert watch.watched() == ["INFY", "RELIANCE"]
    assert "XYZCORP" in watch.message.text() and "not in the instrument master" in watch.message.text()
    assert not watch.add_symbol("infy") and watch.watched() == ["INFY", "RELIANCE"]  # no duplicate row


def test_quotes_repaint_at_most_five_times_a_second_and_the_newest_wins(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, _ = make_watch(qtbot, ("INFY", "TCS"))
    painted: list[int] = []
    watch.model.dataChanged.connect(lambda a, _b, _roles=None: painted.append(a.row()))
    quote = lambda ltp: Quote("INFY", T, ltp, 1500.0, 1530.0, 1490.0, 1000, 1495.0)  # noqa: E731
    watch.apply_market(MarketUpdate((quote(1501.0),), (), ()), now=10.0)
    assert painted == [0] and text(watch, 0, COL_LTP) == "1,501.00"
    watch.apply_market(MarketUpdate((quote(1502.0),), (), ()), now=10.05)  # 50 ms later: held
    watch.apply_market(MarketUpdate((quote(1503.5),), (), ()), now=10.10)
    assert painted == [0] and text(watch, 0, COL_LTP) == "1,501.00"
    watch.apply_market(MarketUpdate((), (), ()), now=10.21)  # the next update past the interval shows it
    assert painted == [0, 0] and text(watch, 0, COL_LTP) == "1,503.50"
    watch.apply_market(MarketUpdate((), (), ()), now=11.0)  # nothing held: nothing repaints
    assert painted == [0, 0]


def test_a_held_quote_shows_on_its_own_when_no_further_update_comes(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, _ = make_watch(qtbot, ("INFY",))
    quote = lambda ltp: Quote("INFY", T, ltp, 1500.0, 1530.0, 1490.0, 1000, 1495.0)  # noqa: E731
    watch.apply_market(MarketUpdate((quote(1501.0),), (), ()))
    watch.apply_market(MarketUpdate((quote(1504.25),), (), ()))  # within the interval: held
    assert text(watch, 0, COL_LTP) == "1,501.00"
    qtbot.waitUntil(lambda: text(watch, 0, COL_LTP) == "1,504.25", timeout=1_000)  # the feed fell silent


def test_a_symbol_added_later_shows_its_last_quote_at_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, _ = make_watch(qtbot, ("INFY",))
    watch.apply_market(MarketUpdate((Quote("TCS", T, 4102.75, 4090.0, 4115.0, 4070.0, 845_120, 4088.10),), (), ()))
    assert watch.add_symbol("TCS")
    assert text(watch, watch.model.row_of("TCS"), COL_CHG) == "+14.65"


def test_delete_removes_the_selected_row_and_the_chart_follows_the_selection(qtbot) -> None:  # type: ignore[no-untyped-def]
    watch, _ = make_watch(qtbot)
    selected: list[str] = []
    watch.symbol_selected.connect(selected.append)
    watch.activateWindow()
    qtbot.waitUntil(watch.isActiveWindow)
    watch.table.setFocus()
    watch.table.setCurrentIndex(watch.model.index(1, 0))
    watch.table.setCurrentIndex(watch.model.index(1, COL_LTP))  # same row: not a new instrument
    assert selected[-1] == "INFY" and selected.count("INFY") == 1
    qtbot.keyClick(watch.table, Qt.Key.Key_Delete)
    assert watch.watched() == ["RELIANCE", "NIFTY"]
    assert watch.model.rowCount(QModelIndex()) == 2
    assert selected[-1] == watch.model.symbol_at(watch.table.currentIndex().row())  # the chart follows the new row


def _builder(home: Path) -> Callable[[Callable[[Snapshot], None]], Hosted]:
    """A replay-paper engine over a synthetic day, with a market tape (so the service emits market)."""

    def build(publish: Callable[[Snapshot], None]) -> Hosted:
        s = synthetic("SYN", sessions=2, seed=31)
        clock = SimClock(s.frame.index[0].to_pydatetime() - dt.timedelta(minutes=1))
        master, limits = default_master(), RiskLimits()
        writer = JournalWriter(clock, "paper", home=home)
        engine = Engine(clock, PaperBroker(master), RiskEngine(limits, PaperRms(limits.capital, master), clock),
                        {"ema_cross": create("ema_cross")}, record=writer.append, master=master, mode="paper",
                        on_snapshot=publish, snapshot_hz=50.0, tape=MarketTape())
        events = iter(ReplayFeed([BarSeries("DEMO_TREND", s.frame, 1, s.source)], speed=3000).events())
        return Hosted(engine, events, writer.close)

    return build


def test_a_real_engine_drives_the_watch_quotes_and_arming_round_trip(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = AutomationService(_builder(tmp_path), idle_ms=10)
    watch = MarketWatch(service.post, ["DEMO_TREND"], ["ema_cross"], default_master())
    qtbot.addWidget(watch)
    quotes: list[Quote] = []
    service.market.connect(lambda u: quotes.extend(q for q in u.quotes if q.symbol == "DEMO_TREND"))
    service.market.connect(watch.apply_market)
    service.snapshot.connect(watch.apply_snapshot)
    assert threading.current_thread() is threading.main_thread()
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(quotes), timeout=30_000)
        watch.table.setCurrentIndex(watch.model.index(0, watch.model.column_of_strategy("ema_cross")))
        assert watch.toggle_selected() == Arm("DEMO_TREND", "ema_cross")
        qtbot.waitUntil(lambda: watch.model.is_armed("DEMO_TREND", "ema_cross"), timeout=30_000)
        assert text(watch, 0, watch.model.column_of_strategy("ema_cross")).startswith("● ARMED")
        qtbot.waitUntil(lambda: text(watch, 0, COL_LTP) == f"{quotes[-1].ltp:,.2f}", timeout=5_000)
        assert text(watch, 0, COL_CHG) == f"{quotes[-1].change:+,.2f}" or round(quotes[-1].change, 2) == 0
        assert watch.toggle_selected() == Disarm("DEMO_TREND", "ema_cross")
        qtbot.waitUntil(lambda: not watch.model.is_armed("DEMO_TREND", "ema_cross"), timeout=30_000)
    finally:
        assert service.stop()

