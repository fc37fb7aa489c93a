"""Append records to the journal: write-ahead for orders and fills, group commit, rotation by day.

One :class:`JournalWriter` per process and mode writes ``<home>/journal/<IST day>-<mode>.jsonl``.

- **Write-ahead.** :data:`~core.journal.records.DURABLE_TYPES` (order intents, broker
  acknowledgements, fills; arms, commands and trading-state changes) are written and fsynced
  before :meth:`JournalWriter.append` returns.
  Other records wait in memory and are written and fsynced within ``batch_ms`` (plus one fsync)
  by a small background thread, or earlier by the next durable append. File order is append order.
- **Group commit.** Threads that append durable records at the same time share fsyncs: the first
  waiter becomes the leader, writes everything appended so far and fsyncs once; the others wait
  for it and return as soon as their record is covered (followers appended meanwhile go in the
  next round, which the same leader runs while others keep queueing, up to a limit).
  :meth:`JournalWriter.append_many` is the one-thread form: one fsync for a list of records.
- **Rotation.** The day is the clock's IST date at each append. A new day goes to a new file:
  seq starts again at 1 and ``prev`` at :func:`~core.journal.records.genesis` of that day.
- **Recovery.** Opening an existing file verifies it and continues its chain. A torn tail (a
  crash mid-write) is copied to ``<file>.torn-<n>`` and cut off, and reported in
  :attr:`JournalWriter.torn_tails`. A bad record anywhere before the end raises
  :class:`~core.errors.JournalCorrupt` and nothing is appended after it; a newer schema raises
  :class:`~core.errors.JournalSchemaError`. A second writer on the same file is refused.
- **I/O errors** (disk full, EIO) raise :class:`~core.errors.JournalError`. The file is cut back to
  its last fsynced record, the records that were not made durable are dropped (the append that
  fails does not take a seq) and the chain continues from the last durable record once the
  disk has room. Buffered records lost that way are reported by the next append's error.
"""

from __future__ import annotations

import _thread
import datetime as dt
import errno
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.errors import JournalError, JournalSchemaError
from core.instants import EPOCH, epoch_ns
from core.journal.payload import clean_payload
from core.journal.reader import IST, MODE_PATTERN, journal_path, verify
from core.journal.records import DURABLE_TYPES, KNOWN_TYPES, SCHEMA_VERSION, Record, genesis, seal

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; one writer per file is then the caller's job
    fcntl = None  # type: ignore[assignment]

UTC = dt.timezone.utc
_MAX_EXTRA_LEADS = 8  # commits a leader runs for others before handing over


class Clock(Protocol):
    """What the writer needs of a :class:`core.clock.MarketClock`: the current aware instant."""

    def now(self) -> dt.datetime: ...


@dataclass(frozen=True)
class MovedTail:
    """A torn tail found on opening a file: saved to ``saved_to``, then cut off ``path``."""

    path: Path
    saved_to: Path
    line: int
    offset: int
    size: int


@dataclass(frozen=True)
class LostRecords:
    """Records dropped by an I/O error before they were durable."""

    path: Path
    first_seq: int
    last_seq: int
    buffered: int  # of those, records whose append had already returned (not write-ahead types)
    reason: str


class _Stamper:
    """:func:`core.instants.utc_text` for a stream of instants, formatting each second once (it runs per append)."""

    def __init__(self) -> None:
        self._second: int | None = None
        self._prefix = ""

    def __call__(self, when: dt.datetime) -> str:
        if when.tzinfo is None:
            raise ValueError(f"naive datetime {when} from the clock")
        second, micro = divmod(epoch_ns(when) // 1000, 1_000_000)
        if second != self._second:
            self._second, self._prefix = second, (EPOCH + dt.timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._prefix}.{micro:06d}Z"


class _Commit:
    """The records drained together into one write + fsync, and the appenders waiting for them."""

    __slots__ = ("lock", "gate", "done", "error", "waiters", "buffered")

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock  # the writer's lock
        self.gate: Any = None  # a held raw lock that waiters queue on until it is opened
        self.done = False
        self.error: JournalError | None = None
        self.waiters = 0  # durable appenders (and flushers) waiting on it
        self.buffered = 0  # its records whose append already returned (not write-ahead types)

    def wait(self) -> None:
        """Block until the gate opens (called and returning with the writer's lock held).

        Waiters pass an opened gate one after another (each releases it for the next) and never
        contend for the writer's lock all at once, as a Condition's notify_all would make them.
        """
        gate = self.gate
        if gate is None:
            gate = self.gate = _thread.allocate_lock()
            gate.acquire()
        self.lock.release()
        try:
            gate.acquire()
            gate.release()
        finally:
            self.lock.acquire()

    def open(self) -> None:
        """Let every current waiter through (later waiters get a new gate)."""
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.release()


class JournalWriter:
    """Appends records for one mode (see the module docstring). Thread-safe."""

    def __init__(
        self,
        clock: Clock,
        mode: str,
        *,
        home: Path | None = None,
        batch_ms: float = 50.0,
        durable_types: Iterable[str] = DURABLE_TYPES,
    ) -> None:
        if not MODE_PATTERN.match(mode):
            raise JournalError(f"mode {mode!r} is not a lower-case name", where="journal")
        if batch_ms < 0:
            raise JournalError(f"batch_ms must be >= 0, got {batch_ms}", where="journal")
        self.clock, self.mode, self.home = clock, mode, home
        self.batch_s = batch_ms / 1000.0
        self.durable_types = frozenset(str(t) for t in durable_types)
        self.torn_tails: list[MovedTail] = []
        self.lost: list[LostRecords] = []
        self._lock = threading.Lock()
        self._io_cv = threading.Condition(self._lock)  # rotation waiting for the I/O slot
        self._flush_cv = threading.Condition(self._lock)  # the background flusher's timer
        self._buf: list[bytes] = []  # lines of the open commit, not written yet
        self._open_commit = _Commit(self._lock)
        self._pending_since: float | None = None
        self._io_busy = False
        self._pending_error: JournalError | None = None
        self._broken: JournalError | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        self._last_ts = ""
        self._stamp = _Stamper()
        self._fd = -1
        self._open(self._ist_day(self.clock.now()))

    # -- public --------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def day(self) -> str:
        return self._day

    @property
    def seq(self) -> int:
        """The last seq given out in the current file."""
        return self._seq

    @property
    def last_hash(self) -> str:
        return self._prev

    def append(self, type: str, payload: Mapping[str, Any], trace_id: str = "") -> Record:
        """Seal and append one record; durable types are on disk when this returns."""
        prepared = self._prepare(type, payload, trace_id)
        with self._lock:
            self._check_usable()
            record = self._seal_locked(*prepared)
            commit = self._open_commit
            if prepared[3]:
                commit.waiters += 1
        if prepared[3]:
            self._await(commit)
        return record

    def append_many(self, items: Iterable[tuple[str, Mapping[str, Any], str]]) -> list[Record]:
        """Append ``(type, payload, trace_id)`` records in order, with one fsync for all of them.

        The single-threaded form of group commit (e.g. the fills of one broker message): when
        it returns, every record is durable if any of them is of a durable type. A payload that
        is refused refuses the whole call before anything is appended.
        """
        prepared = [self._prepare(*item) for item in items]
        durable = any(p[3] for p in prepared)
        with self._lock:
            self._check_usable()
            records = [self._seal_locked(*p) for p in prepared]
            commit = self._open_commit
            if durable:
                commit.waiters += 1
        if durable:
            self._await(commit)
        return records

    def _prepare(self, type: str, payload: Mapping[str, Any], trace_id: str) -> tuple[str, dict[str, Any], str, bool, bool]:
        """Check and clean one record outside the lock: ``(type, payload, trace_id, durable, has_float)``."""
        rtype = type if type.__class__ is str else str(getattr(type, "value", type))
        if rtype not in KNOWN_TYPES:
            raise JournalSchemaError(f"unknown record type {rtype!r}", where=str(self._path))
        if trace_id.__class__ is not str and not isinstance(trace_id, str):
            raise JournalSchemaError(f"trace_id must be a string, got {trace_id!r}", where=rtype)
        clean, has_float = clean_payload(rtype, payload)
        return rtype, clean, trace_id, rtype in self.durable_types or self.batch_s == 0, has_float

    def _seal_locked(self, rtype: str, clean: dict[str, Any], trace_id: str, durable: bool, has_float: bool) -> Record:
        """Give the record its seq, ts and place in the chain, and buffer its line."""
        now = self.clock.now()
        ts = self._stamp(now)  # raises on a naive datetime before it is compared below
        if not self._day_start <= now < self._day_end:
            day = self._ist_day(now)
            if day != self._day:
                self._rotate_locked(day)
        if ts < self._last_ts:
            ts = self._last_ts
        seq, prev = self._seq + 1, self._prev
        body = {"v": SCHEMA_VERSION, "seq": seq, "ts": ts, "mode": self.mode, "trace_id": trace_id,
                "type": rtype, "payload": clean, "prev": prev}
        line, digest = seal(body, has_float=has_float)
        self._buf.append(line + b"\n")
        self._seq, self._prev, self._last_ts = seq, digest, ts
        if not durable:
            self._open_commit.buffered += 1
            if self._pending_since is None:
                self._pending_since = time.monotonic()
                self._start_flusher_locked()
                self._flush_cv.notify()
        return Record(seq, ts, self.mode, trace_id, rtype, clean, prev, SCHEMA_VERSION, digest)

    def flush(self) -> None:
        """Make every record appended so far durable."""
        with self._lock:
            commit = self._open_commit
            commit.waiters += 1
        self._await(commit)

    def close(self) -> None:
        """Flush, stop the flusher and close the file. Idempotent."""
        if self._closed:
            return
        try:
            if self._broken is None:
                self.flush()
        finally:
            with self._lock:
                self._closed = True
                self._flush_cv.notify_all()
            if self._thread is not None:
                self._thread.join()
            with self._lock:
                self._close_fd()

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- durability (group commit) ---------------------------------------------------------------

    def _await(self, commit: _Commit) -> None:
        """Return once ``commit`` is fsynced; the first waiter to find the I/O slot free leads it.

        Only the open commit can be pending while the slot is free, so a leader always drains
        the commit it waits for, together with every record appended before it got the slot.
        """
        with self._lock:
            while not commit.done:
                if self._broken is not None:
                    raise self._broken
                if self._io_busy:
                    commit.wait()
                    continue
                self._lead_locked()  # the open commit is ours: it is done (or failed) after this
                extra = 0
                while (self._open_commit.waiters and not self._io_busy and self._broken is None
                       and extra < _MAX_EXTRA_LEADS):
                    self._lead_locked()  # lead for the threads that queued meanwhile: no hand-over
                    extra += 1
                if self._open_commit.waiters and not self._io_busy:
                    self._open_commit.open()  # hand over: the first through leads, the rest wait again
            if commit.error is not None:
                raise commit.error

    def _lead_locked(self) -> None:
        """Write and fsync the open commit (the lock is released during the I/O)."""
        self._io_busy = True
        commit, data, durable = self._drain_locked()
        fd = self._fd
        self._lock.release()
        try:
            error: OSError | None = None
            try:
                if data:
                    _write_all(fd, data)
                    os.fsync(fd)
            except OSError as exc:
                error = exc
        finally:
            self._lock.acquire()
        if error is not None:
            self._fail_locked(error, commit)
        else:
            self._durable = durable
            commit.done = True
            commit.open()
        self._io_busy = False
        self._io_cv.notify_all()

    def _release_io_locked(self) -> None:
        self._io_busy = False
        if self._open_commit.waiters:
            self._open_commit.open()  # one of them leads the next commit
        self._io_cv.notify_all()

    def _drain_locked(self) -> tuple[_Commit, bytes, tuple[int, str, str, int]]:
        """Close the open commit: its lines, and the durable state once they are fsynced."""
        commit = self._open_commit
        data = b"".join(self._buf)
        self._buf.clear()
        self._open_commit = _Commit(self._lock)
        self._pending_since = None
        return commit, data, (self._seq, self._prev, self._last_ts, self._durable[3] + len(data))

    def _fail_locked(self, exc: OSError, commit: _Commit) -> None:
        """Cut the file back to its last durable record and forget everything after it."""
        seq, prev, last_ts, size = self._durable
        failed = (commit, self._open_commit)  # records appended during the failed I/O chain on it
        buffered = sum(c.buffered for c in failed)
        lost = LostRecords(self._path, seq + 1, self._seq, buffered, _describe(exc))
        self.lost.append(lost)
        message = (f"could not write the journal: {lost.reason}; records seq {lost.first_seq}..{lost.last_seq} "
                   f"were not written (the file is intact up to seq {seq})")
        error = JournalError(message, where=str(self._path))
        try:
            os.ftruncate(self._fd, size)
            os.fsync(self._fd)
        except OSError as again:
            self._broken = JournalError(f"{message}; cutting the file back failed too ({_describe(again)}): "
                                        "reopen the journal", where=str(self._path))
        for failed_commit in failed:
            failed_commit.error, failed_commit.done = error, True
            failed_commit.open()
        self._open_commit = _Commit(self._lock)
        self._buf.clear()
        self._pending_since = None
        self._seq, self._prev, self._last_ts = seq, prev, last_ts
        if buffered:
            self._pending_error = JournalError(
                f"{buffered} buffered record(s) among seq {lost.first_seq}..{lost.last_seq} were lost: "
                f"{lost.reason} (the file is intact up to seq {seq})", where=str(self._path))

    def _check_usable(self) -> None:
        if self._closed:
            raise JournalError("the journal writer is closed", where=str(self._path))
        if self._broken is not None:
            raise self._broken
        if self._pending_error is not None:
            error, self._pending_error = self._pending_error, None
            raise error

    # -- background flusher --------------------------------------------------------------------

    def _start_flusher_locked(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run_flusher, name=f"journal-{self.mode}", daemon=True)
            self._thread.start()

    def _run_flusher(self) -> None:
        while True:
            with self._lock:
                while not self._closed:
                    if self._pending_since is None:
                        self._flush_cv.wait()
                        continue
                    left = self._pending_since + self.batch_s - time.monotonic()
                    if left <= 0:
                        break
                    self._flush_cv.wait(left)
                if self._closed:
                    return
                commit = self._open_commit
                commit.waiters += 1
            try:
                self._await(commit)
            except JournalError:
                pass  # _fail_locked left it for the next append to raise; the flusher carries on

    # -- files -----------------------------------------------------------------------------------

    def _rotate_locked(self, day: str) -> None:
        """Finish the current file and start ``day``'s (the lock is held throughout)."""
        while self._io_busy:
            self._io_cv.wait()
        if day == self._day:
            return  # another thread rotated while this one waited
        self._io_busy = True
        try:
            commit, data, durable = self._drain_locked()
            if data:
                try:
                    _write_all(self._fd, data)
                    os.fsync(self._fd)
                except OSError as exc:
                    self._fail_locked(exc, commit)
                    raise commit.error from exc  # type: ignore[misc]
            self._durable = durable
            commit.done = True
            commit.open()
            self._close_fd()
            self._open(day)  # if this raises (a bad file for the new day), the next append tries again
        finally:
            self._release_io_locked()

    def _open(self, day: str) -> None:
        path = journal_path(self.home, day, self.mode)
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            _fsync_dir(path.parent.parent)
        existed = path.exists()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise JournalError(f"cannot open the journal: {_describe(exc)}", where=str(path)) from exc
        try:
            _lock_file(fd, path)
            if not existed:
                os.fsync(fd)
                _fsync_dir(path.parent)
            seq, prev, last_ts, size = self._recover(path, day, fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._path, self._day = fd, path, day
        self._day_start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(0), IST)
        self._day_end = self._day_start + dt.timedelta(days=1)  # IST has no daylight saving
        self._seq, self._prev = seq, prev
        self._last_ts = max(self._last_ts, last_ts)
        self._durable = (seq, prev, self._last_ts, size)

    def _recover(self, path: Path, day: str, fd: int) -> tuple[int, str, str, int]:
        """Verify an existing file and return where its chain ends; move a torn tail aside."""
        result = verify(path)
        error = result.error()
        if error is not None:
            if not result.newer_schema:
                error = type(error)(f"{error.message}; refusing to append after it", where=error.where,
                                    seq=getattr(error, "seq", None))  # type: ignore[call-arg]
            raise error
        if result.torn is not None:
            saved = _save_torn(path, result.torn.data)
            try:
                os.ftruncate(fd, result.good_size)
                os.fsync(fd)
            except OSError as exc:
                raise JournalError(f"cannot cut off the torn tail: {_describe(exc)}", where=str(path)) from exc
            self.torn_tails.append(MovedTail(path, saved, result.torn.line, result.torn.offset, len(result.torn.data)))
        if result.records == 0:
            return 0, genesis(day, self.mode), "", result.good_size
        return result.last_seq, result.last_hash, result.last_ts, result.good_size

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing also drops the advisory lock
            self._fd = -1

    @staticmethod
    def _ist_day(now: dt.datetime) -> str:
        if now.tzinfo is None:
            raise ValueError(f"naive datetime {now} from the clock")
        return now.astimezone(IST).date().isoformat()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lock_file(fd: int, path: Path) -> None:
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise JournalError("another journal writer has this file open", where=str(path)) from exc
        raise JournalError(f"cannot lock the journal: {_describe(exc)}", where=str(path)) from exc


def _save_torn(path: Path, data: bytes) -> Path:
    """Keep a torn tail for audit in the first free ``<file>.torn-<n>`` (fsynced)."""
    n = 1
    while True:
        target = path.with_name(f"{path.name}.torn-{n}")
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError:
            n += 1
            continue
        except OSError as exc:
            raise JournalError(f"cannot save the torn tail: {_describe(exc)}", where=str(target)) from exc
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as exc:
            raise JournalError(f"cannot save the torn tail: {_describe(exc)}", where=str(target)) from exc
        finally:
            os.close(fd)
        _fsync_dir(path.parent)
        return target


def _fsync_dir(folder: Path) -> None:
    """Make a new directory entry durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the file's own fsync still holds
    finally:
        os.close(fd)


def _describe(exc: OSError) -> str:
    names = {errno.ENOSPC: "disk full (ENOSPC)", errno.EIO: "I/O error (EIO)", errno.EDQUOT: "disk quota exceeded (EDQUOT)",
             errno.EROFS: "read-only filesystem (EROFS)", errno.EACCES: "permission denied (EACCES)"}
    if exc.errno in names:
        return names[exc.errno]
    return f"{exc.strerror or exc} (errno {exc.errno})" if exc.errno else str(exc)
