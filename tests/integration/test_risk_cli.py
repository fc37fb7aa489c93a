"""Risk settings on the command line and in config.toml: `atw sim --risk ... --compare-risk`
runs the portfolio through the live engine and sets it beside a run without guardrails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli import run, two_files  # noqa: F401 - the fixture

GUARDS = ["--risk", "sizing=risk", "--risk", "risk_per_trade_pct=0.2", "--risk", "heat_cap_pct=0.5",
          "--risk", "dd_soft_pct=0.3", "--risk", "dd_hard_pct=0.6", "--risk", "daily_loss_pct=0.5"]


def test_sim_with_risk_settings_compares_the_guarded_run_with_the_bare_one(
        two_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATW_HOME", str(tmp_path / "home"))
    data = [a for f in two_files for a in ("--data", str(f))]
    code, out, _ = run(["sim", *data, "--strategy", "ema_cross", "--set", "stop=1.5atr", "--qty", "200",
                        "--capital", "10L", *GUARDS, "--compare-risk", "--out", str(tmp_path / "out")], capsys)
    assert code == 0
    assert "with guardrails" in out and "without" in out and "max drawdown (Rs)" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    guarded, bare = report["risk"], report["without_guardrails"]
    assert report["engine"] == "event+risk" and bare["drawdown_levels"] == {}
    guardrail_rules = {"exposure", "correlation", "tail", "lockout", "cooldown"}
    assert not guardrail_rules & set(bare["refused"])  # only the engine's basics (cutoff, margin) refuse there
    assert guarded["drawdown_levels"], "the guardrails never acted on these days"
    assert guarded["max_drawdown_rupees"] <= bare["max_drawdown_rupees"]  # what the guardrails are for
    assert guarded["worst_day_pnl"] >= bare["worst_day_pnl"]
    assert guarded["trades"] == report["trades"]


def test_config_toml_is_read_and_a_bad_setting_names_its_place(
        two_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("ATW_HOME", str(home))
    (home / "config.toml").write_text('[risk]\ncapital = "5L"\nheat_cap_pct = 150\n')
    data = [a for f in two_files for a in ("--data", str(f))]
    code, _, err = run(["sim", *data, "--strategy", "ema_cross"], capsys)
    assert code != 0 and "config.toml: risk.heat_cap_pct" in err and "between 0 and 100" in err
    (home / "config.toml").write_text('[risk]\ncapital = "5L"\nlockout = ["09:15-11:00"]\n')
    code, _, err = run(["sim", *data, "--strategy", "ema_cross", "--risk", "max_corr=2"], capsys)
    assert code != 0 and "--risk max_corr" in err and "between 0 and 1" in err
    code, out, _ = run(["sim", *data, "--strategy", "ema_cross", "--json", "--no-ledger"], capsys)
    report = json.loads(out)
    assert code == 0 and report["engine"] == "event+risk"  # the [risk] table puts the run under the guardrails
    assert report["risk"]["refused"]["lockout"] > 0
    assert "inside the lockout window 09:15-11:00" in report["risk"]["refused_most_often"]["lockout"]
    journal = Path(report["journal"])
    accepted = [c["payload"]["client_order_id"] for c in (json.loads(line) for p in journal.glob("*.jsonl")
                for line in p.read_text().splitlines()) if c.get("type") == "risk_check" and c["payload"]["accepted"]]
    assert accepted and not [a for a in accepted if "T09" in a or "T10" in a]  # nothing decided before 11:00


def test_from_and_to_bound_a_run_through_the_engine_with_the_earlier_bars_as_warm_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    import pandas as pd

    from core.automation.demo import demo_files
    from core.clock import IST

    monkeypatch.setenv("ATW_HOME", str(tmp_path / "home"))
    data = [a for f in demo_files() for a in ("--data", str(f))]
    window = ["--from", "2025-01-13", "--to", "2025-01-16"]
    for argv in (["replay", *data, "--arm", "DEMO_TREND:ema_cross", "--arm", "DEMO_VOL:ema_cross", "--no-ledger"],
                 ["sim", *data, "--strategy", "ema_cross", "--risk", "heat_cap_pct=5", "--no-ledger"]):
        out = tmp_path / argv[0]
        code, _, err = run([*argv, *window, "--json", "--out", str(out)], capsys)
        assert code == 0, err
        report = json.loads((out / "report.json").read_text())
        trades = pd.read_csv(out / "trades.csv")
        days = {dt.datetime.fromisoformat(t).astimezone(IST).date() for t in trades["entry_time"]}
        assert trades.shape[0] > 0 and min(days) >= dt.date(2025, 1, 13) and max(days) <= dt.date(2025, 1, 16)
        assert (report["first_day"], report["last_day"]) == ("2025-01-13", "2025-01-16")
        first = min(dt.datetime.fromisoformat(t).astimezone(IST) for t in trades["entry_time"])
        assert first.date() == dt.date(2025, 1, 13)  # warmed on the earlier days: it trades the first one


def test_replay_trades_an_instrument_the_master_lacks_as_the_simulator_does(
        two_files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ATW_HOME", str(tmp_path / "home"))
    code, out, _ = run(["replay", "--data", str(two_files[0]), "--arm", "ALPHA:ema_cross", "--no-ledger", "--json"],
                       capsys)
    report = json.loads(out[out.index("{"):])
    assert code == 0 and report["trades"] > 0  # ALPHA is assumed an NSE equity, as `atw sim` assumes it
