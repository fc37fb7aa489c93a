"""Positions, working orders and fills: exits only after confirmation, cancels for entries only."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt

from app.models.palette import DARK
from app.models.positions_model import OrdersModel, PositionsModel
from app.service import AutomationService, Hosted
from app.widgets.positions_panel import PositionsPanel
from core.automation.engine import Engine
from core.automation.events import Arm, CancelOrder, Command, ExitPosition
from core.automation.market_tape import FillView, MarketTape, MarketUpdate
from core.automation.snapshot import OrderView, PositionView, Snapshot
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
ZERO = Decimal(0)
RMS = RmsSnapshot(Decimal(1_000_000), Decimal(1_000_000), ZERO, ZERO, Decimal(1_000_000), ZERO, ZERO, ZERO)

RELIANCE = PositionView("RELIANCE", "ema_cross", "LONG", 50, 2921.40, T, 2931.05, "trail", 2990.0, 2945.35, Decimal("1197.50"))
SBIN = PositionView("SBIN", "atr_reversal", "SHORT", 200, 758.10, T, 761.60, "stop", 745.0, 752.40, Decimal("1140.00"))
INFY = PositionView("INFY", "range_breakout", "LONG", 60, 1631.00, T, None, "", None, 1618.20, Decimal("-768.00"))
STOP = OrderView("RELIANCE|ema_cross|20240314T103400|S", "RELIANCE", "SELL", 50, 0, "SL-M", "exit", "open", 2931.05, None)
TARGET = OrderView("RELIANCE|ema_cross|20240314T103400|T", "RELIANCE", "SELL", 50, 0, "LIMIT", "exit", "open", None, 2990.0)
ENTRY = OrderView("TCS|range_breakout|20240314T114100|E", "TCS", "BUY", 25, 0, "SL", "entry", "open", 4115.05, 4117.0)


def snapshot(positions: tuple[PositionView, ...] = (RELIANCE, SBIN, INFY),
             orders: tuple[OrderView, ...] = (STOP, TARGET, ENTRY)) -> Snapshot:
    unrealised = sum((p.unrealised for p in positions), ZERO)
    return Snapshot(T, "active", "", (), positions, orders, ZERO, unrealised, RMS, None, ())


def fill(k: int) -> FillView:
    return FillView(T + dt.timedelta(seconds=k), "SBIN", "atr_reversal", "BUY" if k % 2 else "SELL", 10 + k,
                    750.0 + k, "entry", f"SBIN|atr_reversal|{k}|E")


def make_panel(qtbot, answers: list[bool] | None = None, keep: int = 2000  # type: ignore[no-untyped-def]
               ) -> tuple[PositionsPanel, list[Command], list[str]]:
    posted: list[Command] = []
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return answers.pop(0) if answers else False

    panel = PositionsPanel(posted.append, confirm, keep_fills=keep)
    qtbot.addWidget(panel)
    panel.resize(1400, 900)
    panel.show()
    return panel, posted, asked


def click(qtbot, table, row: int, column: int) -> None:  # type: ignore[no-untyped-def]
    rect = table.visualRect(table.model().index(row, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_positions_show_stop_with_its_kind_and_pnl_coloured(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = make_panel(qtbot)
    panel.apply_snapshot(snapshot())
    m = panel.positions_model
    rows = [[str(m.index(r, c).data()) for c in range(m.columnCount())] for r in range(m.rowCount())]
    assert rows[0] == ["RELIANCE", "ema_cross", "LONG", "50", "2,921.40", "11:42:17", "2,945.35", "trail 2,931.05",
                       "2,990.00", "Rs 1,197.50", "Exit"]
    assert rows[2][7] == "—" and rows[2][9] == "-Rs 768.00"
    assert m.index(0, PositionsModel.COL_PNL).data(Qt.ItemDataRole.ForegroundRole).name() == DARK.up
    assert m.index(2, PositionsModel.COL_PNL).data(Qt.ItemDataRole.ForegroundRole).name() == DARK.down
    assert "unrealised Rs 1,569.50" in panel.positions_box.live_title()  # 1,197.50 + 1,140.00 - 768.00


def test_exit_posts_exit_position_for_that_rows_pair_only_after_confirmation(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, posted, asked = make_panel(qtbot, answers=[False, True])
    panel.apply_snapshot(snapshot())
    click(qtbot, panel.positions_table, 1, PositionsModel.COL_ACTION)  # SBIN: the trader declines
    assert posted == [] and len(asked) == 1 and "SHORT 200 SBIN (atr_reversal)" in asked[0]
    click(qtbot, panel.positions_table, 1, 0)  # not the action cell: nothing asked
    assert len(asked) == 1
    click(qtbot, panel.positions_table, 1, PositionsModel.COL_ACTION)  # confirmed
    assert posted == [ExitPosition("SBIN", "atr_reversal")]
    assert panel.positions_model.rowCount() == 3  # the row goes when the engine says so, not on the click
    panel.apply_snapshot(snapshot(positions=(RELIANCE, INFY)))
    assert [panel.positions_model.view_at(r).symbol for r in range(2)] == ["RELIANCE", "INFY"]


def test_cancel_posts_cancel_order_for_entry_orders_only(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, posted, asked = make_panel(qtbot)
    panel.apply_snapshot(snapshot())
    m = panel.orders_model
    assert [m.index(r, OrdersModel.COL_ACTION).data() for r in range(3)] == ["with position", "with position", "Cancel"]
    assert m.index(0, OrdersModel.COL_PURPOSE).data() == "exit · stop"
    click(qtbot, panel.orders_table, 0, OrdersModel.COL_ACTION)  # a protective stop: no action
    click(qtbot, panel.orders_table, 1, OrdersModel.COL_ACTION)
    assert posted == []
    click(qtbot, panel.orders_table, 2, OrdersModel.COL_ACTION)
    assert posted == [CancelOrder(ENTRY.client_order_id)] and asked == []
    assert "3: 1 entry, 2 protective" in panel.orders_box.live_title()


def test_snapshot_updates_change_only_the_rows_that_changed(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = make_panel(qtbot)
    panel.apply_snapshot(snapshot(), now=1.0)
    m = panel.positions_model
    events: list[tuple[str, int, int]] = []
    m.dataChanged.connect(lambda a, b, _roles=None: events.append(("changed", a.row(), b.row())))
    m.rowsInserted.connect(lambda _p, a, b: events.append(("inserted", a, b)))
    m.rowsRemoved.connect(lambda _p, a, b: events.append(("removed", a, b)))
    m.modelReset.connect(lambda: events.append(("reset", 0, 0)))
    panel.positions_table.selectRow(2)
    moved = PositionView(*[getattr(SBIN, f) for f in SBIN.__slots__][:-2], 750.10, Decimal("1600.00"))
    panel.apply_snapshot(snapshot(positions=(RELIANCE, moved, INFY)), now=2.0)
    assert events == [("changed", 1, 1)]
    assert m.index(1, PositionsModel.COL_PNL).data() == "Rs 1,600.00"
    panel.apply_snapshot(snapshot(positions=(RELIANCE, moved, INFY)), now=3.0)  # the same: nothing repaints
    assert events == [("changed", 1, 1)]
    panel.apply_snapshot(snapshot(positions=(moved, INFY)), now=3.01)  # a position closed: shown at once
    assert events[-1] == ("removed", 0, 0)
    assert panel.positions_table.currentIndex().row() == 1 and m.view_at(1).symbol == "INFY"  # selection kept


def test_value_changes_repaint_at_most_five_times_a_second_and_the_newest_shows(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = make_panel(qtbot)
    panel.apply_snapshot(snapshot(), now=time.monotonic())
    m = panel.positions_model
    fields = [getattr(SBIN, f) for f in SBIN.__slots__][:-2]
    first = PositionView(*fields, 750.10, Decimal("1600.00"))
    newest = PositionView(*fields, 751.00, Decimal("1690.00"))
    panel.apply_snapshot(snapshot(positions=(RELIANCE, first, INFY)))  # values only, within 200 ms: held
    panel.apply_snapshot(snapshot(positions=(RELIANCE, newest, INFY)))
    assert m.view_at(1) is SBIN
    qtbot.waitUntil(lambda: m.view_at(1) is newest, timeout=1_000)  # shown by the timer, the newest wins
    assert m.index(1, PositionsModel.COL_PNL).data() == "Rs 1,690.00"


def test_fills_appear_newest_first_and_are_capped(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel, _, _ = make_panel(qtbot, keep=5)
    panel.apply_market(MarketUpdate((), (), (fill(1), fill(2), fill(3))))
    panel.apply_market(MarketUpdate((), (), ()))  # nothing new
    panel.apply_market(MarketUpdate((), (), (fill(4), fill(5), fill(6), fill(7))))
    m = panel.fills_model
    assert m.rowCount() == 5
    assert [m.view_at(r) for r in range(5)] == [fill(7), fill(6), fill(5), fill(4), fill(3)]
    assert m.index(0, 0).data() == "11:42:24" and m.index(0, 5).data() == "757.00"
    panel.apply_market(MarketUpdate((), (), tuple(fill(k) for k in range(10, 20))))  # more than the cap at once
    assert [m.view_at(r) for r in range(5)] == [fill(k) for k in (19, 18, 17, 16, 15)]
    assert "Fills  (5, newest first)" == panel.fills_box.live_title()


def _builder(home: Path) -> Callable[[Callable[[Snapshot], None]], Hosted]:
    """A replay-paper engine with a market tape, so the service emits fills to the panel."""

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


def test_a_real_engines_position_fills_and_exit_round_trip_through_the_panel(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = AutomationService(_builder(tmp_path), idle_ms=10)
    panel = PositionsPanel(service.post, confirm=lambda _q: True)
    qtbot.addWidget(panel)
    panel.resize(1400, 900)
    panel.show()
    service.market.connect(panel.apply_market)
    service.snapshot.connect(panel.apply_snapshot)
    seen: list[Snapshot] = []
    service.snapshot.connect(seen.append)
    service.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)  # the market is open and priced: arming can pass
        service.post(Arm("DEMO_TREND", "ema_cross"))
        qtbot.waitUntil(lambda: panel.positions_model.rowCount() == 1, timeout=60_000)
        pos = panel.positions_model.view_at(0)
        assert (pos.symbol, pos.strategy) == ("DEMO_TREND", "ema_cross")
        entry = next(f for f in panel.fills_model.views() if f.purpose == "entry")  # delivered before the snapshot
        assert (entry.symbol, entry.qty, entry.price) == ("DEMO_TREND", pos.qty, pos.entry_price)
        assert panel.exit_row(0) == ExitPosition("DEMO_TREND", "ema_cross")
        qtbot.waitUntil(lambda: panel.fills_model.rowCount() >= 2 and panel.fills_model.view_at(0).purpose == "exit",
                        timeout=30_000)
        out = panel.fills_model.view_at(0)
        assert out.qty == pos.qty and out.side == ("SELL" if pos.side == "LONG" else "BUY")
    finally:
        assert service.stop()
