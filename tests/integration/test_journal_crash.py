"""Crash safety: a writer killed with SIGKILL at random moments never loses a fill it acknowledged.

Each round starts ``journal_crash_child.py`` on the same journal; the child recovers the file
(moving a torn tail aside if the last kill left one), then appends fills from one or four
threads, printing each fill id only after ``append`` returned. The parent kills it at a random
moment -- sometimes during start-up and recovery, mostly while fills are being written.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from core.journal.reader import journal_path, read_journal, verify
from core.journal.writer import JournalWriter
from tests.journal_support import TickClock

CHILD = Path(__file__).with_name("journal_crash_child.py")
ROUNDS = 52


class Child:
    """One child process whose stdout is collected by a thread (so a full pipe never stalls it)."""

    def __init__(self, home: Path, round_no: int, threads: int, epoch: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(home), str(round_no), str(threads), repr(epoch)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode().rstrip("\n"))
            self.ready.set()

    def kill(self) -> str:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.reader.join()
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode()


def test_sigkill_never_loses_an_acknowledged_fill(tmp_path: Path) -> None:
    rng = random.Random(20261120)
    epoch = time.time()
    acked: set[str] = set()
    rounds_with_fills: set[int] = set()
    torn_seen = 0
    started = time.monotonic()
    for round_no in range(ROUNDS):
        child = Child(tmp_path, round_no, threads=rng.choice((1, 4)), epoch=epoch)
        if round_no % 6 == 5:
            time.sleep(rng.uniform(0.0, 0.12))  # anywhere: start-up, recovery or appending
        else:
            assert child.ready.wait(10), "the child did not start"
            time.sleep(rng.uniform(0.01, 0.12))
        errors = child.kill()
        assert child.proc.returncode == -signal.SIGKILL
        assert "Traceback" not in errors, errors
        ids = [line for line in child.lines if not line.startswith("ready")]
        readies = [line for line in child.lines if line.startswith("ready")]
        if readies:
            torn_seen += int(readies[0].split()[2])
        if ids:
            rounds_with_fills.add(round_no)
        # a line cut short by the kill was not acknowledged
        acked.update(i for i in ids if i.count("-") == 2 and i.split("-")[2].isdigit())
    elapsed = time.monotonic() - started

    path = journal_path(tmp_path, "2026-11-20", "paper")
    result = verify(path)
    assert result.ok, result.describe()  # at most a torn last line
    read = read_journal(path)
    journaled = [r.payload["fill_id"] for r in read.records if r.type == "fill"]
    assert len(journaled) == len(set(journaled)), "a fill was journaled twice"
    missing = acked - set(journaled)
    assert not missing, f"{len(missing)} acknowledged fills are not in the journal, e.g. {sorted(missing)[:5]}"
    assert {int(f.split("-")[0][1:]) for f in journaled} >= rounds_with_fills
    assert [r.seq for r in read.records] == list(range(1, len(read.records) + 1))
    assert len(rounds_with_fills) >= ROUNDS // 2 and len(acked) > 500

    # the ledger rebuilt from the journal holds exactly the journal's orders and fills
    from core.journal.projector import LedgerProjector
    from core.ledger import Ledger

    with Ledger.open(tmp_path / "rebuilt.sqlite", durable=False) as ledger:
        LedgerProjector(ledger).apply_all(read.records)
        snap = ledger.snapshot()
    intents = [r.payload["client_order_id"] for r in read.records if r.type == "order_intent"]
    assert snap.counts()["orders"] == len(intents) and snap.counts()["fills"] == len(journaled)
    assert snap.counts()["sessions"] == sum(r.type == "session_start" for r in read.records)
    assert all(f"c{fill_id}" in intents for fill_id in acked)  # every acknowledged fill had its intent first

    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:  # the next start recovers cleanly
        assert writer.seq == len(read.records)
    final = verify(path)
    assert final.ok and final.torn is None
    print(f"\n{ROUNDS} kills in {elapsed:.1f} s: {len(acked)} acknowledged fills, all journaled; "
          f"{len(journaled)} fills and {len(read.records)} records in the file; torn tails moved aside: {torn_seen}")

