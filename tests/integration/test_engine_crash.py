"""Kill the engine's process mid-session (SIGKILL), start it again: nothing sent twice, nothing forgotten.

Each round runs ``engine_crash_child.py start`` (a paper session over replayed demo bars, paced
so the kill lands mid-session), kills it at a random moment, then runs ``restart`` on the same
journal, which restores the engine from the journal and trades the rest of the data. Checked
from the journal alone, as an auditor would:

- the journal verifies (a torn last line was moved aside by the restart);
- no client order id was ever sent twice;
- every position open at the kill is in the restart's record of what it took back, with its
  stop working at the broker at the level last asked for before the kill;
- at the end every position is flat, and no entry went out at or after the cutoff.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from core.clock import IST
from core.instants import parse_utc
from core.journal.reader import iter_records, journal_files, verify
from core.journal.records import Record, RecordType
from core.journal.replay import ReplayState

CHILD = Path(__file__).with_name("engine_crash_child.py")
PACE_US = "250"
ROUNDS = 3


def run_child(home: Path, phase: str, kill_at: tuple[int, float] | None = None) -> subprocess.CompletedProcess[str] | None:
    """Run a phase to its end, or (``kill_at`` = (progress line, extra seconds)) kill it mid-session:
    after it reported that many hundred events handled, plus a moment, so the kill lands in the
    session however fast or slow this machine is (a cold numba cache takes seconds at first)."""
    cmd = [sys.executable, str(CHILD), str(home), phase, PACE_US]
    if kill_at is None:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    lines, extra = kill_at
    for _ in range(lines):
        line = proc.stdout.readline()
        assert line.startswith("progress"), f"the child stopped early: {line!r}"
    time.sleep(extra)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return None


def records(home: Path) -> list[Record]:
    return [rec for path in journal_files(home, mode="paper") for rec in iter_records(path)]


def test_sigkill_mid_session_then_restart(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    positions_taken_back = 0
    for round_no in range(ROUNDS):
        home = tmp_path / f"round{round_no}"
        run_child(home, "start", kill_at=(rng.randint(5, 70), rng.uniform(0.0, 0.05)))
        before = records(home)
        done = run_child(home, "restart")
        assert done is not None and done.returncode == 0, done.stderr if done else ""
        for path in journal_files(home, mode="paper"):
            checked = verify(path)
            assert checked.ok and checked.torn is None, checked.describe()
        after = records(home)
        assert after[: len(before)] == before, "the restart changed what was recorded before the kill"

        intents = Counter(r.payload["client_order_id"] for r in after if r.type == RecordType.ORDER_INTENT)
        assert max(intents.values()) == 1, [c for c, n in intents.items() if n > 1]

        at_kill = ReplayState()
        stops: dict[str, str] = {}  # stop order -> the level last asked for
        for rec in before:
            at_kill.apply(rec)
            p = rec.payload
            if rec.type == RecordType.ORDER_INTENT and p.get("order_type") == "SL-M":
                stops[p["client_order_id"]] = p["trigger_price"]
            elif rec.type == RecordType.ORDER_UPDATE and p.get("action") == "modify" and "trigger_price" in p:
                stops[p["client_order_id"]] = p["trigger_price"]
        restored = [r.payload for r in after[len(before):] if r.type == RecordType.NOTE
                    and r.payload.get("event") == "restored"]
        assert len(restored) == 1
        taken_back = {p["position_id"]: p for p in restored[0]["positions"]}
        open_at_kill = {p.position_id for p in at_kill.open_positions}
        assert set(taken_back) == open_at_kill, "a position was forgotten (or invented) by the restart"
        for pid, view in taken_back.items():
            assert view["stop_working"], f"{pid}: no stop working after the restart"
            if view["stop_order"] in stops:  # sent before the kill: the broker holds it at its last level
                assert view["stop_trigger"] == stops[view["stop_order"]]
        positions_taken_back += len(taken_back)

        final = ReplayState()
        for rec in after:
            final.apply(rec)
        assert final.open_positions == [], "a position was left open"
        for rec in after:
            if rec.type == RecordType.ORDER_INTENT and rec.payload["purpose"] == "entry":
                sent = parse_utc(rec.ts).astimezone(IST)
                assert sent.time() < dt.time(15, 0), f"entry {rec.payload['client_order_id']} at {sent}"
        assert len(final.closed_positions) > 5
    assert positions_taken_back > 0, "no kill landed while a position was open: the test proved nothing"
