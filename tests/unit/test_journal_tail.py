"""tail: the last records, formatted; following new records and the next day's file."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from core.errors import JournalError
from core.journal.tail import format_line, last_lines, tail
from core.journal.writer import JournalWriter
from tests.journal_support import TickClock, fill, write_mixed


def test_the_last_n_records(tmp_path: Path) -> None:
    path = write_mixed(tmp_path, 30)
    lines = list(tail(path, n=3))
    assert [int(line.split()[0]) for line in lines] == [28, 29, 30]
    assert "fill" in lines[-1] and "symbol=RELIANCE side=BUY qty=10 price=1399.90" in lines[-1]
    assert "  09:15:00.031  " in lines[-1]  # IST (the writer read the clock once on opening)
    assert len(list(tail(path, n=100))) == 30 and list(tail(path, n=0)) == []
    assert [int(line.split()[0]) for line in tail(home=tmp_path, n=2)] == [29, 30]  # newest file by default


def test_last_lines_reads_backwards_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"".join(b"%06d" % i + b"x" * 5000 + b"\n" for i in range(50)) + b"partial")
    lines, offset = last_lines(path, 20)
    assert [int(line[:6]) for line in lines] == list(range(30, 50))
    assert offset == path.stat().st_size - len(b"partial")


def test_a_bad_line_is_shown_not_raised() -> None:
    assert "not a journal record" in format_line(b"{garbage")


def test_no_journal_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal files"):
        list(tail(home=tmp_path))


def test_follow_shows_new_records_and_moves_to_the_next_day(tmp_path: Path) -> None:
    clock = TickClock()
    writer = JournalWriter(clock, "paper", home=tmp_path)
    writer.append("fill", fill(1), "t1")
    done = threading.Event()
    seen: list[str] = []

    def follow() -> None:
        for line in tail(writer.path, n=5, follow=True, poll_s=0.01, stop=done.is_set):
            seen.append(line)

    reader = threading.Thread(target=follow)
    reader.start()
    try:
        writer.append("fill", fill(2), "t2")
        clock.set(dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.timezone.utc))  # 00:30 IST on the 21st
        writer.append("fill", fill(3), "t3")
        writer.close()
        deadline = time.monotonic() + 3
        while len(seen) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        done.set()
        reader.join()
    assert [s.split()[0] for s in seen] == ["1", "2", "==>", "1"]
    assert seen[2] == "==> 2026-11-21-paper.jsonl <==" and "fill_id=F000003" in seen[3]
