"""The simulator tab runs the same simulation as ``atw sim`` and shows the core's figures exactly."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PySide6.QtCore import Qt

from app.models.trades_model import RAW_ROLE, Column, TradesModel, format_value
from app.widgets.sim_worker import SimRun
from app.widgets.simulator_tab import METRIC_ROWS, SimulatorTab, TradeRef
from core.cli import build_parser, build_strategies, demo_files, main
from core.errors import ConfigError

STRATEGIES = ("ema_cross", "range_breakout")
RUN_TIMEOUT_MS = 20_000


@pytest.fixture
def tab(qtbot: Any) -> Iterator[SimulatorTab]:
    widget = SimulatorTab()
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitUntil(lambda: _symbols(widget) == ["DEMO_CHOP", "DEMO_TREND", "DEMO_VOL"], timeout=RUN_TIMEOUT_MS)
    yield widget
    widget.shutdown()


def _symbols(tab: SimulatorTab) -> list[str]:
    return [tab.instruments_list.item(i).text() for i in range(tab.instruments_list.count())]


def _choose(tab: SimulatorTab, strategies: tuple[str, ...] = STRATEGIES, *, params: str = "", qty: int = 50,
            engine: str = "fast", ledger: bool = False) -> None:
    for i in range(tab.strategies_list.count()):
        item = tab.strategies_list.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.text() in strategies else Qt.CheckState.Unchecked)
    tab.params_edit.setPlainText(params)
    tab.qty_spin.setValue(qty)
    tab.costs_combo.setCurrentText("zerodha")
    tab.slippage_combo.setCurrentText("1tick")
    tab.engine_combo.setCurrentText(engine)
    tab.ledger_check.setChecked(ledger)


def _run(qtbot: Any, tab: SimulatorTab) -> SimRun:
    with qtbot.waitSignal(tab.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    run = blocker.args[0]
    assert isinstance(run, SimRun)
    return run


def _cli(tmp_path: Path, capsys: Any, *extra: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    argv = ["sim", *[x for f in demo_files() for x in ("--data", str(f))]]
    argv += [x for s in STRATEGIES for x in ("--strategy", s)]
    argv += ["--qty", "50", "--costs", "zerodha", "--slippage", "1tick", "--json", "--no-ledger",
             "--out", str(tmp_path / "cli"), *extra]
    capsys.readouterr()
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    with (tmp_path / "cli" / "trades.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return report, rows


def _column(model: TradesModel, key: str) -> int:
    return next(i for i, c in enumerate(model.columns) if c.key == key)


def test_a_run_shows_exactly_what_atw_sim_reports(qtbot: Any, tab: SimulatorTab, tmp_path: Path, capsys: Any) -> None:
    _choose(tab)
    progress: list[int] = []
    tab.progress_bar.valueChanged.connect(progress.append)
    run = _run(qtbot, tab)
    report, rows = _cli(tmp_path, capsys)

    # the trade list: same legs, same order as trades.csv, each net P&L to the paisa
    model = tab.trades_model
    assert model.rowCount() == len(rows) == report["legs"] > 100
    net_col, sym_col = _column(model, "net_pnl"), _column(model, "symbol")
    for r, row in enumerate(rows):
        net = model.index(r, net_col).data(RAW_ROLE)
        assert f"{net:.2f}" == row["net_pnl"] and net == float(row["net_pnl"])
        assert model.index(r, net_col).data() == format_value(float(row["net_pnl"]), "money")
        assert model.index(r, sym_col).data() == row["symbol"]

    # every metric shown is the CLI report's value, formatted from that value
    shown = 0
    for r, (key, _, kind) in enumerate(METRIC_ROWS):
        assert tab.metrics_table.item(r, 0).data(RAW_ROLE) == key
        cell = tab.metrics_table.item(r, 1)
        assert cell.data(RAW_ROLE) == report[key], key
        assert cell.text() == (format_value(report[key], kind) if report[key] is not None else "–")
        shown += 1
    assert shown == len(METRIC_ROWS) and report["net_pnl"] == run.report["net_pnl"]

    # per-strategy breakdown
    breakdown = {tab.breakdown_table.item(r, 0).text(): tab.breakdown_table.item(r, 3).data(RAW_ROLE)
                 for r in range(tab.breakdown_table.rowCount())}
    assert breakdown == {name: m["net_pnl"] for name, m in report["per_strategy"].items()}
    assert set(breakdown) == set(STRATEGIES)

    # the equity curve ends at the net P&L and its deepest fall is the report's drawdown in rupees
    _, equity = tab.equity_curve.getData()
    _, drawdown = tab.drawdown_curve.getData()
    assert round(float(equity[-1]), 2) == report["net_pnl"]
    assert round(-float(drawdown.min()), 2) == report["max_drawdown_rupees"]

    # progress moved through intermediate values and reached 100 %
    assert progress[-1] == tab.progress_bar.maximum() == 1000
    assert any(0 < v < 1000 for v in progress)
    assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()


def test_a_date_window_gives_the_cli_result_for_that_window(
    qtbot: Any, tab: SimulatorTab, tmp_path: Path, capsys: Any
) -> None:
    _choose(tab)
    tab.from_check.setChecked(True)
    tab.from_date.setDate(pd.Timestamp("2025-01-08").date())
    tab.to_check.setChecked(True)
    tab.to_date.setDate(pd.Timestamp("2025-01-17").date())
    run = _run(qtbot, tab)
    report, rows = _cli(tmp_path, capsys, "--from", "2025-01-08", "--to", "2025-01-17")
    assert run.report["net_pnl"] == report["net_pnl"] and run.report["days"] == report["days"] == 8
    assert tab.trades_model.rowCount() == len(rows) == report["legs"]
    args = build_parser().parse_args(run.settings.cli_argv())  # the command line the tab offers
    assert (args.start, args.end, args.qty, args.slippage, args.no_ledger) == (
        pd.Timestamp("2025-01-08").date(), pd.Timestamp("2025-01-17").date(), 50, "1tick", True)


def test_the_run_is_saved_to_the_ledger_with_its_trades(qtbot: Any, tab: SimulatorTab) -> None:
    from core.ledger import Ledger

    _choose(tab, ledger=True)
    run = _run(qtbot, tab)
    assert run.ledger_run is not None and run.ledger_error is None
    with Ledger.open(readonly=True) as ledger:
        stored = ledger.trades_frame(sim_run_id=run.ledger_run)
        assert [r["id"] for r in ledger.sim_runs()] == [run.ledger_run]
    assert len(stored) == run.report["legs"]
    assert sum(Decimal(f"{v:.2f}") for v in stored["net_pnl"]) == Decimal(repr(run.report["net_pnl"]))
    assert f"ledger run {run.ledger_run}" in tab.status_label.text().lower()


def test_cancel_stops_a_long_run_and_the_next_run_succeeds(qtbot: Any, tab: SimulatorTab) -> None:
    _choose(tab, ("atr_divergence", "atr_reversal", "ema_cross", "range_breakout"), engine="event")
    finished: list[SimRun] = []
    tab.run_finished.connect(finished.append)
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.progress_bar.value() >= 20, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(tab.run_cancelled, timeout=5000):
        pressed = time.perf_counter()
        qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    assert time.perf_counter() - pressed < 1.0
    assert tab.progress_bar.value() < 1000
    assert finished == [] and tab.runs() == () and not tab.running
    assert tab.run_button.isEnabled() and "cancelled" in tab.status_label.text().lower()

    tab.engine_combo.setCurrentText("fast")
    run = _run(qtbot, tab)
    assert run.report["trades"] > 0 and tab.runs() == (run,)
    assert tab.progress_bar.value() == 1000


@pytest.mark.parametrize(
    ("params", "sets"),
    [("fsat=3", ["fsat=3"]), ("ema_cross.fast=abc", ["ema_cross.fast=abc"]), ("fast 9", ["fast 9"])],
)
def test_a_bad_parameter_shows_the_core_config_error(
    qtbot: Any, tab: SimulatorTab, params: str, sets: list[str]
) -> None:
    with pytest.raises(ConfigError) as expected:
        build_strategies(list(STRATEGIES), [*sets, "slippage=1tick"], 50)
    _choose(tab, params=params)
    with qtbot.waitSignal(tab.run_failed, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == str(expected.value)
    assert tab.status_label.text() == str(expected.value)
    assert "Traceback" not in tab.status_label.text()
    assert tab.runs() == () and tab.run_button.isEnabled()


def test_a_missing_file_and_a_bad_slippage_are_reported_by_name(qtbot: Any, tab: SimulatorTab, tmp_path: Path) -> None:
    missing = tmp_path / "NOPE.csv"
    _choose(tab)
    tab.set_files([str(missing)])
    qtbot.waitUntil(lambda: str(missing) in tab.status_label.text(), timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(tab.run_failed, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == f"{missing}: file not found"

    tab.set_files([str(f) for f in demo_files()])
    tab.slippage_combo.setCurrentText("1tck")
    with qtbot.waitSignal(tab.run_failed, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == "ema_cross.slippage: cannot read '1tck': use 0, 1tick or 2bps"


def test_only_the_ticked_instruments_are_simulated(qtbot: Any, tab: SimulatorTab) -> None:
    _choose(tab)
    tab.instruments_list.item(0).setCheckState(Qt.CheckState.Unchecked)  # DEMO_CHOP
    run = _run(qtbot, tab)
    assert set(run.trades["symbol"]) == {"DEMO_TREND", "DEMO_VOL"}
    assert sorted(run.report["per_symbol"]) == ["DEMO_TREND", "DEMO_VOL"]
    assert run.report["bars"] == 2 * 7500


def test_clicking_a_trade_emits_it_and_its_bars_are_available(qtbot: Any, tab: SimulatorTab) -> None:
    _choose(tab)
    run = _run(qtbot, tab)
    tab.results_tabs.setCurrentWidget(tab.trades_view)
    view, model = tab.trades_view, tab.trades_model

    def click(row: int) -> TradeRef:
        rect = view.visualRect(model.index(row, 0))
        with qtbot.waitSignal(tab.trade_selected, timeout=2000) as blocker:
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        return blocker.args[0]

    picked = click(3)
    row = run.trades.iloc[3]
    assert picked == TradeRef(row["symbol"], row["strategy"], row["side"], row["entry_time"], row["entry_price"],
                              row["exit_time"], row["exit_price"])

    # sorted by net P&L (highest first), the first row is the best trade
    view.sortByColumn(_column(model, "net_pnl"), Qt.SortOrder.DescendingOrder)
    best = run.trades.loc[run.trades["net_pnl"].idxmax()]
    top = click(0)
    assert (top.symbol, top.entry_time, top.exit_price) == (best["symbol"], best["entry_time"], best["exit_price"])
    assert model.index(0, _column(model, "net_pnl")).data(RAW_ROLE) == run.report["best"]

    bars = tab.bars_for(top.symbol)
    assert top.entry_time in bars.index and bars.index[0] <= top.exit_time <= bars.index[-1]
    assert bars.loc[top.entry_time, "low"] <= top.entry_price <= bars.loc[top.entry_time, "high"]


def test_comparing_two_runs_shows_the_difference_in_net_pnl(qtbot: Any, tab: SimulatorTab) -> None:
    _choose(tab)
    first = _run(qtbot, tab)
    tab.params_edit.setPlainText("ema_cross.fast=12\nema_cross.slow=40")
    second = _run(qtbot, tab)
    assert first.report["net_pnl"] != second.report["net_pnl"]
    row = next(r for r in range(tab.compare_table.rowCount()) if tab.compare_table.item(r, 0).data(RAW_ROLE) == "net_pnl")

    def shown() -> tuple[Any, Any, Any, str]:
        cells = [tab.compare_table.item(row, c) for c in (1, 2, 3)]
        return cells[0].data(RAW_ROLE), cells[1].data(RAW_ROLE), cells[2].data(RAW_ROLE), cells[2].text()

    a, b, diff, text = shown()  # default: A = the previous run, B = the newest
    expected = Decimal(repr(second.report["net_pnl"])) - Decimal(repr(first.report["net_pnl"]))
    assert (a, b, diff) == (first.report["net_pnl"], second.report["net_pnl"], expected)
    assert text == f"{expected:+,.2f}"
    _, y_a = tab.compare_curve_a.getData()
    _, y_b = tab.compare_curve_b.getData()
    assert (round(float(y_a[-1]), 2), round(float(y_b[-1]), 2)) == (first.report["net_pnl"], second.report["net_pnl"])

    tab.compare_a.setCurrentIndex(0)  # newest first: A = second run
    tab.compare_b.setCurrentIndex(1)
    assert shown()[2] == -expected


def test_trades_model_takes_the_callers_columns_and_sorts_missing_last(qtbot: Any) -> None:
    frame = pd.DataFrame({
        "symbol": ["A", "B", "C", "D"],
        "net_pnl": [10.5, None, -3.25, 99.0],
        "day": ["2025-01-02", "2025-01-01", "2025-01-03", "2025-01-01"],
    })
    model = TradesModel([Column("day", "Day"), Column("net_pnl", "Net", "money")])
    model.set_frame(frame)
    assert (model.rowCount(), model.columnCount()) == (4, 2)
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert [model.row(r)["symbol"] for r in range(4)] == ["D", "A", "C", "B"]
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert [model.row(r)["symbol"] for r in range(4)] == ["C", "A", "D", "B"]
    assert model.index(0, 1).data() == "-3.25" and model.index(3, 1).data() == ""
    model.sort(0, Qt.SortOrder.AscendingOrder)  # stable among equal days
    assert [model.row(r)["symbol"] for r in range(4)] == ["B", "D", "A", "C"]
    model.set_colors("#00ff00", "#ff0000")
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is None  # B: no P&L
    assert model.index(2, 1).data(Qt.ItemDataRole.ForegroundRole).name() == "#00ff00"
    with pytest.raises(KeyError, match="net_pnl"):
        model.set_frame(frame.drop(columns=["net_pnl"]))


RISK = ("sizing=risk", "risk_per_trade_pct=0.05", "heat_cap_pct=0.3", "dd_soft_pct=0.3", "dd_hard_pct=0.6",
        "daily_loss_pct=0.4")


def test_a_run_under_risk_settings_matches_atw_sim_and_compares_with_a_run_without(
    qtbot: Any, tab: SimulatorTab, tmp_path: Path, capsys: Any
) -> None:
    _choose(tab, params="stop=1.5atr")
    tab.risk_edit.setPlainText("")
    bare = _run(qtbot, tab)
    tab.risk_edit.setPlainText("\n".join(RISK) + "\n# a comment line is ignored")
    guarded = _run(qtbot, tab)
    assert guarded.settings.risk == RISK and "--risk" in guarded.settings.cli_argv()
    assert bare.report["refusals"] is None and guarded.report["engine"] == "event+risk"
    assert guarded.report["refusals"] > 0 and guarded.report["risk"]["drawdown_levels"]
    report, _ = _cli(tmp_path, capsys, "--set", "stop=1.5atr", *[x for r in RISK for x in ("--risk", r)])
    for key in ("net_pnl", "trades", "worst_day_pnl", "refusals", "max_drawdown_rupees"):
        assert guarded.report[key] == report[key], key  # the tab's run is `atw sim --risk ...`'s

    rows = {tab.compare_table.item(r, 0).data(RAW_ROLE): r for r in range(tab.compare_table.rowCount())}
    worst = [tab.compare_table.item(rows["worst_day_pnl"], c).data(RAW_ROLE) for c in (1, 2)]
    assert worst == [bare.report["worst_day_pnl"], guarded.report["worst_day_pnl"]]  # A: without, B: with
    refused = [tab.compare_table.item(rows["refusals"], c) for c in (1, 2)]
    assert refused[0].text() == "–" and refused[1].data(RAW_ROLE) == guarded.report["refusals"]
