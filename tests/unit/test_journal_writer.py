"""The writer: write-ahead durability, batching, group commit, rotation, recovery, full disks, secrets."""

from __future__ import annotations

import datetime as dt
import errno
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from core.clock import IST, SimClock
from core.errors import JournalCorrupt, JournalError, JournalSchemaError
from core.journal.payload import REDACTED
from core.journal.reader import read_journal, verify
from core.journal.records import genesis
from core.journal.writer import JournalWriter
from tests.journal_support import TickClock, fill, intent, write_mixed


class FsyncCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = os.fsync

        def counting(fd: int) -> None:
            self.calls += 1
            real(fd)

        monkeypatch.setattr(os, "fsync", counting)


def on_disk(path: Path) -> list[int]:
    """Seqs in the file as another reader sees them now."""
    return [r.seq for r in read_journal(path).records]


def test_durable_records_are_fsynced_before_append_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = FsyncCounter(monkeypatch)
    with JournalWriter(TickClock(), "paper", home=tmp_path, batch_ms=10_000) as writer:
        before = fsyncs.calls
        rec = writer.append("fill", fill(1), "t1")
        assert fsyncs.calls == before + 1
        assert on_disk(writer.path) == [1] and rec.seq == 1 and rec.prev == genesis("2026-11-20", "paper")
        writer.append("order_intent", intent(2), "t2")
        writer.append("order_ack", {"client_order_id": "atw-000002", "broker_order_id": "B1"}, "t2")
        assert on_disk(writer.path) == [1, 2, 3] and fsyncs.calls == before + 3


def test_other_records_are_durable_within_the_batch_delay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = FsyncCounter(monkeypatch)
    with JournalWriter(TickClock(), "paper", home=tmp_path, batch_ms=150) as writer:
        start = time.monotonic()
        for i in range(5):
            writer.append("signal", {"symbol": "RELIANCE", "i": i}, f"t{i}")
        assert on_disk(writer.path) == []  # still buffered
        while on_disk(writer.path) != [1, 2, 3, 4, 5]:
            assert time.monotonic() - start < 2.0, "buffered records were not flushed"
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        assert 0.1 <= elapsed < 1.0 and fsyncs.calls >= 1


def test_a_durable_append_carries_earlier_buffered_records_in_order(tmp_path: Path) -> None:
    with JournalWriter(TickClock(), "paper", home=tmp_path, batch_ms=10_000) as writer:
        writer.append("signal", {"symbol": "X"}, "t1")
        writer.append("risk_check", {"accepted": True}, "t1")
        assert on_disk(writer.path) == []
        writer.append("order_intent", intent(1), "t1")
        assert on_disk(writer.path) == [1, 2, 3]
        writer.append("note", {"text": "later"}, "")
    assert on_disk(writer.path) == [1, 2, 3, 4]  # close flushes


def test_batch_ms_zero_makes_every_record_durable(tmp_path: Path) -> None:
    with JournalWriter(TickClock(), "paper", home=tmp_path, batch_ms=0) as writer:
        writer.append("note", {"text": "now"}, "")
        assert on_disk(writer.path) == [1]


def test_group_commit_shares_fsyncs_between_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = FsyncCounter(monkeypatch)
    threads, per_thread = 8, 150
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        start_calls = fsyncs.calls
        returned: dict[int, list[int]] = {k: [] for k in range(threads)}
        barrier = threading.Barrier(threads)

        def work(k: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                rec = writer.append("fill", fill(k * 1000 + i), f"t{k}")
                returned[k].append(rec.seq)
                if k == 0 and i % 10 == 0:  # durable when append returned, as another reader sees it
                    assert rec.seq in on_disk(writer.path)

        pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        total = threads * per_thread
        commits = fsyncs.calls - start_calls
        assert commits < total, "no fsync was shared"
    result = verify(writer.path)
    assert result.ok and result.records == total
    records = read_journal(writer.path).records
    for k in range(threads):
        mine = [r.payload["fill_id"] for r in records if r.trace_id == f"t{k}"]
        assert mine == [f"F{k * 1000 + i:06d}" for i in range(per_thread)]  # each thread's order kept
        assert returned[k] == sorted(returned[k])


def test_append_many_shares_one_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = FsyncCounter(monkeypatch)
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        writer.append("signal", {"symbol": "X"}, "t0")
        before = fsyncs.calls
        records = writer.append_many([("fill", fill(i), f"t{i}") for i in range(10)] + [("note", {"n": 1}, "")])
        assert fsyncs.calls == before + 1
        assert [r.seq for r in records] == list(range(2, 13)) and on_disk(writer.path) == list(range(1, 13))
        with pytest.raises(JournalSchemaError, match="price is the float"):
            writer.append_many([("fill", fill(20), "t"), ("fill", fill(21, price=1.5), "t")])
        assert writer.seq == 12 and writer.append_many([]) == []
    assert verify(writer.path).records == 12


def test_a_new_ist_day_starts_a_new_file(tmp_path: Path) -> None:
    clock = SimClock(dt.datetime(2026, 11, 20, 15, 20, tzinfo=IST))
    with JournalWriter(clock, "paper", home=tmp_path) as writer:
        writer.append("fill", fill(1), "t1")
        writer.append("note", {"text": "buffered at the close"}, "")
        first = writer.path
        clock.set(dt.datetime(2026, 11, 21, 0, 0, 1, tzinfo=IST))  # just past IST midnight (18:30 UTC)
        rec = writer.append("fill", fill(2), "t2")
        assert writer.path.name == "2026-11-21-paper.jsonl" and writer.day == "2026-11-21"
        assert rec.seq == 1 and rec.prev == genesis("2026-11-21", "paper")
    assert first.name == "2026-11-20-paper.jsonl"
    assert [r.seq for r in read_journal(first).records] == [1, 2] and verify(first).ok
    assert verify(writer.path).ok and verify(writer.path).records == 1


def test_threads_appending_across_midnight_split_cleanly_between_the_files(tmp_path: Path) -> None:
    clock = TickClock(dt.datetime(2026, 11, 20, 18, 29, 59, 800_000, tzinfo=dt.timezone.utc))  # 23:59:59.8 IST
    threads, per_thread = 4, 100
    with JournalWriter(clock, "paper", home=tmp_path) as writer:
        def work(k: int) -> None:
            for i in range(per_thread):
                writer.append("fill" if i % 2 else "signal", fill(k * 1000 + i), f"t{k}")

        pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    day1, day2 = (tmp_path / "journal" / f"2026-11-{d}-paper.jsonl" for d in (20, 21))
    one, two = verify(day1), verify(day2)
    assert one.ok and two.ok and one.records + two.records == threads * per_thread
    assert one.records > 0 and two.records > 0
    assert one.last_ts < "2026-11-20T18:30:00" <= read_journal(day2).records[0].ts


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = write_mixed(tmp_path, 12)
    last = verify(path)
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        assert writer.path == path and writer.seq == 12 and writer.torn_tails == []
        rec = writer.append("fill", fill(99), "t99")
        assert rec.seq == 13 and rec.prev == last.last_hash
    assert verify(path).ok and verify(path).records == 13


def test_a_clock_that_steps_back_never_makes_ts_run_backwards(tmp_path: Path) -> None:
    clock = TickClock()
    with JournalWriter(clock, "paper", home=tmp_path) as writer:
        a = writer.append("fill", fill(1), "t")
        clock.set(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.timezone.utc))  # NTP stepped back 45 minutes
        b = writer.append("fill", fill(2), "t")
    assert b.ts == a.ts and verify(writer.path).ok


def test_a_torn_tail_is_moved_aside_and_the_chain_continues(tmp_path: Path) -> None:
    path = write_mixed(tmp_path, 10)
    data = path.read_bytes()
    keep = data.rstrip(b"\n").rfind(b"\n") + 1
    torn = data[keep:keep + 50]
    path.write_bytes(data[:keep] + torn)  # the 10th record was being written when the power went
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        [moved] = writer.torn_tails
        assert moved.saved_to.name == "2026-11-20-paper.jsonl.torn-1" and moved.saved_to.read_bytes() == torn
        assert (moved.line, moved.offset, moved.size) == (10, keep, 50)
        assert writer.seq == 9
        assert writer.append("fill", fill(10), "t10").seq == 10
    assert verify(path).ok and verify(path).torn is None and verify(path).records == 10


def test_a_second_torn_tail_gets_its_own_file(tmp_path: Path) -> None:
    path = write_mixed(tmp_path, 3)
    for n in (1, 2):
        path.write_bytes(path.read_bytes() + b'{"hash":"')
        with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
            assert writer.torn_tails[0].saved_to.name.endswith(f".torn-{n}")


def test_a_corrupt_record_before_the_end_refuses_to_append(tmp_path: Path) -> None:
    path = write_mixed(tmp_path, 10)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"qty":10', b'"qty":11')  # seq 3: an order intent
    path.write_bytes(b"".join(lines))
    before = path.read_bytes()
    with pytest.raises(JournalCorrupt, match=r"seq 3: its hash does not match .* refusing to append") as info:
        JournalWriter(TickClock(), "paper", home=tmp_path)
    assert info.value.where == f"{path}:3" and info.value.seq == 3
    assert path.read_bytes() == before and not list(path.parent.glob("*.torn-*"))


def test_a_journal_from_a_newer_atw_is_refused(tmp_path: Path) -> None:
    from core.journal.records import seal

    path = write_mixed(tmp_path, 2)
    body = {"v": 7, "seq": 3, "ts": "2026-11-20T05:00:00.000000Z", "mode": "paper", "trace_id": "",
            "type": "note", "payload": {}, "prev": verify(path).last_hash}
    path.write_bytes(path.read_bytes() + seal(body)[0] + b"\n")
    with pytest.raises(JournalSchemaError, match=r"newer atw \(schema v7.*upgrade"):
        JournalWriter(TickClock(), "paper", home=tmp_path)


def test_a_second_writer_on_the_same_file_is_refused(tmp_path: Path) -> None:
    with JournalWriter(TickClock(), "paper", home=tmp_path):
        with pytest.raises(JournalError, match="another journal writer"):
            JournalWriter(TickClock(), "paper", home=tmp_path)


class DiskFull:
    """os.write that writes ``allow`` more bytes, then fails with ENOSPC until ``free()``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, allow: int = 0, err: int = errno.ENOSPC) -> None:
        self.real, self.allow, self.full, self.err = os.write, allow, True, err
        monkeypatch.setattr(os, "write", self)

    def __call__(self, fd: int, data: bytes) -> int:
        if not self.full:
            return self.real(fd, data)
        if self.allow <= 0:
            raise OSError(self.err, os.strerror(self.err))
        written = self.real(fd, bytes(data[: self.allow]))
        self.allow -= written
        return written

    def free(self) -> None:
        self.full = False


def test_a_full_disk_is_a_clear_error_and_nothing_earlier_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        for i in range(5):
            writer.append("fill", fill(i), f"t{i}")
        disk = DiskFull(monkeypatch, allow=100)  # a partial line reaches the file, then the disk is full
        with pytest.raises(JournalError, match=r"disk full \(ENOSPC\); records seq 6\.\.6 were not written .*intact up to seq 5") as info:
            writer.append("fill", fill(5), "t5")
        assert info.value.where == str(writer.path)
        assert writer.seq == 5  # the failed append took no seq
        assert verify(writer.path).ok and verify(writer.path).records == 5 and verify(writer.path).torn is None
        with pytest.raises(JournalError, match="disk full"):
            writer.append("order_intent", intent(6), "t6")
        disk.free()
        last_hash = verify(writer.path).last_hash
        rec = writer.append("fill", fill(7), "t7")
        assert rec.seq == 6 and rec.prev == last_hash
    result = verify(writer.path)
    assert result.ok and result.records == 6
    assert [r.payload["fill_id"] for r in read_journal(writer.path).records][-1] == "F000007"


def test_an_fsync_error_rolls_back_to_the_last_durable_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        writer.append("fill", fill(1), "t1")
        real = os.fsync
        failing = {"on": True}

        def fsync(fd: int) -> None:
            if failing["on"]:
                failing["on"] = False  # fail once, then the cut-back's own fsync works
                raise OSError(errno.EIO, "Input/output error")
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        with pytest.raises(JournalError, match=r"I/O error \(EIO\)"):
            writer.append("fill", fill(2), "t2")
        assert writer.seq == 1 and verify(writer.path).records == 1
        assert writer.append("fill", fill(3), "t3").seq == 2
    assert verify(writer.path).ok and verify(writer.path).records == 2


def test_buffered_records_lost_to_a_full_disk_are_reported_by_the_next_append(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with JournalWriter(TickClock(), "paper", home=tmp_path, batch_ms=20) as writer:
        writer.append("fill", fill(1), "t1")
        disk = DiskFull(monkeypatch)
        writer.append("signal", {"symbol": "X"}, "t2")
        writer.append("note", {"text": "y"}, "t2")
        deadline = time.monotonic() + 2
        while not writer.lost and time.monotonic() < deadline:
            time.sleep(0.01)
        [lost] = writer.lost
        assert (lost.first_seq, lost.last_seq, lost.buffered) == (2, 3, 2)
        with pytest.raises(JournalError, match=r"2 buffered record\(s\) among seq 2\.\.3 were lost: disk full"):
            writer.append("note", {"text": "z"}, "t3")
        disk.free()
        assert writer.append("fill", fill(4), "t4").seq == 2
    assert verify(writer.path).ok and verify(writer.path).records == 2


def test_secrets_never_reach_the_journal(tmp_path: Path) -> None:
    payload = {
        "user": "AB1234", "access_token": "abcdef0123456789abcdef0123456789", "Request-Token": "rq",
        "apiKey": "k", "nested": {"api_secret": "s", "list": [{"password": "p", "totp": "123456", "pin": "1234"}]},
        "headers": {"Authorization": "token key:secret"}, "enctoken": "e", "refresh_token": "r",
        "instrument_token": 738561, "exchange_token": "2885",
        "message": "login ok access_token=abcdef0123456789 api_key: kitekey123 done",
        "raw": "GET /orders Authorization: token kitekey123:abcdef0123456789", "bearer": "Bearer abc.def.ghi",
    }
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        rec = writer.append("note", payload, "")
    text = writer.path.read_text()
    for secret in ("abcdef0123456789", "kitekey123", '"rq"', '"s"', '"p"', "123456\"", '"1234"', "abc.def.ghi", '"e"', '"r"', '"k"'):
        assert secret not in text, secret
    p = rec.payload
    assert p["access_token"] == p["Request-Token"] == p["apiKey"] == p["enctoken"] == p["refresh_token"] == REDACTED
    assert p["nested"]["api_secret"] == REDACTED and p["nested"]["list"][0] == {"password": REDACTED, "totp": REDACTED, "pin": REDACTED}
    assert p["headers"]["Authorization"] == REDACTED
    assert p["instrument_token"] == 738561 and p["exchange_token"] == "2885" and p["user"] == "AB1234"
    assert p["message"] == f"login ok access_token={REDACTED} api_key: {REDACTED} done"
    assert p["raw"] == f"GET /orders Authorization: token {REDACTED}"
    assert read_journal(writer.path).records[0].payload == p


def test_money_is_never_a_float(tmp_path: Path) -> None:
    with JournalWriter(TickClock(), "paper", home=tmp_path) as writer:
        with pytest.raises(JournalSchemaError, match=r"price is the float 1399.9: it is journaled as a decimal string"):
            writer.append("fill", fill(1, price=1399.9), "t")
        with pytest.raises(JournalSchemaError, match="qty is the float"):
            writer.append("fill", fill(1, qty=10.0), "t")
        with pytest.raises(JournalSchemaError, match="cannot be journaled"):
            writer.append("signal", {"confidence": float("nan")}, "t")
        with pytest.raises(JournalSchemaError, match="a object cannot be journaled"):
            writer.append("note", {"thing": object()}, "t")
        with pytest.raises(JournalSchemaError, match="needs fill_id, price"):
            writer.append("fill", {k: v for k, v in fill(1).items() if k not in ("price", "fill_id")}, "t")
        with pytest.raises(JournalSchemaError, match="unknown record type 'teleport'"):
            writer.append("teleport", {}, "t")
        assert writer.seq == 0  # nothing refused took a seq
        rec = writer.append("fill", fill(1, price=Decimal("1399.90"), charges={"stt": Decimal("1.40")},
                                      confidence=0.73, when=dt.datetime(2026, 11, 20, 9, 30, tzinfo=IST)), "t")
    assert rec.payload["price"] == "1399.90" and rec.payload["charges"] == {"stt": "1.40"}
    assert rec.payload["confidence"] == 0.73 and rec.payload["when"] == "2026-11-20T04:00:00.000000Z"
    assert read_journal(writer.path).records[0] == rec


def test_closed_writers_refuse_appends(tmp_path: Path) -> None:
    writer = JournalWriter(TickClock(), "paper", home=tmp_path)
    writer.close()
    writer.close()
    with pytest.raises(JournalError, match="closed"):
        writer.append("note", {}, "")
