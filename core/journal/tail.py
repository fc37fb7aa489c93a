"""Show the end of a journal, and follow it as records arrive (``atw journal tail [-f]``).

Lines are formatted for a terminal, one record each: seq, the IST time, type, trace id and the
payload as ``key=value`` pairs. Following polls the file for complete new lines (a line still
being written waits for its newline) and moves on to the same mode's next day file when the
writer rotates. Tail does not verify the chain (it starts mid-file): use ``verify`` for that.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from core.errors import JournalError
from core.journal.reader import (
    IST,
    JOURNAL_DIR,
    decode_line,
    journal_dir,
    journal_files,
    latest_journal,
    parse_name,
)
from core.journal.records import Record

_FIRST_KEYS = ("symbol", "side", "qty", "price", "status", "purpose", "reason", "client_order_id", "fill_id")
_WIDTH = 200


def format_record(rec: Record) -> str:
    """One terminal line for a record."""
    try:
        when = dt.datetime.fromisoformat(rec.ts.replace("Z", "+00:00")).astimezone(IST).strftime("%H:%M:%S.%f")[:-3]
    except ValueError:
        when = rec.ts
    keys = [k for k in _FIRST_KEYS if k in rec.payload] + sorted(k for k in rec.payload if k not in _FIRST_KEYS)
    fields = " ".join(f"{k}={_short(rec.payload[k])}" for k in keys)
    text = f"{rec.seq:>6}  {when}  {rec.type:<13} {rec.trace_id or '-':<18} {fields}"
    return text if len(text) <= _WIDTH else text[: _WIDTH - 3] + "..."


def format_line(line: bytes) -> str:
    """Format one raw line; a line that is not a record is shown as such, not raised."""
    try:
        return format_record(decode_line(line))
    except msgspec.DecodeError as exc:  # ValidationError included
        return f"    ??  not a journal record ({exc}): {line[:80]!r}"


def tail(
    path: Path | str | None = None,
    n: int = 20,
    follow: bool = False,
    *,
    home: Path | None = None,
    mode: str | None = None,
    poll_s: float = 0.25,
    stop: Callable[[], bool] | None = None,
) -> Iterator[str]:
    """The last ``n`` records of ``path`` (default: the newest journal under ``home``, of ``mode``
    if given) as formatted lines; with ``follow``, then every new record until ``stop()``."""
    current = Path(path) if path is not None else latest_journal(home, mode)
    if current is None:
        raise JournalError(f"no journal files in {journal_dir(home)}", where="journal")
    try:
        lines, offset = last_lines(current, n)
    except OSError as exc:
        raise JournalError(f"cannot read the journal: {exc.strerror or exc}", where=str(current)) from exc
    for line in lines:
        yield format_line(line)
    if not follow:
        return
    carry = b""
    while stop is None or not stop():
        try:
            size = os.path.getsize(current)
        except FileNotFoundError:
            size = 0
        if size < offset:  # cut back (a torn tail moved aside on recovery)
            offset, carry = size, b""
        if size > offset:
            with open(current, "rb") as handle:
                handle.seek(offset)
                data = handle.read(size - offset)
            offset += len(data)
            *complete, carry = (carry + data).split(b"\n")
            for line in complete:
                yield format_line(line)
            continue
        successor = _next_file(current)
        if successor is not None and not carry:
            current, offset = successor, 0
            yield f"==> {current.name} <=="
            continue
        time.sleep(poll_s)


def last_lines(path: Path, n: int) -> tuple[list[bytes], int]:
    """The last ``n`` complete lines of a file, and the offset just after the last of them."""
    with open(path, "rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        data, start = b"", end
        while start > 0 and data.count(b"\n") <= n:
            step = min(64 * 1024, start)
            start -= step
            handle.seek(start)
            data = handle.read(step) + data
    cut = data.rfind(b"\n")
    if cut < 0:
        return [], start
    complete = data[:cut].split(b"\n")
    if start > 0:
        complete = complete[1:]  # the first piece may be the end of an earlier line
    return (complete[-n:] if n > 0 else []), start + cut + 1


def _next_file(path: Path) -> Path | None:
    """The same mode's file for the next later day, if the writer has rotated to one."""
    named = parse_name(path)
    if named is None or path.parent.name != JOURNAL_DIR:
        return None
    later = [p for p in journal_files(path.parent.parent, mode=named[1]) if parse_name(p)[0] > named[0]]  # type: ignore[index]
    return later[0] if later else None


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text if len(text) <= 40 else text[:37] + "..."
