"""What the guardrails do to a month of real NIFTY and to synthetic crash days: the simulator's
comparison, with and without them (the same capital and sizing), reported and checked."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.clock import IST
from tests.conftest import nifty_files
from tests.integration.test_cli import run

GUARDRAILS = ["--capital", "20L", "--risk", "sizing=risk", "--risk", "risk_per_trade_pct=0.25",
              "--risk", "heat_cap_pct=1", "--risk", "dd_soft_pct=0.75", "--risk", "dd_hard_pct=1.5",
              "--risk", "daily_loss_pct=1", "--risk", "loss_streak=3", "--risk", "cooldown_min=30"]
DAILY_LIMIT = 20_000.0  # 1 % of 20L


def compare(files: list[Path], out: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    data = [a for f in files for a in ("--data", str(f))]
    code, printed, _ = run(["sim", *data, "--strategy", "ema_cross", "--strategy", "atr_reversal",
                            "--strategy", "range_breakout", "--set", "stop=1.5atr", *GUARDRAILS,
                            "--compare-risk", "--out", str(out)], capsys)
    assert code == 0
    print(printed[printed.index("with guardrails") - 40:])  # the comparison, in the test log
    return json.loads((out / "report.json").read_text())  # type: ignore[no-any-return]


def test_two_months_of_real_nifty_with_and_without_the_guardrails(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    files = [f for f in nifty_files() if f.name in ("2022 MAY NIFTY.txt", "2022 JUN NIFTY.txt")]
    report = compare(files, tmp_path / "out", capsys)
    guarded, bare = report["risk"], report["without_guardrails"]
    assert bare["trades"] > 0 and guarded["trades"] > 0
    assert guarded["max_drawdown_rupees"] < bare["max_drawdown_rupees"]
    assert guarded["worst_day_pnl"] > bare["worst_day_pnl"]
    assert guarded["drawdown_levels"].get("daily_loss", 0) > 0


def crash_days(path: Path, seed: int = 5) -> Path:
    """Three ordinary sessions, a crash day that falls 9 % in three legs with sharp rebounds
    between them (a whipsaw: trend and reversal entries both get caught), and a calm day."""
    rng = np.random.default_rng(seed)
    frames, price = [], 20_000.0
    legs = {3: [-0.035, 0.025, -0.04, 0.03, -0.045, 0.01]}  # the crash day's moves, each over 62 minutes
    for day in range(5):
        start = pd.Timestamp(dt.datetime(2025, 3, 3 + day, 9, 15, tzinfo=IST))
        idx = pd.date_range(start, periods=375, freq="1min")
        drift = np.zeros(375)
        for k, move in enumerate(legs.get(day, [])):
            drift[k * 62:(k + 1) * 62] = move / 62
        steps = drift + rng.normal(0, 0.0012 if day in legs else 0.0006, 375)
        close = price * np.exp(np.cumsum(steps))
        open_ = np.concatenate([[price], close[:-1]])
        wick = np.abs(rng.normal(0, 0.0006, 375)) * close
        frames.append(pd.DataFrame({"open": open_, "high": np.maximum(open_, close) + wick,
                                    "low": np.minimum(open_, close) - wick, "close": close, "volume": 0}, index=idx))
        price = float(close[-1])
    frame = pd.concat(frames)
    frame.index = [t.isoformat() for t in frame.index]
    frame.rename_axis("timestamp").assign(symbol="NIFTY").to_csv(path)
    return path


def test_around_a_whipsaw_crash_the_daily_loss_lock_bounds_the_worst_day(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    report = compare([crash_days(tmp_path / "crash.csv")], tmp_path / "out", capsys)
    guarded, bare = report["risk"], report["without_guardrails"]
    assert bare["worst_day_pnl"] < -DAILY_LIMIT  # without the guardrails a day goes past the limit
    # with them, the lock stops new entries at the limit; what is open keeps its stop, so a day
    # ends past the limit only by the open positions' last slide and the charges
    assert -1.25 * DAILY_LIMIT < guarded["worst_day_pnl"]
    assert guarded["worst_day_pnl"] > bare["worst_day_pnl"]
    assert guarded["drawdown_levels"].get("daily_loss", 0) > 0
