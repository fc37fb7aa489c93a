"""`atw` end to end: the simulator contract's files, one-line errors, sweeps, walk-forward, the demo."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.simulator.trades import TRADE_COLUMNS
from tests.conftest import synthetic

REPORT_KEYS = {"bars", "trades", "wins", "losses", "win_rate", "total_points", "gross_pnl", "charges", "net_pnl",
               "profit_factor", "max_drawdown", "sharpe", "sortino", "calmar", "expectancy", "elapsed_s", "bars_per_s"}


def write_csv(series, path: Path) -> Path:  # type: ignore[no-untyped-def]
    frame = series.frame.copy()
    frame.index = [t.isoformat() for t in frame.index]
    frame["symbol"] = series.symbol
    frame.rename_axis("timestamp").to_csv(path)
    return path


@pytest.fixture()
def two_files(tmp_path: Path) -> list[Path]:
    a = write_csv(synthetic("ALPHA", sessions=15, seed=12), tmp_path / "alpha.csv")
    b = write_csv(synthetic("BETA", sessions=15, seed=13, regime="trend"), tmp_path / "beta.csv")
    return [a, b]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_sim_writes_the_contract_files_and_money_reconciles(two_files: list[Path], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = ["sim", "--data", str(two_files[0]), "--data", str(two_files[1]), "--strategy", "ema_cross",
            "--strategy", "range_breakout", "--set", "ema_cross.fast=5", "--set", "stop=1atr", "--qty", "40",
            "--costs", "zerodha", "--slippage", "1tick", "--out", str(out)]
    code, stdout, _ = run(argv, capsys)
    assert code == 0
    assert "net" in stdout and "ema_cross" in stdout and "range_breakout" in stdout
    with (out / "trades.csv").open() as fh:
        rows = list(csv.DictReader(fh))
        assert tuple(rows[0].keys()) == TRADE_COLUMNS
    assert {r["symbol"] for r in rows} == {"ALPHA", "BETA"}
    assert {r["side"] for r in rows} == {"LONG", "SHORT"}
    assert all(r["entry_time"].endswith("+05:30") and r["exit_time"].endswith("+05:30") for r in rows)
    report = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= report.keys()
    assert set(report["per_strategy"]) == {"ema_cross", "range_breakout"}
    assert report["strategies"]["ema_cross"]["fast"] == 5 and report["strategies"]["range_breakout"]["stop"] == "1atr"
    # to the paisa: every row's net = gross - charges, and the report's totals are the rows' sums
    gross = sum(Decimal(r["gross_pnl"]) for r in rows)
    charges = sum(Decimal(r["charges"]) for r in rows)
    net = sum(Decimal(r["net_pnl"]) for r in rows)
    assert all(Decimal(r["net_pnl"]) == Decimal(r["gross_pnl"]) - Decimal(r["charges"]) for r in rows)
    assert Decimal(str(report["gross_pnl"])) == gross and Decimal(str(report["charges"])) == charges
    assert Decimal(str(report["net_pnl"])) == net and charges > 0
    assert all(Decimal(r["gross_pnl"]) == (Decimal(r["points"]) * int(r["qty"])).quantize(Decimal("0.01")) for r in rows)
    assert report["trades"] == len(rows) == report["wins"] + report["losses"] + report.get("breakeven", 0)


def test_fast_and_event_engines_write_identical_trades(two_files: list[Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    outs = []
    for engine in ("fast", "event"):
        out = tmp_path / engine
        argv = ["sim", *sum((["--data", str(f)] for f in two_files), []), "--strategy", "atr_reversal",
                "--strategy", "atr_divergence", "--engine", engine, "--set", "trail=1atr", "--qty", "10",
                "--out", str(out), "--json"]
        assert run(argv, capsys)[0] == 0
        outs.append((out / "trades.csv").read_text())
    assert outs[0] == outs[1] and outs[0].count("\n") > 10


def test_json_output_and_date_range(two_files: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    days = sorted(set(synthetic("ALPHA", sessions=15, seed=12).frame.index.date))
    argv = ["sim", "--data", str(two_files[0]), "--strategy", "ema_cross", "--from", str(days[3]),
            "--to", str(days[6]), "--json"]
    code, stdout, _ = run(argv, capsys)
    report = json.loads(stdout)
    assert code == 0 and report["first_day"] == str(days[3]) and report["last_day"] == str(days[6])
    assert report["bars"] == 4 * 375


def test_from_uses_earlier_bars_as_warm_up(two_files: list[Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A window's trades are the full run's trades entered in that window (indicators warm)."""
    days = sorted(set(synthetic("ALPHA", sessions=15, seed=12).frame.index.date))
    base = ["sim", "--data", str(two_files[0]), "--strategy", "ema_cross", "--set", "fast=20", "--set", "slow=100"]
    assert run([*base, "--out", str(tmp_path / "all"), "--json"], capsys)[0] == 0
    assert run([*base, "--from", str(days[5]), "--to", str(days[9]), "--out", str(tmp_path / "win"), "--json"],
               capsys)[0] == 0
    full = pd.read_csv(tmp_path / "all" / "trades.csv")
    window = pd.read_csv(tmp_path / "win" / "trades.csv")
    entry_day = full["entry_time"].str[:10]
    expected = full[(entry_day >= str(days[5])) & (entry_day <= str(days[9]))].reset_index(drop=True)
    assert len(window) > 0 and window.equals(expected)


def test_sim_on_resampled_bars(two_files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sim", "--data", str(two_files[0]), "--strategy", "ema_cross", "--resample", "5",
            "--out", str(tmp_path / "r5"), "--json"]
    code, stdout, _ = run(argv, capsys)
    report = json.loads(stdout)
    assert code == 0 and report["bars"] == 15 * 75 and report["data"][0]["interval_minutes"] == 5
    trades = pd.read_csv(tmp_path / "r5" / "trades.csv")
    minutes = pd.to_datetime(trades["entry_time"]).dt.minute
    assert len(trades) > 0 and ((minutes % 5) == 0).all()


@pytest.mark.parametrize(
    ("argv", "needle", "code"),
    [
        (["--strategy", "ema_crss"], "did you mean 'ema_cross'", 2),
        (["--strategy", "ema_cross", "--set", "fsat=3"], "no strategy in this run has a parameter 'fsat'", 2),
        (["--strategy", "ema_cross", "--set", "stop=two"], "ema_cross.stop", 2),
        (["--strategy", "ema_cross", "--set", "fast=30", "--set", "slow=10"], "fast (30) must be shorter", 2),
        (["--strategy", "ema_cross", "--set", "atr_reversal.k=2"], "not in this run", 2),
        (["--strategy", "ema_cross", "--set", "target=2r"], "no stop to define R", 2),
        (["--strategy", "ema_cross", "--set", "qty=5", "--qty", "50"], "disagree", 2),
        (["--strategy", "ema_cross", "--fill-gaps"], "add --repair", 2),
        (["--strategy", "ema_cross", "--resample", "0"], "positive multiple of 1", 2),
    ],
)
def test_errors_are_one_line_naming_the_parameter(two_files: list[Path], capsys: pytest.CaptureFixture[str],
                                                  argv: list[str], needle: str, code: int) -> None:
    got, stdout, stderr = run(["sim", "--data", str(two_files[0]), *argv], capsys)
    assert got == code
    lines = [line for line in stderr.splitlines() if line.startswith("atw: error")]
    assert len(lines) == 1 and needle in lines[0], stderr


def test_data_errors_name_the_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    code, _, err = run(["sim", "--data", str(missing), "--strategy", "ema_cross"], capsys)
    assert code == 1 and "nope.csv" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close\n2024-01-02 09:15,100,101,99,100\n2024-01-02 09:16,100,99,101,100\n")
    code, _, err = run(["sim", "--data", str(bad), "--strategy", "ema_cross"], capsys)
    assert code == 1 and "bad.csv:3" in err and err.count("\n") == 1


def test_sweep_ranks_grid_points_and_matches_single_runs(two_files: list[Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", "--data", str(two_files[0]), "--strategy", "ema_cross", "--grid", "fast=3,5,8",
            "--grid", "slow=13:21:8", "--objective", "net_pnl", "--jobs", "2", "--json", "--out", str(tmp_path / "sw")]
    code, stdout, _ = run(argv, capsys)
    rows = json.loads(stdout)
    assert code == 0 and len(rows) == 6
    assert {(r["fast"], r["slow"]) for r in rows} == {(f, s) for f in ("3", "5", "8") for s in ("13", "21")}
    nets = [r["net_pnl"] for r in rows]
    assert nets == sorted(nets, reverse=True)
    best = rows[0]
    code, stdout, _ = run(["sim", "--data", str(two_files[0]), "--strategy", "ema_cross", "--set",
                           f"fast={best['fast']}", "--set", f"slow={best['slow']}", "--json"], capsys)
    assert json.loads(stdout)["net_pnl"] == best["net_pnl"]
    assert (tmp_path / "sw" / "sweep.csv").exists()


def test_walk_forward_optimises_in_sample_and_trades_out_of_sample(two_files: list[Path], tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["walkforward", "--data", str(two_files[1]), "--strategy", "ema_cross", "--grid", "fast=3,8",
            "--grid", "slow=21", "--train", "5", "--test", "3", "--jobs", "1", "--out", str(tmp_path / "wf"), "--json"]
    code, stdout, _ = run(argv, capsys)
    assert code == 0
    result = json.loads(stdout)
    folds = result["folds"]
    assert len(folds) == 3  # 15 sessions: folds test on sessions 6-8, 9-11, 12-14
    days = sorted(set(synthetic("BETA", sessions=15, seed=13, regime="trend").frame.index.date))
    assert [f["test_from"] for f in folds] == [str(days[5]), str(days[8]), str(days[11])]
    trades = pd.read_csv(tmp_path / "wf" / "trades.csv")
    entry_days = {t[:10] for t in trades["entry_time"]}
    assert entry_days <= {str(d) for d in days[5:14]}
    assert result["out_of_sample"]["trades"] == len(trades) == sum(f["oos_trades"] for f in folds)


def test_data_check_prints_the_quality_report(two_files: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(["data", "check", str(two_files[0])], capsys)
    assert code == 0 and "ALPHA" in stdout and "start" in stdout


def test_demo_runs_on_the_bundled_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(["demo", "--out", str(tmp_path / "demo")], capsys)
    assert code == 0
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert report["trades"] > 0 and report["charges"] > 0
    assert {d["symbol"] for d in report["data"]} == {"DEMO_TREND", "DEMO_CHOP", "DEMO_VOL"}


def test_strategies_lists_every_parameter_with_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(["strategies"], capsys)
    assert code == 0
    for needle in ("ema_cross", "atr_reversal", "atr_divergence", "range_breakout", "fast", "stop", "partial"):
        assert needle in stdout
