"""The ledger tab shows what ``atw ledger`` prints: the same days, day summaries, trades and export."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from app.widgets.ledger_tab import LedgerTab
from core import cli

DAY = "2025-01-07"


def _atw(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(list(argv)) == 0
    return out.getvalue()



@pytest.fixture(scope="module")
def built_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two simulator runs over the bundled demo data (run 2 covers the same days as run 1)."""
    home = tmp_path_factory.mktemp("ledger_home")
    trend, vol = (str(f) for f in cli.demo_files() if f.stem in ("DEMO_TREND", "DEMO_VOL"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATW_HOME", str(home))
        _atw("sim", "--data", trend, "--strategy", "ema_cross", "--qty", "50", "--costs", "zerodha")
        _atw("sim", "--data", trend, "--data", vol, "--strategy", "ema_cross", "--strategy", "atr_reversal",
             "--qty", "50", "--costs", "zerodha")
    return home / "ledger.sqlite"


@pytest.fixture
def ledger(built_ledger: Path, _private_home: Path) -> Path:
    """A copy of the built ledger in this test's private ATW_HOME (what the tab and the CLI read)."""
    shutil.copy(built_ledger, _private_home / "ledger.sqlite")
    return _private_home / "ledger.sqlite"


@pytest.fixture
def tab(qtbot) -> LedgerTab:  # type: ignore[no-untyped-def]
    widget = LedgerTab()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def _load(qtbot, tab: LedgerTab) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(tab.loaded, timeout=5000), qtbot.waitSignal(tab.day_loaded, timeout=5000):
        tab.refresh()


def _cli_days(*scope: str) -> list[list[str]]:
    lines = _atw("ledger", "days", *scope).splitlines()
    return [line.split() for line in lines[1:lines.index("")]]


def _cli_day(day: str, *scope: str) -> list[list[str]]:
    rows = []
    for line in _atw("ledger", "day", day, *scope).splitlines()[1:]:
        parts = line.split()
        if parts and parts[0] != "strategy" and not parts[0].startswith("-"):
            rows.append(parts)
    return rows


def test_days_list_is_atw_ledger_days_and_totals_add_up(qtbot, tab: LedgerTab, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    _load(qtbot, tab)
    shown = [list(t[:3]) + [t[3], t[8]] for t in tab.days_model.texts()]  # day, mode, run, trades, net
    expected = _cli_days()
    assert len(expected) == 20
    assert shown == expected
    # the latest run (2) is what a simulated day shows by default
    assert {row[2] for row in shown} == {"2"}
    net = sum((d.net for d in tab.shown_days()), Decimal(0))
    footer = _atw("ledger", "days").splitlines()[-1]
    assert footer.endswith(f"net {net:,.2f}")
    assert f"net after charges ₹ {net:,.2f}" in tab.totals.text()
    assert f"{sum(d.trades for d in tab.shown_days()):,} trades" in tab.totals.text()


def test_sim_run_filter_shows_that_run_only(qtbot, tab: LedgerTab, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    _load(qtbot, tab)
    assert [tab.run_box.itemData(i) for i in range(tab.run_box.count())] == [None, 2, 1]
    with qtbot.waitSignal(tab.loaded, timeout=5000), qtbot.waitSignal(tab.day_loaded, timeout=5000):
        tab.set_filter("sim", 1)
    shown = [list(t[:3]) + [t[3], t[8]] for t in tab.days_model.texts()]
    assert shown == _cli_days("--mode", "sim", "--run", "1")
    assert shown != _cli_days("--mode", "sim")  # run 2 traded more: the filter really changed the numbers


def test_chosen_day_is_atw_ledger_day_with_its_trades(qtbot, tab: LedgerTab, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    _load(qtbot, tab)
    with qtbot.waitSignal(tab.day_loaded, timeout=5000) as blocker:
        tab.select_day(dt.date.fromisoformat(DAY))
    assert blocker.args == [DAY]
    summary = tab.summary_model.texts()
    assert [list(t[1:]) for t in summary] == _cli_day(DAY, "--mode", "sim")
    assert [t[1] for t in summary] == ["atr_reversal", "ema_cross", "ALL"]
    assert all(t[0] == "sim #2" for t in summary)

    # the trades are that day's rows of `atw ledger export`, field by field, and add up to ALL
    exported = list(csv.DictReader(io.StringIO(_atw("ledger", "export", "--from", DAY, "--to", DAY))))
    trades = tab.trades_model.texts()
    assert len(trades) == len(exported) > 10
    for shown, row in zip(trades, exported):
        assert shown[0] == row["entry_time"][11:19] and shown[1] == row["exit_time"][11:19]
        assert (shown[2], shown[3], shown[5], shown[6]) == (row["symbol"], row["strategy"], row["side"], row["qty"])
        for text, key in ((shown[7], "entry_price"), (shown[8], "exit_price"), (shown[9], "points"),
                          (shown[10], "gross_pnl"), (shown[11], "charges"), (shown[12], "net_pnl")):
            assert Decimal(text.replace(",", "")) == Decimal(row[key]), key
        assert shown[13] == row["exit_reason"]
    total = sum((Decimal(t[12].replace(",", "")) for t in trades), Decimal(0))
    assert f"{total:,.2f}" == summary[-1][9]  # the ALL row's net


def test_export_writes_what_atw_ledger_export_writes(qtbot, tab: LedgerTab, ledger: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _load(qtbot, tab)
    tab.from_edit.setDate(QDate(2025, 1, 6))
    tab.to_edit.setDate(QDate(2025, 1, 10))
    assert [d.day.isoformat() for d in tab.shown_days()] == ["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09",
                                                            "2025-01-10"]
    out = tmp_path / "week.csv"
    with qtbot.waitSignal(tab.exported, timeout=5000) as blocker:
        tab.export_csv(out)
    expected = _atw("ledger", "export", "--from", "2025-01-06", "--to", "2025-01-10")
    assert out.read_text(encoding="utf-8") == expected
    rows = list(csv.DictReader(io.StringIO(expected)))
    assert blocker.args == [str(out), len(rows)]
    assert sum(Decimal(r["net_pnl"]) for r in rows) == sum(d.net for d in tab.shown_days())


def test_no_ledger_file_explains_instead_of_crashing(qtbot, tab: LedgerTab, _private_home: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(tab.loaded, timeout=5000):
        tab.refresh()
    assert tab.pages.currentWidget() is tab.empty
    assert "No ledger yet" in tab.empty.text() and "atw sim" in tab.empty.text()
    assert tab.days_model.rowCount() == 0 and tab.trades_model.rowCount() == 0
    assert not (_private_home / "ledger.sqlite").exists()  # looking does not create one


def test_empty_mode_and_empty_ledger_say_so(qtbot, tab: LedgerTab, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    _load(qtbot, tab)
    assert tab.pages.currentIndex() == 0
    with qtbot.waitSignal(tab.loaded, timeout=5000):
        tab.set_filter("live")
    assert tab.pages.currentWidget() is tab.empty
    assert "No days in the ledger in mode live" in tab.empty.text()
    assert tab.summary_model.rowCount() == 0 and tab.trades_model.rowCount() == 0 and tab.totals.text() == ""
    assert "no days in the ledger yet (mode live)" in _atw("ledger", "days", "--mode", "live")


def test_unreadable_ledger_is_reported_not_raised(qtbot, tab: LedgerTab, _private_home: Path) -> None:  # type: ignore[no-untyped-def]
    (_private_home / "ledger.sqlite").write_bytes(b"this is not a database" * 100)
    with qtbot.waitSignal(tab.failed, timeout=5000) as blocker:
        tab.refresh()
    assert "ledger.sqlite" in blocker.args[0]
    assert tab.status.text() == blocker.args[0].splitlines()[0]
    assert tab.days_model.rowCount() == 0
