"""Journal benchmark, run by hand (pytest does not collect it): append rates and replay speed.

    .venv/bin/python tests/bench/journal_bench.py [--records 1000000] [--durable 24000] [--repeat 3]

It writes into a temporary directory beside the project (same filesystem as /work, named in
the output) and prints:

1. durable fill appends/s: one thread, one fsync per fill (write-ahead, no sharing);
2. group commit across threads: N threads append fills concurrently and share fsyncs
   (leader/follower); fsyncs and records per fsync are counted;
3. group commit in one thread: ``append_many`` of B fills, one fsync per call;
4. buffered (non-durable) appends/s with the background flusher (``batch_ms=50``), which also
   writes the replay file: ``--records`` records cycling signal, risk check, order intent,
   order ack, fill;
5. replay: read + verify + parse of that file (``verify`` streams every record through the
   full check into ``Record`` objects; ``iter_records`` the same, yielding them; ``read_journal``
   keeps them all), and what the floor costs are on this machine: reading and splitting lines,
   the msgspec parse alone, SHA-256 alone.

Targets: >= 20,000 durable fill records/s with group commit; replay >= 500,000 records/s.
The exit code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import msgspec  # noqa: E402

from core.journal.reader import _DECODE, iter_records, read_journal, verify  # noqa: E402
from core.journal.records import record_hash  # noqa: E402
from core.journal.writer import JournalWriter  # noqa: E402
from tests.journal_support import TickClock, fill, intent  # noqa: E402

DURABLE_TARGET = 20_000
REPLAY_TARGET = 500_000


class FsyncCounter:
    """Counts os.fsync calls (the bench's only instrumentation)."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = os.fsync
        os.fsync = self._count  # type: ignore[assignment]

    def _count(self, fd: int) -> None:
        self.calls += 1
        self._real(fd)


def filesystem(path: Path) -> str:
    """``fstype device on mountpoint`` for the mount holding ``path`` (Linux), else the platform."""
    try:
        best = ("", "", "")
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, right = line.split(" - ")
            mount = left.split()[4]
            fstype, device = right.split()[:2]
            if str(path).startswith(mount.rstrip("/") + "/") and len(mount) > len(best[2]):
                best = (fstype, device, mount)
        return f"{best[0]} ({best[1]} on {best[2]})"
    except (OSError, ValueError, IndexError):
        return platform.system()


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} /s"


def durable_single(home: Path, n: int, fsyncs: FsyncCounter) -> float:
    with JournalWriter(TickClock(), "single", home=home) as writer:
        payloads = [fill(i) for i in range(n)]
        start, before = time.perf_counter(), fsyncs.calls
        for i, payload in enumerate(payloads):
            writer.append("fill", payload, f"t{i}")
        elapsed = time.perf_counter() - start
    print(f"  1 thread, fsync per fill     {n:>8,} fills {elapsed:7.2f} s {rate(n, elapsed)}   fsyncs {fsyncs.calls - before:,}")
    return n / elapsed


def durable_threads(home: Path, threads: int, total: int, fsyncs: FsyncCounter) -> float:
    per = total // threads
    with JournalWriter(TickClock(), f"threads{threads}", home=home) as writer:
        barrier = threading.Barrier(threads + 1)

        def work(k: int) -> None:
            payloads = [fill(k * per + i) for i in range(per)]
            barrier.wait()
            for payload in payloads:
                writer.append("fill", payload, f"t{k}")

        pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        before = fsyncs.calls
        barrier.wait()
        start = time.perf_counter()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - start
        commits = fsyncs.calls - before
    n = per * threads
    print(f"  {threads:>2} threads                   {n:>8,} fills {elapsed:7.2f} s {rate(n, elapsed)}   "
          f"fsyncs {commits:,} ({n / max(commits, 1):.1f} fills each)")
    return n / elapsed


def durable_batches(home: Path, size: int, total: int, fsyncs: FsyncCounter) -> float:
    calls = total // size
    with JournalWriter(TickClock(), f"batch{size}", home=home) as writer:
        batches = [[("fill", fill(c * size + i), f"t{c}") for i in range(size)] for c in range(calls)]
        start, before = time.perf_counter(), fsyncs.calls
        for batch in batches:
            writer.append_many(batch)
        elapsed = time.perf_counter() - start
        commits = fsyncs.calls - before
    n = calls * size
    print(f"  append_many of {size:>2}            {n:>8,} fills {elapsed:7.2f} s {rate(n, elapsed)}   fsyncs {commits:,}")
    return n / elapsed


def write_replay_file(home: Path, n: int) -> tuple[Path, float]:
    ack = {"client_order_id": "atw-000000", "broker_order_id": "B0", "status": "OPEN"}
    kinds = [
        ("signal", lambda i: {"symbol": "RELIANCE", "strategy": "ema_cross", "side": "BUY", "confidence": 0.7}),
        ("risk_check", lambda i: {"accepted": True, "reason": ""}),
        ("order_intent", lambda i: intent(i)),
        ("order_ack", lambda i: {**ack, "client_order_id": f"atw-{i:06d}", "broker_order_id": f"B{i}"}),
        ("fill", lambda i: fill(i)),
    ]
    with JournalWriter(TickClock(step=dt.timedelta(microseconds=50)), "paper", home=home,
                       batch_ms=50, durable_types=()) as writer:
        start = time.perf_counter()
        for i in range(n):
            kind, make = kinds[i % 5]
            writer.append(kind, make(i // 5), f"t{i // 5}")
        writer.flush()
        elapsed = time.perf_counter() - start
        path = writer.path
    return path, n / elapsed


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - start)
    return min(times), n


def floor_costs(path: Path) -> None:
    data = path.read_bytes()
    start = time.perf_counter()
    lines = data.split(b"\n")[:-1]
    split_s = time.perf_counter() - start
    start = time.perf_counter()
    for line in lines:
        _DECODE.decode(line)
    decode_s = time.perf_counter() - start
    start = time.perf_counter()
    for line in lines:
        record_hash(line)
    hash_s = time.perf_counter() - start
    n = len(lines)
    print(f"  floor on this machine, per record: split {split_s / n * 1e6:.2f} us, msgspec parse into Record "
          f"{decode_s / n * 1e6:.2f} us, SHA-256 {hash_s / n * 1e6:.2f} us "
          f"(sum {(split_s + decode_s + hash_s) / n * 1e6:.2f} us = {n / (split_s + decode_s + hash_s):,.0f} records/s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the replay file")
    parser.add_argument("--durable", type=int, default=24_000, help="fills per group-commit run")
    parser.add_argument("--repeat", type=int, default=3, help="replay runs (best is shown)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="atw-journal-bench-", dir=REPO.parent))
    os.environ["ATW_HOME"] = str(home)
    fsyncs = FsyncCounter()
    print(f"atw journal benchmark  {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"  machine   {platform.platform()}; {platform.processor() or platform.machine()}; "
          f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} usable)")
    print(f"  python    {platform.python_version()}   msgspec {msgspec.__version__}")
    print(f"  directory {home}   filesystem {filesystem(home)}")
    ok = False
    try:
        print("\n1. Durable fills (write-ahead: written + fsynced before append returns)")
        durable_single(home, max(args.durable // 8, 500), fsyncs)
        print("\n2. Group commit across threads (leader/follower: one fsync covers every waiting thread)")
        threaded = max(durable_threads(home, t, args.durable, fsyncs) for t in (8, 32, 64))
        print("\n3. Group commit in one thread (append_many: one fsync per call)")
        batched = max(durable_batches(home, b, args.durable, fsyncs) for b in (8, 32, 64))

        print(f"\n4. Buffered appends (not write-ahead; flushed within batch_ms=50): {args.records:,} mixed records")
        path, buffered = write_replay_file(home, args.records)
        size = path.stat().st_size
        print(f"  {rate(args.records, args.records / buffered)}  ->  {path.name}, {size / 1e6:,.0f} MB "
              f"({size / args.records:.0f} bytes a record)")

        print(f"\n5. Replay: read + verify + parse, {args.records:,} records (best of {args.repeat})")
        verify_s, n = best_of(args.repeat, lambda: verify(path).records)
        assert n == args.records, f"verify saw {n} records"
        iter_s, _ = best_of(args.repeat, lambda: sum(1 for _ in iter_records(path)))
        read_s, _ = best_of(1, lambda: len(read_journal(path).records))
        print(f"  verify(path)                   {verify_s:6.2f} s {rate(n, verify_s)}")
        print(f"  iter_records(path)             {iter_s:6.2f} s {rate(n, iter_s)}")
        print(f"  read_journal(path) (keeps all) {read_s:6.2f} s {rate(n, read_s)}")
        floor_costs(path)
        replay = n / min(verify_s, iter_s)

        print()
        rows = (
            ("durable fills/s, group commit across threads", threaded, DURABLE_TARGET),
            ("durable fills/s, group commit with append_many", batched, DURABLE_TARGET),
            ("replay records/s (read + verify + parse)", replay, REPLAY_TARGET),
        )
        for label, value, target in rows:
            print(f"  {label:<50} {value:>10,.0f}   target >= {target:,}   {'PASS' if value >= target else 'FAIL'}")
        ok = max(threaded, batched) >= DURABLE_TARGET and replay >= REPLAY_TARGET
        print("\nall targets met (durable: by the better form of group commit)" if ok else "\nsome targets missed")
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
