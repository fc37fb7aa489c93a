"""`atw ledger days|day|export|runs` end to end, on a ledger in the test's private ATW_HOME."""

from __future__ import annotations

import io
import sqlite3
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.ledger import Ledger
from core.paths import atw_home
from core.simulator.costs import cost_model
from core.simulator.output import write_trades_csv
from core.simulator.run import simulate
from core.simulator.trades import TRADE_COLUMNS
from core.strategies import REGISTRY, create
from tests.conftest import synthetic


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def recorded() -> dict[str, object]:
    """A simulator run on synthetic data, recorded in ATW_HOME's ledger."""
    result = simulate([synthetic("GAMMA", sessions=8, seed=5)], [create(n, qty="20") for n in sorted(REGISTRY)],
                      costs=cost_model("zerodha"))
    with Ledger.open() as ledger:
        run_id = ledger.record_sim_run(result.report, result.trades, engine="fast", costs="zerodha",
                                       strategies=sorted(REGISTRY), parameters={}, data_fingerprint="sha256:abc",
                                       created_at=pd.Timestamp("2026-11-22 18:00", tz="Asia/Kolkata"))
    return {"result": result, "run": run_id}


def test_days_lists_every_simulated_day(recorded: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    report = recorded["result"].report  # type: ignore[attr-defined]
    code, out, err = run(["ledger", "days"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["day", "mode", "run", "trades", "net"]
    assert sum(1 for line in lines if line.startswith("20")) == report["days"]
    assert f"net {report['net_pnl']:,.2f}" in out and f"trades {report['trades']:,}" in out


def test_day_shows_each_strategy_and_all(recorded: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    result = recorded["result"]
    day = result.trades["exit_time"].dt.date.iloc[0]  # type: ignore[attr-defined]
    code, out, _ = run(["ledger", "day", day.isoformat(), "--mode", "sim"], capsys)
    assert code == 0
    assert f"{day}  sim (simulator run {recorded['run']})" in out
    header = out.splitlines()[1].split()
    assert header[:5] == ["strategy", "trades", "wins", "losses", "win%"] and header[-2:] == ["rule", "breaks"]
    names = {line.split()[0] for line in out.splitlines()[2:] if line.strip() and not line.strip().startswith("-")}
    on_day = result.trades[result.trades["exit_time"].dt.date == day]  # type: ignore[attr-defined]
    assert names == set(on_day["strategy"]) | {"ALL"}
    all_line = [line for line in out.splitlines() if line.strip().startswith("ALL")][0]
    assert f"{on_day['net_pnl'].sum():,.2f}" in all_line
    code, out, _ = run(["ledger", "day", day.isoformat(), "--mode", "paper"], capsys)
    assert code == 0 and "nothing recorded" in out


def test_export_csv_to_stdout_is_trades_csv(recorded: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    report = recorded["result"].report  # type: ignore[attr-defined]
    code, out, _ = run(["ledger", "export", "--from", report["first_day"], "--to", report["last_day"]], capsys)
    assert code == 0
    with Ledger.open() as ledger:
        frame = ledger.export_trades(report["first_day"], report["last_day"])
    expected = io.StringIO()
    write_trades_csv(frame, expected)
    assert out == expected.getvalue()
    assert out.splitlines()[0] == ",".join(TRADE_COLUMNS) and len(out.splitlines()) == report["legs"] + 1


def test_export_to_files(recorded: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = recorded["result"].report  # type: ignore[attr-defined]
    span = ["--from", report["first_day"], "--to", report["last_day"]]
    code, _, err = run(["ledger", "export", *span, "--out", str(tmp_path / "t.csv")], capsys)
    assert code == 0 and "wrote" in err
    assert pd.read_csv(tmp_path / "t.csv").shape == (report["legs"], len(TRADE_COLUMNS))
    code, _, _ = run(["ledger", "export", *span, "--format", "parquet", "--out", str(tmp_path / "t.parquet")], capsys)
    assert code == 0
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert tuple(back.columns) == TRADE_COLUMNS and isinstance(back["net_pnl"].iloc[0], Decimal)
    assert sum(back["net_pnl"], Decimal(0)) == Decimal(repr(report["net_pnl"])).quantize(Decimal("0.01"))
    code, _, err = run(["ledger", "export", *span, "--format", "parquet"], capsys)
    assert code == 2 and "--out" in err
    code, _, err = run(["ledger", "export", "--from", "2024-02-01", "--to", "2024-01-01"], capsys)
    assert code == 2 and "before" in err


def test_runs_and_empty_ledger(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ledger", "days"], capsys)[1].startswith("no days in the ledger yet")
    assert run(["ledger", "runs"], capsys)[1].startswith("no simulator runs")
    assert run(["ledger", "day", "2024-03-04"], capsys)[1].startswith("nothing recorded on 2024-03-04")


def test_runs_lists_the_recorded_run(recorded: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ledger", "runs"], capsys)
    assert code == 0 and out.splitlines()[1].split()[0] == str(recorded["run"]) and "sha256:abc" in out


def test_reads_go_on_while_another_process_writes(recorded: dict[str, object],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    holder = sqlite3.connect(atw_home() / "ledger.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # WAL: a writer does not block readers
    try:
        code, out, _ = run(["ledger", "days"], capsys)
        assert code == 0 and out.startswith("day")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_newer_ledger_is_one_clear_line(recorded: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    path = atw_home() / "ledger.sqlite"
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '0099'")
    con.commit()
    con.close()
    code, out, err = run(["ledger", "days"], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "newer atw" in err and str(path) in err
