"""Journal -> ledger: the ledger written live equals the one rebuilt from the journal, to the paisa,
and both equal the simulator's own trades."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.clock import SimClock
from core.journal.projector import LedgerProjector
from core.journal.reader import journal_files, read_journal, verify
from core.journal.recorder import TradeRecorder
from core.journal.replay import replay
from core.journal.writer import JournalWriter
from core.ledger import Ledger
from core.simulator.costs import cost_model
from core.simulator.run import simulate
from core.simulator.trades import TRADE_COLUMNS
from core.strategies import REGISTRY, create
from tests.conftest import synthetic

SETTINGS = {"stop": "1atr", "target": "3r", "trail": "1atr", "partial": "1r:50%", "qty": "10", "slippage": "1tick"}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One recorded event-path run (journal + live ledger), shared by the tests here."""
    home = tmp_path_factory.mktemp("recorded")
    result, ledger = recorded_run(home)
    ledger.close()
    return result, home


def recorded_run(home: Path):  # type: ignore[no-untyped-def]
    series = [synthetic("SYN", sessions=4, seed=41)]
    strategies = [create(n, **SETTINGS) for n in sorted(REGISTRY)]
    clock = SimClock(series[0].frame.index[0].to_pydatetime())
    costs = cost_model("zerodha")
    ledger = Ledger.open(home / "live.sqlite")
    journal = JournalWriter(clock, "sim", home=home, batch_ms=0)
    recorder = TradeRecorder(journal, clock, mode="sim", costs=costs, ledger=ledger, config_hash="cfg", app_version="t")
    result = simulate(series, strategies, engine="event", costs=costs, listener=recorder)
    recorder.close()
    journal.close()
    return result, ledger


def test_rebuilt_ledger_equals_the_live_one_and_the_simulator(recorded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result, home = recorded
    live = Ledger.open(home / "live.sqlite")
    files = journal_files(home, mode="sim")
    assert len(files) == 4  # one file per trading day
    assert all(verify(f).ok for f in files)
    records = [r for f in files for r in read_journal(f).records]

    rebuilt = Ledger.open(tmp_path / "rebuilt.sqlite")
    LedgerProjector(rebuilt).apply_all(records)
    assert live.snapshot() == rebuilt.snapshot()

    ours = result.trades.loc[:, list(TRADE_COLUMNS)].reset_index(drop=True)
    assert len(ours) > 20 and (ours["exit_reason"] == "partial").any()
    from_ledger = live.export_trades(None, None, mode="sim")
    from_journal = replay(records).trades().loc[:, list(TRADE_COLUMNS)]
    key = ["exit_time", "symbol", "strategy", "entry_time", "qty", "exit_price"]
    for frame in (from_ledger, from_journal):
        got = frame.sort_values(key, kind="stable").reset_index(drop=True)
        exp = ours.sort_values(key, kind="stable").reset_index(drop=True)
        assert list(got["net_pnl"].astype(str).map(lambda v: f"{float(v):.2f}")) == [f"{v:.2f}" for v in exp["net_pnl"]]
        assert list(got["charges"].astype(float).round(2)) == list(exp["charges"].round(2))
        assert list(got["entry_time"]) == list(exp["entry_time"]) and list(got["exit_reason"]) == list(exp["exit_reason"])
    live.close()
    rebuilt.close()


def test_every_fill_carries_its_decision_trace(recorded) -> None:  # type: ignore[no-untyped-def]
    records = [r for f in journal_files(recorded[1], mode="sim") for r in read_journal(f).records]
    by_trace: dict[str, list[str]] = {}
    for r in records:
        if r.trace_id:
            by_trace.setdefault(r.trace_id, []).append(r.type)
    assert by_trace
    for types in by_trace.values():
        assert types[:3] == ["signal", "order_intent", "fill"]  # decision, order, fill
        assert types.count("order_intent") == types.count("fill") >= 2  # entry and at least one exit


def test_journal_cli_verifies_replays_and_rebuilds(recorded, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from core.cli import main

    result, home = recorded
    live = Ledger.open(home / "live.sqlite")
    copies = tmp_path / "journal"
    shutil.copytree(home / "journal", copies)
    files = [str(copies / f.name) for f in journal_files(home, mode="sim")]
    assert main(["journal", "verify", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok,") == len(files)
    rebuilt = tmp_path / "cli-rebuilt.sqlite"
    assert main(["journal", "replay", *files, "--out", str(tmp_path / "t.csv"), "--ledger", str(rebuilt)]) == 0
    out = capsys.readouterr().out
    assert f"{len(result.trades)} trade legs" in out and "0 open positions" in out
    with Ledger.open(rebuilt) as again:
        assert again.snapshot() == live.snapshot()
    live.close()
    # tamper with one fill's price: verify names the file, line and seq, and exits 1
    target = Path(files[1])
    lines = target.read_bytes().splitlines(keepends=True)
    k = next(i for i, line in enumerate(lines) if b'"type":"fill"' in line)
    lines[k] = lines[k].replace(b'"price":"', b'"price":"1', 1)
    target.write_bytes(b"".join(lines))
    assert main(["journal", "verify", *files]) == 1
    out = capsys.readouterr().out
    assert f"{target}:{k + 1} (seq {k + 1})" in out


def test_a_record_cut_off_the_end_is_caught_by_the_ledger_anchor(recorded, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from core.cli import main

    _, home = recorded
    last = journal_files(home, mode="sim")[-1]
    copy = tmp_path / last.name
    shutil.copy(last, copy)
    ledger = str(home / "live.sqlite")
    assert main(["journal", "verify", str(copy), "--ledger", ledger]) == 0
    assert "end checked against the ledger's anchor" in capsys.readouterr().out
    lines = copy.read_bytes().splitlines(keepends=True)
    copy.write_bytes(b"".join(lines[:-1]))  # delete the last record: the chain alone cannot tell
    assert main(["journal", "verify", str(copy), "--ledger", str(tmp_path / "no-ledger.sqlite")]) == 0
    capsys.readouterr()
    assert main(["journal", "verify", str(copy), "--ledger", ledger]) == 1
    out = capsys.readouterr().out
    assert f"records {len(lines)}..{len(lines)} are missing" in out
