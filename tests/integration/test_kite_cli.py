"""``atw kite-replica`` and ``atw run`` as a trader runs them: two processes, the real client between."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.integration.kite_fixtures import free_port_pair

ROOT = Path(__file__).resolve().parents[2]


def test_atw_run_in_canary_mode_trades_the_replica_with_capped_quantity_and_journals_it(tmp_path: Path) -> None:
    port = free_port_pair()
    env = {**os.environ, "ATW_HOME": str(tmp_path), "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT),
           "PYTHON_KEYRING_BACKEND": "tests.integration.memory_keyring.MemoryKeyring",
           "ATW_KITE_API_SECRET": "replicasecret"}
    replica = subprocess.Popen([sys.executable, "-m", "core.cli", "kite-replica", "--port", str(port),
                                "--speed", "600", "--seconds", "120"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert replica.stdout is not None
        assert "kite replica: REST" in replica.stdout.readline()
        run = subprocess.run([sys.executable, "-m", "core.cli", "run", "--mode", "canary", "--kite-root",
                              f"http://127.0.0.1:{port}", "--clock", "feed", "--api-key", "atwreplica",
                              "--arm", "DEMO_TREND:ema_cross", "--set", "qty=50", "--set", "stop=1.5atr",
                              "--canary-qty", "1", "--until", "10:45"],
                             env=env, capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    finally:
        replica.terminate()
        replica.wait(10)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "atw run: canary on Kite" in run.stdout and "atw run: stopped" in run.stdout
    journal = list((tmp_path / "journal").rglob("*.jsonl"))
    assert journal and all("canary" in p.name for p in journal)
    con = sqlite3.connect(tmp_path / "ledger.sqlite")
    orders = con.execute("select client_order_id, qty, broker_order_id from orders").fetchall()
    assert orders and all(qty == 1 for _, qty, _ in orders)  # 50 asked, the canary's 1 sent
    assert all(broker_id for _, _, broker_id in orders)  # each one placed at (the replica of) Kite
    cached = list((tmp_path / "cache").glob("kite-instruments-NSE-*.csv"))
    assert len(cached) == 1  # the day's instrument dump, kept for the day
    warmed = sorted(p.name for p in (tmp_path / "cache" / "history" / "DEMO_TREND" / "minute").glob("*.csv"))
    assert warmed == ["2025-01-17.csv", "2025-01-20.csv"]  # the two sessions before the day, stored for next time


def test_the_demo_and_replay_paths_never_load_kiteconnect_or_twisted() -> None:
    probe = ("import sys, app.main, core.automation.replay, core.automation.demo, core.cli; "
             "core.cli.build_parser(); print(sorted(m for m in ('kiteconnect', 'twisted') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         check=True)
    assert out.stdout.strip() == "[]"  # Twisted installs a reactor at import: only a Kite session may pay for it
