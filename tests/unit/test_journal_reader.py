"""Verify and read: tamper evidence at every position, torn tails, corrupt lines, newer schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import JournalCorrupt, JournalSchemaError
from core.journal.reader import (
    iter_records,
    journal_files,
    journal_path,
    latest_journal,
    parse_name,
    read_journal,
    verify,
)
from core.journal.records import genesis, seal
from tests.journal_support import write_mixed

N = 30


@pytest.fixture()
def journal(tmp_path: Path) -> Path:
    return write_mixed(tmp_path, N)


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_a_clean_journal_verifies(journal: Path) -> None:
    result = verify(journal)
    assert result.ok and result.torn is None
    assert (result.records, result.last_seq, result.day, result.mode) == (N, N, "2026-11-20", "paper")
    assert result.good_size == journal.stat().st_size
    assert "ok, 30 records" in result.describe()
    read = read_journal(journal)
    assert [r.seq for r in read.records] == list(range(1, N + 1))
    assert [r.seq for r in iter_records(journal)] == list(range(1, N + 1))


@pytest.mark.parametrize("position", range(1, N + 1))
def test_editing_any_record_fails_at_it(journal: Path, position: int) -> None:
    lines = lines_of(journal)
    record = json.loads(lines[position - 1])
    record["payload"]["tampered"] = True
    lines[position - 1] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    journal.write_bytes(b"".join(lines))
    result = verify(journal)
    assert not result.ok
    assert (result.first_bad.line, result.first_bad.seq) == (position, position)
    assert "altered" in result.first_bad.reason
    assert result.records == position - 1


@pytest.mark.parametrize("position", range(1, N + 1))
def test_a_changed_byte_in_any_record_fails_at_it(journal: Path, position: int) -> None:
    lines = lines_of(journal)
    line = lines[position - 1]
    at = line.index(b'"price"') if b'"price"' in line else line.index(b'"ts":"') + 10
    lines[position - 1] = line[:at + 9] + b"9" + line[at + 10:]
    journal.write_bytes(b"".join(lines))
    assert verify(journal).first_bad.line == position


@pytest.mark.parametrize("position", range(1, N))
def test_deleting_any_record_fails_at_it(journal: Path, position: int) -> None:
    lines = lines_of(journal)
    del lines[position - 1]
    journal.write_bytes(b"".join(lines))
    result = verify(journal)
    assert result.first_bad.line == position and result.first_bad.seq == position + 1
    assert [r.seq for r in read_journal(journal).records] == list(range(1, position))


def test_deleting_the_last_record_fails_against_the_anchor(journal: Path) -> None:
    anchor = verify(journal).anchor
    lines = lines_of(journal)
    journal.write_bytes(b"".join(lines[:-1]))
    assert verify(journal).ok  # a shorter chain is a valid chain...
    result = verify(journal, anchor=anchor)  # ...which the anchor kept elsewhere catches
    assert (result.first_bad.line, result.first_bad.seq) == (N, N)
    assert "missing" in result.first_bad.reason


def test_a_forged_last_record_fails_against_the_anchor(journal: Path) -> None:
    anchor = verify(journal).anchor
    lines = lines_of(journal)
    forged = json.loads(lines[-1])
    del forged["hash"]
    forged["payload"]["price"] = "1.00"
    lines[-1] = seal(forged)[0] + b"\n"  # hash recomputed: the chain alone cannot tell
    journal.write_bytes(b"".join(lines))
    assert verify(journal).ok
    result = verify(journal, anchor=anchor)
    assert (result.first_bad.line, result.first_bad.seq) == (N, N)


@pytest.mark.parametrize("position", range(1, N))
def test_swapping_any_two_adjacent_records_fails_at_the_first(journal: Path, position: int) -> None:
    lines = lines_of(journal)
    lines[position - 1], lines[position] = lines[position], lines[position - 1]
    journal.write_bytes(b"".join(lines))
    result = verify(journal)
    assert (result.first_bad.line, result.first_bad.seq) == (position, position + 1)


def test_a_corrupt_line_in_the_middle_is_named_and_earlier_records_kept(journal: Path) -> None:
    lines = lines_of(journal)
    lines[11] = b'{"hash":"00", this is not json\n'
    journal.write_bytes(b"".join(lines))
    result = verify(journal)
    assert (result.first_bad.line, result.first_bad.seq) == (12, None)
    assert "not valid JSON" in result.first_bad.reason and result.torn is None
    assert f"{journal}:12" in result.describe()
    read = read_journal(journal)
    assert [r.seq for r in read.records] == list(range(1, 12))
    with pytest.raises(JournalCorrupt, match=":12"):
        read.raise_for_bad()
    seen = []
    with pytest.raises(JournalCorrupt) as info:
        for rec in iter_records(journal):
            seen.append(rec.seq)
    assert seen == list(range(1, 12)) and info.value.where == f"{journal}:12"


def test_a_torn_last_line_is_reported_and_everything_before_kept(journal: Path) -> None:
    data = journal.read_bytes()
    cut = data.rstrip(b"\n").rfind(b"\n") + 1 + 40  # 40 bytes into the last record
    journal.write_bytes(data[:cut])
    result = verify(journal)
    assert result.ok and result.records == N - 1
    assert result.torn is not None and result.torn.line == N and len(result.torn.data) == 40
    assert result.good_size == cut - 40
    assert "torn last line 30" in result.describe()
    read = read_journal(journal)
    assert len(read.records) == N - 1 and read.torn_tail == data[cut - 40:cut]
    assert len(list(iter_records(journal))) == N - 1
    with pytest.raises(JournalCorrupt, match="torn"):
        list(iter_records(journal, on_torn="raise"))


def test_a_garbage_terminated_last_line_is_torn(journal: Path) -> None:
    journal.write_bytes(journal.read_bytes() + b"\x00\x00\x00\x00\n")
    result = verify(journal)
    assert result.ok and result.records == N and result.torn.data == b"\x00\x00\x00\x00\n"


def test_garbage_that_is_not_at_the_very_end_is_corruption(journal: Path) -> None:
    journal.write_bytes(journal.read_bytes() + b"\x00\x00\n\x00\x00")
    result = verify(journal)
    assert not result.ok and result.first_bad.line == N + 1


def test_a_valid_json_last_line_that_is_wrong_is_not_torn(journal: Path) -> None:
    lines = lines_of(journal)
    lines[-1] = lines[-1].replace(b'"v":1', b'"v":1,"x":1')
    journal.write_bytes(b"".join(lines))
    result = verify(journal)
    assert result.first_bad.line == N and result.torn is None


def _newer_line(path: Path, seq: int, prev: str) -> bytes:
    body = {"v": 2, "seq": seq, "ts": "2026-11-20T05:00:00.000000Z", "mode": "paper", "trace_id": "",
            "type": "hologram", "payload": {"new": "stuff"}, "prev": prev, "schema_extra": [1]}
    return seal(body)[0] + b"\n"


def test_a_journal_from_a_newer_schema_is_a_clear_error(tmp_path: Path) -> None:
    path = journal_path(tmp_path, "2026-11-20", "paper")
    path.parent.mkdir(parents=True)
    path.write_bytes(_newer_line(path, 1, genesis("2026-11-20", "paper")))
    result = verify(path)
    assert result.newer_schema and result.first_bad.line == 1
    assert "newer atw (schema v2" in result.first_bad.reason and "upgrade" in result.first_bad.reason
    with pytest.raises(JournalSchemaError, match="upgrade atw"):
        list(iter_records(path))


def test_newer_records_after_older_ones_keep_the_older(journal: Path) -> None:
    last = verify(journal)
    journal.write_bytes(journal.read_bytes() + _newer_line(journal, N + 1, last.last_hash))
    read = read_journal(journal)
    assert len(read.records) == N and read.result.newer_schema and read.first_bad.line == N + 1
    with pytest.raises(JournalSchemaError):
        read.raise_for_bad()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r.update(type="teleport"), "unknown record type"),
        (lambda r: r.update(ts="2026-11-20 04:00:00"), "not a UTC ISO-8601"),
        (lambda r: r.update(ts="2020-01-01T00:00:00.000000Z"), "earlier than the previous"),
        (lambda r: r.update(mode="live"), "mode 'live' in a 'paper' journal"),
        (lambda r: r["payload"].pop("fill_id"), "payload lacks fill_id"),
        (lambda r: r.update(seq="5"), "not a journal record"),
        (lambda r: r.update(v=0), "schema version 0 does not exist"),
    ],
)
def test_schema_faults_are_named_even_with_a_recomputed_hash(journal: Path, change, reason: str) -> None:
    lines = lines_of(journal)
    rec = json.loads(lines[4])  # seq 5: a fill
    assert rec["type"] == "fill"
    del rec["hash"]
    change(rec)
    lines[4] = seal(rec)[0] + b"\n"
    journal.write_bytes(b"".join(lines))
    result = verify(journal)
    assert result.first_bad.line == 5 and reason in result.first_bad.reason


def test_files_are_found_by_day_and_mode(tmp_path: Path) -> None:
    for day, mode in [("2026-11-19", "paper"), ("2026-11-20", "paper"), ("2026-11-20", "live")]:
        path = journal_path(tmp_path, day, mode)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    (tmp_path / "journal" / "2026-11-20-paper.jsonl.torn-1").touch()
    assert [p.name for p in journal_files(tmp_path)] == ["2026-11-19-paper.jsonl", "2026-11-20-live.jsonl",
                                                        "2026-11-20-paper.jsonl"]
    assert [p.name for p in journal_files(tmp_path, mode="paper")] == ["2026-11-19-paper.jsonl", "2026-11-20-paper.jsonl"]
    assert [p.name for p in journal_files(tmp_path, day="2026-11-20")] == ["2026-11-20-live.jsonl", "2026-11-20-paper.jsonl"]
    assert latest_journal(tmp_path, "paper").name == "2026-11-20-paper.jsonl"
    assert parse_name("2026-11-20-paper.jsonl") == ("2026-11-20", "paper") and parse_name("notes.txt") is None
    assert verify(journal_path(tmp_path, "2026-11-20", "live")).ok  # an empty file is a valid journal


def test_a_renamed_file_takes_day_and_mode_from_its_first_record(journal: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(journal.read_bytes())
    result = verify(copy)
    assert result.ok and (result.day, result.mode, result.records) == ("2026-11-20", "paper", N)


def test_a_big_journal_is_checked_across_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.journal.reader as reader

    monkeypatch.setattr(reader, "_CHUNK", 4096)  # many batches, records split across reads
    path = write_mixed(tmp_path, 400)
    assert verify(path).records == 400
    lines = lines_of(path)
    lines[250] = lines[250].replace(b'"v":1', b'"v":1 ')
    path.write_bytes(b"".join(lines))
    assert verify(path).first_bad.line == 251
