"""Read and verify journal files.

A file is ``<home>/journal/<YYYY-MM-DD>-<mode>.jsonl`` (the IST day). Reading stops at the
first record that is not right and keeps every record before it:

- a **torn tail** -- the bytes after the last newline, or a last line that is not JSON at all --
  is what a crash in the middle of a write leaves; it is reported, not an error;
- any other bad record (not JSON or not a record, a newer schema, a broken hash, ``seq`` or
  ``prev``, a ``ts`` that is not UTC ISO or runs backwards, an unknown type, an order intent or
  fill without its fields) is **the first bad record**, named by line and seq.

:func:`verify` streams a file and reports; :func:`read_journal` also keeps the records;
:func:`iter_records` streams them and raises at a bad record. Parsing is ``msgspec`` straight
into :class:`~core.journal.records.Record`; a batch of lines is checked column-wise and only a
batch with a fault is walked record by record to name it.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter, le
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from core.errors import JournalCorrupt, JournalError, JournalSchemaError
from core.journal.records import (
    KNOWN_TYPES,
    REQUIRED_FIELDS,
    REST_START,
    SCHEMA_VERSION,
    Record,
    genesis,
    record_hash,
)
from core.paths import atw_home

IST = ZoneInfo("Asia/Kolkata")  # the journal's day is the NSE's (core.clock.IST, without pandas)
JOURNAL_DIR = "journal"
SUFFIX = ".jsonl"
_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-([a-z][a-z0-9_]*)\.jsonl$")
MODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
TS_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$")
_CHUNK = 1 << 19  # ~1,400 records: small batches stay in the CPU cache

_DECODE = msgspec.json.Decoder(Record)
_DECODE_ANY = msgspec.json.Decoder()
_COLUMNS = attrgetter("hash", "prev", "seq", "v", "mode", "type", "ts", "payload")
_TS_RUN = re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)+")  # the writer's form, concatenated
_REQUIRED_GET = REQUIRED_FIELDS.get
_NOTHING: frozenset[str] = frozenset()


# -- where files are ---------------------------------------------------------------------------

def journal_dir(home: Path | None = None) -> Path:
    """``<home>/journal`` (home defaults to :func:`core.paths.atw_home`)."""
    return (home if home is not None else atw_home()) / JOURNAL_DIR


def journal_path(home: Path | None, day: dt.date | str, mode: str) -> Path:
    """The file of one IST trading day and mode."""
    if not MODE_PATTERN.match(mode):
        raise JournalError(f"mode {mode!r} is not a lower-case name", where="journal")
    day_text = day.isoformat() if isinstance(day, dt.date) else dt.date.fromisoformat(day).isoformat()
    return journal_dir(home) / f"{day_text}-{mode}{SUFFIX}"


def parse_name(path: Path | str) -> tuple[str, str] | None:
    """``(day, mode)`` from a journal file name, or None when it is not one."""
    match = _NAME.match(Path(path).name)
    return (match.group(1), match.group(2)) if match else None


def journal_files(home: Path | None = None, day: dt.date | str | None = None, mode: str | None = None) -> list[Path]:
    """Journal files under ``home``, oldest day first, optionally of one day and/or mode."""
    folder = journal_dir(home)
    if not folder.is_dir():
        return []
    want_day = None if day is None else (day.isoformat() if isinstance(day, dt.date) else str(day))
    found = []
    for path in folder.iterdir():
        parsed = parse_name(path)
        if parsed and (want_day is None or parsed[0] == want_day) and (mode is None or parsed[1] == mode):
            found.append((parsed, path))
    return [path for _, path in sorted(found)]


def latest_journal(home: Path | None = None, mode: str | None = None) -> Path | None:
    """The newest journal file (by day), or None."""
    files = journal_files(home, mode=mode)
    return files[-1] if files else None


# -- results -----------------------------------------------------------------------------------

class BadRecord(NamedTuple):
    """The first record that is not right: its 1-based line, its seq if it has one, and why."""

    line: int
    seq: int | None
    reason: str


@dataclass(frozen=True)
class TornTail:
    """The end of a file left by a write that did not finish (kept out of the records)."""

    line: int  # 1-based line where it starts
    offset: int  # byte offset where it starts (the file's good length)
    data: bytes


@dataclass
class VerifyResult:
    """What :func:`verify` found. ``ok`` allows a torn tail (reported in ``torn``)."""

    path: Path
    day: str
    mode: str
    records: int = 0
    torn: TornTail | None = None
    first_bad: BadRecord | None = None
    newer_schema: bool = False
    last_seq: int = 0
    last_hash: str = ""
    last_ts: str = ""
    good_size: int = 0  # bytes up to the end of the last good record

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    @property
    def anchor(self) -> tuple[int, str]:
        """``(last seq, last hash)``: keep it elsewhere to detect records cut off the end later."""
        return self.last_seq, self.last_hash

    def describe(self) -> str:
        """One line for the trader."""
        if self.first_bad is not None:
            bad = self.first_bad
            seq = f" (seq {bad.seq})" if bad.seq is not None else ""
            return f"{self.path}:{bad.line}{seq}: {bad.reason}; {self.records} records before it are good"
        text = f"{self.path}: ok, {self.records} records"
        if self.records:
            text += f", seq 1..{self.last_seq}, last hash {self.last_hash[:16]}"
        if self.torn is not None:
            text += f"; torn last line {self.torn.line} ({len(self.torn.data)} bytes, a write cut off by a crash)"
        return text

    def error(self) -> JournalError | None:
        """The typed error for ``first_bad`` (None when ok)."""
        if self.first_bad is None:
            return None
        where = f"{self.path}:{self.first_bad.line}"
        if self.newer_schema:
            return JournalSchemaError(self.first_bad.reason, where=where)
        seq = f"seq {self.first_bad.seq}: " if self.first_bad.seq is not None else ""
        return JournalCorrupt(seq + self.first_bad.reason, where=where, seq=self.first_bad.seq)


@dataclass
class JournalRead:
    """Every record before the first bad one, and what :func:`verify` says about the file."""

    records: list[Record]
    result: VerifyResult
    path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.path = self.result.path

    @property
    def torn_tail(self) -> bytes | None:
        return self.result.torn.data if self.result.torn is not None else None

    @property
    def first_bad(self) -> BadRecord | None:
        return self.result.first_bad

    def raise_for_bad(self) -> None:
        """Raise :class:`JournalCorrupt` / :class:`JournalSchemaError` for a bad record."""
        error = self.result.error()
        if error is not None:
            raise error


# -- reading -----------------------------------------------------------------------------------

def verify(path: Path | str, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Check a whole file: JSON, envelope, schema version, hash, seq, prev, ts, type, payload.

    With ``anchor`` (a ``(seq, hash)`` kept elsewhere, e.g. by the ledger) the file must still
    hold that record: records cut off the end are reported at the first missing line.
    """
    scan = _Scan(Path(path))
    with _gc_paused():  # records are dropped batch by batch; nothing here makes a cycle
        for _ in scan.batches():
            pass
    result = scan.result
    if anchor is not None and result.ok:
        _check_anchor(result, anchor)
    return result


def read_journal(path: Path | str) -> JournalRead:
    """Every good record of a file (all before a torn tail or the first bad record) and the report."""
    scan = _Scan(Path(path))
    records: list[Record] = []
    with _gc_paused():
        for batch in scan.batches():
            records.extend(batch)
    return JournalRead(records, scan.result)


def iter_records(path: Path | str, *, on_torn: str = "stop") -> Iterator[Record]:
    """Stream a file's records, verified. Raises at the first bad record, after yielding all good
    ones before it; a torn tail ends the stream (``on_torn="raise"``: raises JournalCorrupt)."""
    scan = _Scan(Path(path))
    for batch in scan.batches():
        yield from batch
    result = scan.result
    error = result.error()
    if error is not None:
        raise error
    if result.torn is not None and on_torn == "raise":
        raise JournalCorrupt(f"torn last line ({len(result.torn.data)} bytes)", where=f"{result.path}:{result.torn.line}")


def decode_line(line: bytes) -> Record:
    """Parse one line into a Record, without checking the chain (for tail and tools)."""
    return _DECODE.decode(line)


def _check_anchor(result: VerifyResult, anchor: tuple[int, str]) -> None:
    seq, digest = anchor
    if result.last_seq < seq:
        result.first_bad = BadRecord(result.last_seq + 1, result.last_seq + 1,
                                     f"records {result.last_seq + 1}..{seq} are missing: the anchor says seq {seq} exists")
    elif result.last_seq == seq and result.last_hash != digest:
        result.first_bad = BadRecord(seq, seq, "the last record differs from the anchor's")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Keeping a million records alive makes the cyclic GC rescan them over and over; pause it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Scan:
    """One pass over a file: yields batches of good records, fills :attr:`result`."""

    def __init__(self, path: Path) -> None:
        named = parse_name(path)
        self.path = path
        self.result = VerifyResult(path, named[0] if named else "", named[1] if named else "")
        self.seq = 0
        self.prev = genesis(self.result.day, self.result.mode) if named else ""
        self.ts = ""

    def batches(self) -> Iterator[list[Record]]:
        try:
            handle = open(self.path, "rb")
        except OSError as exc:
            raise JournalError(f"cannot read the journal: {exc.strerror or exc}", where=str(self.path)) from exc
        with handle:
            size = os.fstat(handle.fileno()).st_size  # a snapshot: a live writer may be appending
            offset, carry, remaining = 0, b"", size
            while remaining > 0:
                chunk = handle.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                data = carry + chunk if carry else chunk
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                lines = data[:cut].split(b"\n")
                carry = data[cut + 1:]
                good = self._feed(lines, offset, at_end=remaining == 0 and not carry)
                if good:
                    yield good
                if self.result.first_bad is not None:
                    return
                offset += cut + 1
            if carry:
                self.result.torn = TornTail(self.result.records + 1, offset, carry)

    def _feed(self, lines: list[bytes], offset: int, at_end: bool) -> list[Record]:
        """Check a batch of complete lines; return the good records before any bad one."""
        with _gc_paused():
            try:
                recs = list(map(_DECODE.decode, lines))
            except msgspec.DecodeError:  # ValidationError included
                recs = None
            if recs is not None and self._batch_ok(lines, recs):
                last = recs[-1]
                self.seq, self.prev, self.ts = last.seq, last.hash, last.ts
                self.result.records += len(recs)
                self.result.good_size = offset + sum(map(len, lines)) + len(lines)
                self._note_last()
                return recs
            return self._walk(lines, offset, at_end)

    def _batch_ok(self, lines: list[bytes], recs: list[Record]) -> bool:
        """True when every record of the batch is right (else :meth:`_walk` names the first)."""
        if not self.result.mode:
            return False  # the file name did not say: the walk takes day and mode from record 1
        hashes, prevs, seqs, versions, modes, types, stamps, payloads = zip(*map(_COLUMNS, recs))
        sha = hashlib.sha256  # record_hash(), inlined: this is the hot loop
        computed = [sha(b"{" + line[REST_START:]).hexdigest() for line in lines]
        if list(hashes) != computed or prevs[0] != self.prev or list(prevs[1:]) != computed[:-1]:
            return False
        if seqs != tuple(range(self.seq + 1, self.seq + 1 + len(seqs))):
            return False
        if not set(versions) <= _VERSIONS or set(modes) != {self.result.mode} or not set(types) <= KNOWN_TYPES:
            return False
        if _TS_RUN.fullmatch("".join(stamps)) is None:  # one regex call for the batch, not one per record
            return False
        if stamps[0] < self.ts or any(map(str.__gt__, stamps[:-1], stamps[1:])):
            return False
        needed = map(_REQUIRED_GET, types, repeat(_NOTHING))
        return all(map(le, needed, map(dict.keys, payloads)))

    def _walk(self, lines: list[bytes], offset: int, at_end: bool) -> list[Record]:
        good: list[Record] = []
        for index, line in enumerate(lines):
            number = self.result.records + 1
            rec, reason, newer = self._check(line)
            if reason is not None:
                last_line = at_end and index == len(lines) - 1
                if rec is None and not newer and last_line and _not_json(line):
                    self.result.torn = TornTail(number, offset, line + b"\n")
                else:
                    self.result.first_bad = BadRecord(number, rec.seq if rec else _seq_of(line), reason)
                    self.result.newer_schema = newer
                return good
            assert rec is not None
            good.append(rec)
            self.seq, self.prev, self.ts = rec.seq, rec.hash, rec.ts
            self.result.records += 1
            offset += len(line) + 1
            self.result.good_size = offset
            self._note_last()
        return good

    def _check(self, line: bytes) -> tuple[Record | None, str | None, bool]:
        """``(record, reason it is bad or None, written by a newer schema)``."""
        try:
            rec = _DECODE.decode(line)
        except msgspec.ValidationError as exc:  # JSON, but not a record (a subclass of DecodeError)
            version = _version_of(line)
            if isinstance(version, int) and version > SCHEMA_VERSION:
                return None, _newer(version), True
            return None, f"not a journal record ({exc})", False
        except msgspec.DecodeError as exc:
            return None, f"not valid JSON ({exc})", False
        if rec.v > SCHEMA_VERSION:
            return rec, _newer(rec.v), True
        if rec.v not in _VERSIONS:
            return rec, f"schema version {rec.v} does not exist", False
        if not self.result.mode:
            self._adopt(rec)
        if record_hash(line) != rec.hash:
            return rec, "its hash does not match its content: the record was altered", False
        if rec.seq != self.seq + 1:
            return rec, f"seq {rec.seq} where {self.seq + 1} was expected: a record is missing, duplicated or moved", False
        if rec.prev != self.prev:
            return rec, "prev is not the previous record's hash: records were removed, replaced or reordered", False
        if rec.mode != self.result.mode:
            return rec, f"mode {rec.mode!r} in a {self.result.mode!r} journal", False
        if rec.type not in KNOWN_TYPES:
            return rec, f"unknown record type {rec.type!r}", False
        if not TS_PATTERN.match(rec.ts):
            return rec, f"ts {rec.ts!r} is not a UTC ISO-8601 instant", False
        if rec.ts < self.ts:
            return rec, f"ts {rec.ts} is earlier than the previous record's {self.ts}", False
        required = REQUIRED_FIELDS.get(rec.type)
        if required is not None and not required <= rec.payload.keys():
            return rec, f"the {rec.type} payload lacks {', '.join(sorted(required - rec.payload.keys()))}", False
        return rec, None, False

    def _adopt(self, rec: Record) -> None:
        """Day and mode for a file whose name does not say them: from its first record."""
        self.result.mode = rec.mode
        if TS_PATTERN.match(rec.ts):
            when = dt.datetime.fromisoformat(rec.ts.replace("Z", "+00:00"))
            self.result.day = when.astimezone(IST).date().isoformat()
        self.prev = genesis(self.result.day, self.result.mode)

    def _note_last(self) -> None:
        self.result.last_seq, self.result.last_hash, self.result.last_ts = self.seq, self.prev, self.ts


_VERSIONS = frozenset(range(1, SCHEMA_VERSION + 1))


def _newer(version: int) -> str:
    return f"written by a newer atw (schema v{version}; this atw reads up to v{SCHEMA_VERSION}): upgrade atw"


def _not_json(line: bytes) -> bool:
    try:
        _DECODE_ANY.decode(line)
    except msgspec.DecodeError:
        return True
    return False


def _version_of(line: bytes) -> Any:
    try:
        obj = _DECODE_ANY.decode(line)
    except msgspec.DecodeError:
        return None
    return obj.get("v") if isinstance(obj, dict) else None


def _seq_of(line: bytes) -> int | None:
    try:
        obj = _DECODE_ANY.decode(line)
    except msgspec.DecodeError:
        return None
    seq = obj.get("seq") if isinstance(obj, dict) else None
    return seq if type(seq) is int else None

