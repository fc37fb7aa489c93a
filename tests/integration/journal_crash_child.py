"""A journal writer for the crash test: appends fills as fast as it can until it is killed.

    python tests/integration/journal_crash_child.py HOME ROUND THREADS EPOCH

Prints ``ready <seq> <torn tails moved>`` once the journal is open (recovered), then one fill id
per line, each only after its ``append`` returned. Every few fills a buffered (non-durable)
signal goes in between. The clock is 2026-11-20 04:00 UTC plus the seconds since EPOCH.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.journal.writer import JournalWriter  # noqa: E402
from tests.journal_support import fill, intent  # noqa: E402

BASE = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.timezone.utc)


class WallOffsetClock:
    def __init__(self, epoch: float) -> None:
        self.epoch = epoch

    def now(self) -> dt.datetime:
        return BASE + dt.timedelta(seconds=time.time() - self.epoch)


def main() -> None:
    home, round_no, threads, epoch = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    writer = JournalWriter(WallOffsetClock(epoch), "paper", home=home, batch_ms=5)
    # a restart opens a new session; each fill follows its order intent (write-ahead)
    writer.append("session_start", {"day": writer.day, "mode": "paper", "config_hash": "crash",
                                    "app_version": "test", "costs": "none"})
    os.write(1, f"ready {writer.seq} {len(writer.torn_tails)}\n".encode())

    def work(k: int) -> None:
        i = 0
        while True:
            i += 1
            fill_id = f"r{round_no}-t{k}-{i}"
            order = {**intent(i), "client_order_id": f"c{fill_id}", "position_id": f"p{fill_id}"}
            writer.append("order_intent", order, f"r{round_no}-t{k}")
            writer.append("fill", {**fill(i), "fill_id": fill_id, "client_order_id": f"c{fill_id}",
                                   "position_id": f"p{fill_id}"}, f"r{round_no}-t{k}")
            os.write(1, f"{fill_id}\n".encode())
            time.sleep(0.001)  # a busy trading day's pace, not a benchmark: keeps the rebuild below short
            if i % 7 == 0:
                writer.append("signal", {"symbol": "RELIANCE", "n": i}, f"r{round_no}-t{k}")

    pool = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


if __name__ == "__main__":
    main()
