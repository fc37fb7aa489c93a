"""The journal tab tails what the real writer writes: every record, filters, whole traces, bad lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.widgets.journal_tab import NOT_A_RECORD, JournalTab
from core.clock import SimClock
from core.journal.records import Record
from core.journal.writer import JournalWriter

UTC = dt.timezone.utc
OPEN = dt.datetime(2026, 11, 20, 3, 45, tzinfo=UTC)  # 09:15 IST, Friday 2026-11-20
TRACE_TYPES = ["signal", "risk_check", "order_intent", "order_ack", "fill", "order_intent", "order_ack", "fill"]



class Desk:
    """A paper session journaled by the real writer, one minute per record."""

    def __init__(self, home: Path) -> None:
        self.clock = SimClock(OPEN)
        self.writer = JournalWriter(self.clock, "paper", home=home, batch_ms=0)
        self.records: list[Record] = []
        self.add("session_start", {"day": "2026-11-20", "mode": "paper", "costs": "zerodha"})

    def add(self, type_: str, payload: dict, trace: str = "") -> Record:  # type: ignore[type-arg]
        self.clock.advance(dt.timedelta(seconds=20))
        rec = self.writer.append(type_, payload, trace)
        self.records.append(rec)
        return rec

    def trade(self, n: int, symbol: str, price_in: str, price_out: str) -> str:
        """signal -> risk check -> entry intent -> ack -> fill -> exit intent -> ack -> fill, one trace."""
        trace, pos, cid = f"t|{symbol}|ema_cross|{n}", f"p-{symbol}-{n}", f"atw-{symbol}-{n}"
        common = {"symbol": symbol, "strategy": "ema_cross", "qty": 50, "position_id": pos}
        self.add("signal", {"symbol": symbol, "strategy": "ema_cross", "side": "LONG", "confidence": 0.71}, trace)
        self.add("risk_check", {"accepted": True, "reason": "margin Rs 20,608.50 blocked"}, trace)
        for leg, side, price in (("E", "BUY", price_in), ("X", "SELL", price_out)):
            purpose = "entry" if leg == "E" else "exit"
            self.add("order_intent", {**common, "client_order_id": f"{cid}|{leg}", "side": side,
                                      "order_type": "MARKET", "purpose": purpose}, trace)
            self.add("order_ack", {"client_order_id": f"{cid}|{leg}", "broker_order_id": f"B{n}{leg}",
                                   "status": "open"}, trace)
            self.add("fill", {**common, "client_order_id": f"{cid}|{leg}", "fill_id": f"F{n}{leg}", "side": side,
                              "price": price, "time": self.clock.now().astimezone(UTC).isoformat(),
                              "purpose": purpose}, trace)
        return trace

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
def desk(_private_home: Path) -> Iterator[Desk]:
    d = Desk(_private_home)
    d.trade(1, "RELIANCE", "1399.90", "1404.35")
    d.trade(2, "TCS", "3510.00", "3498.50")
    d.add("note", {"event": "heartbeat"})
    yield d
    d.close()


def _tab(qtbot, home: Path, **kw) -> JournalTab:  # type: ignore[no-untyped-def]
    tab = JournalTab(home / "journal", poll_ms=40, **kw)
    qtbot.addWidget(tab)
    return tab


@pytest.fixture
def tab(qtbot, desk: Desk, _private_home: Path) -> Iterator[JournalTab]:  # type: ignore[no-untyped-def]
    widget = _tab(qtbot, _private_home)
    qtbot.waitUntil(lambda: widget.model.rowCount() == len(desk.records), timeout=3000)
    yield widget
    widget.shutdown()


def _seqs(rows) -> list[int | None]:  # type: ignore[no-untyped-def]
    return [r.seq for r in rows]


def test_every_record_is_shown_and_later_ones_arrive(qtbot, tab: JournalTab, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    assert _seqs(tab.model.rows) == list(range(1, 19)) == [r.seq for r in desk.records]
    first = tab.model.rows[1]
    assert (first.type, first.trace_id, first.symbol) == ("signal", "t|RELIANCE|ema_cross|1", "RELIANCE")
    assert first.time == "09:15:40.000"  # IST, from the record's UTC ts
    assert "confidence=0.71" in first.summary

    desk.trade(3, "INFY", "1500.05", "1511.00")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 26, timeout=3000)
    assert _seqs(tab.model.rows) == list(range(1, 27))
    assert tab.model.rows[-1].payload[:4] == (("symbol", "INFY"), ("side", "SELL"), ("qty", "50"), ("price", "1511.00"))


def test_filters_show_exactly_the_matching_records(tab: JournalTab, desk: Desk) -> None:
    tcs = "t|TCS|ema_cross|2"
    tab.set_filters(trace=tcs)
    assert _seqs(tab.shown_rows()) == [r.seq for r in desk.records if r.trace_id == tcs] == list(range(10, 18))
    tab.set_filters(type_="fill")
    assert [(r.symbol, dict(r.payload)["price"]) for r in tab.shown_rows()] == [
        ("RELIANCE", "1399.90"), ("RELIANCE", "1404.35"), ("TCS", "3510.00"), ("TCS", "3498.50")]
    tab.set_filters(symbol="RELIANCE", type_="order_intent")
    assert [dict(r.payload)["client_order_id"] for r in tab.shown_rows()] == ["atw-RELIANCE-1|E", "atw-RELIANCE-1|X"]
    tab.set_filters()
    assert tab.proxy.rowCount() == len(desk.records)


def test_clicking_a_record_shows_its_whole_trace_in_order(qtbot, tab: JournalTab, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    tab.show()
    exit_fill = next(i for i, r in enumerate(tab.model.rows) if r.type == "fill" and r.symbol == "TCS"
                     and dict(r.payload)["purpose"] == "exit")
    index = tab.proxy.index(exit_fill, 0)
    tab.view.scrollTo(index)
    qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=tab.view.visualRect(index).center())
    shown = tab.trace_shown()
    expected = [r for r in desk.records if r.trace_id == "t|TCS|ema_cross|2"]
    assert [t for _, t, _ in shown] == TRACE_TYPES == [r.type for r in expected]
    assert [label.split()[0] for label, _, _ in shown] == [f"#{r.seq}" for r in expected]
    assert shown[-1][2]["price"] == "3498.50" and shown[-1][2]["purpose"] == "exit"
    assert shown[3][2] == {"client_order_id": "atw-TCS-2|E", "broker_order_id": "B2E", "status": "open"}
    assert "8 records" in tab.trace_title.text()


def test_a_corrupt_line_is_marked_and_the_tail_goes_on(qtbot, tab: JournalTab, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    path = desk.writer.path
    with open(path, "ab") as handle:  # a damaged line behind the writer's back
        handle.write(b'{"seq": 19, "this is": "not a record"\n')
    desk.add("alert", {"message": "feed stalled 12s", "symbol": "TCS"})
    qtbot.waitUntil(lambda: tab.model.rowCount() == 20, timeout=3000)
    bad = tab.model.rows[18]
    assert bad.bad and bad.type == NOT_A_RECORD and bad.line == 19 and bad.file == path.name
    assert f"{path.name}:19" in bad.error and "not a journal record" in bad.error
    assert tab.model.index(18, 0).data() == f"{path.name}:19"
    assert tab.model.index(18, 2).data() == NOT_A_RECORD
    last = tab.model.rows[19]
    assert (last.seq, last.type, last.symbol) == (19, "alert", "TCS")
    tab.set_filters(type_=NOT_A_RECORD)
    assert tab.shown_rows() == [bad]
    tab.set_filters(trace="t|TCS")
    assert bad not in tab.shown_rows()


def test_rotation_to_the_next_day_file_is_followed(qtbot, tab: JournalTab, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    desk.clock.set(OPEN + dt.timedelta(days=3))  # Monday
    desk.add("session_start", {"day": "2026-11-23", "mode": "paper", "costs": "zerodha"})
    trace = desk.trade(4, "SBIN", "801.20", "803.45")
    assert desk.writer.path.name == "2026-11-23-paper.jsonl"
    qtbot.waitUntil(lambda: tab.model.rowCount() == 18 + 9, timeout=3000)
    monday = tab.model.rows[18:]
    assert _seqs(monday) == list(range(1, 10))
    assert {r.file for r in monday} == {"2026-11-23-paper.jsonl"}
    assert [r.type for r in monday if r.trace_id == trace] == TRACE_TYPES


def test_the_model_keeps_only_the_newest_rows(qtbot, desk: Desk, _private_home: Path) -> None:  # type: ignore[no-untyped-def]
    for n in range(3, 9):
        desk.trade(n, "HDFCBANK", "1650.00", "1652.10")
    widget = _tab(qtbot, _private_home, max_rows=20)
    total = len(desk.records)
    qtbot.waitUntil(lambda: bool(widget.model.rows) and widget.model.rows[-1].seq == total, timeout=3000)
    assert _seqs(widget.model.rows) == list(range(total - 19, total + 1))
    widget.shutdown()


def test_no_journal_yet_waits_then_shows_the_first_file(qtbot, _private_home: Path) -> None:  # type: ignore[no-untyped-def]
    widget = _tab(qtbot, _private_home)
    qtbot.waitUntil(lambda: "waiting for a journal" in widget.status.text(), timeout=3000)
    assert widget.model.rowCount() == 0
    d = Desk(_private_home)
    d.trade(1, "RELIANCE", "1399.90", "1404.35")
    qtbot.waitUntil(lambda: widget.model.rowCount() == 9, timeout=3000)
    assert widget.status.text() == "following 2026-11-20-paper.jsonl"
    widget.shutdown()
    d.close()
