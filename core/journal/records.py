"""What a journal record is: the envelope, the record types and their payloads.

One record is one JSON object on one line, written in a canonical form (sorted keys, no
spaces, UTF-8, non-ASCII as is) so that its SHA-256 is well defined::

    {"hash":"<sha256 of this record>","mode":"paper","payload":{...},"prev":"<hash of the previous
     record>","seq":42,"trace_id":"t-...","ts":"2026-11-20T04:01:02.123456Z","type":"fill","v":1}

- ``hash`` is the hex SHA-256 of the record's canonical encoding *without* its ``hash`` member
  (:func:`seal`); ``hash`` sorts first, so a sealed line is ``{"hash":"<64 hex>",`` followed by
  the rest of that encoding, and :func:`record_hash` recomputes it from the line's bytes alone.
- ``seq`` counts from 1 in each file, without gaps; ``prev`` is the previous record's ``hash``
  (the first record's ``prev`` is :func:`genesis` of its day and mode). Editing a record breaks
  its own ``hash``; deleting or reordering records breaks ``seq`` and ``prev`` at the first moved
  record. A reader therefore names the tampered record itself, the last one included. (Cutting
  records off the end leaves a shorter valid file: compare with an anchor kept elsewhere, see
  :func:`core.journal.reader.verify`.)
- ``ts`` is the UTC instant the record was written (from the clock, never the machine's local
  time; never earlier than the previous record's); ``trace_id`` ties one decision's records
  together: signal -> risk check -> order intent -> acknowledgements -> fills -> exit.
- Money and prices in payloads are decimal strings ("1399.90"), never floats (see
  :mod:`core.journal.payload` for what a payload may hold and what is redacted).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import msgspec

SCHEMA_VERSION = 1


class RecordType(enum.StrEnum):
    SESSION_START = "session_start"  # day, mode, config_hash, app_version
    SESSION_END = "session_end"
    SIGNAL = "signal"  # symbol, strategy, side, bar_time, confidence
    RISK_CHECK = "risk_check"  # accepted: bool, reason
    ORDER_INTENT = "order_intent"  # see ORDER_INTENT_FIELDS
    ORDER_ACK = "order_ack"  # client_order_id, broker_order_id, status
    ORDER_UPDATE = "order_update"  # client_order_id, status, filled_qty, message
    FILL = "fill"  # see FILL_FIELDS
    ARM = "arm"
    DISARM = "disarm"
    COMMAND = "command"
    STATE = "state"  # trading state changes (ACTIVE / REDUCING / HALTED)
    ALERT = "alert"
    NOTE = "note"


#: Every type a reader of this schema version accepts.
KNOWN_TYPES = frozenset(t.value for t in RecordType)

#: Written, flushed and fsynced before the write call returns (write-ahead): orders and fills,
#: and the few records a restart rebuilds safety state from (arms, the trader's commands such as
#: the kill switch, trading-state changes). They are rare, so their fsyncs cost nothing that matters.
DURABLE_TYPES = frozenset({
    RecordType.ORDER_INTENT, RecordType.ORDER_ACK, RecordType.FILL,
    RecordType.ARM, RecordType.DISARM, RecordType.COMMAND, RecordType.STATE,
})

ORDER_INTENT_FIELDS = (
    "client_order_id", "symbol", "strategy", "side", "qty", "order_type", "purpose", "position_id",
)
FILL_FIELDS = (
    "client_order_id", "fill_id", "symbol", "strategy", "side", "qty", "price", "time",
    "purpose", "position_id",
)
#: Payload fields a record of a type must carry (checked on write and on verify).
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    RecordType.ORDER_INTENT.value: frozenset(ORDER_INTENT_FIELDS),
    RecordType.FILL.value: frozenset(FILL_FIELDS),
}
#: ``purpose`` of an order or fill: it opens a position, or closes (part of) one.
PURPOSES = ("entry", "exit")
#: Exit reasons (``reason`` on exit intents and fills) match core.trading.manager.ExitReason labels.

ENVELOPE_FIELDS = ("v", "seq", "ts", "mode", "trace_id", "type", "payload", "prev", "hash")

#: A sealed line starts with ``{"hash":"``, then 64 hex digits, then ``",``.
HASH_PREFIX = b'{"hash":"'
_HASH_START = len(HASH_PREFIX)
_HASH_END = _HASH_START + 64
REST_START = _HASH_END + 2  #: where the hashed rest of a sealed line starts (after ``{"hash":"...",``)


@dataclass(frozen=True, slots=True)
class Record:
    """One journal record (see the module docstring). ``hash`` is empty until sealed."""

    seq: int
    ts: str
    mode: str
    trace_id: str
    type: str
    payload: dict[str, Any]
    prev: str
    v: int = SCHEMA_VERSION
    hash: str = ""

    def body(self) -> dict[str, Any]:
        """The envelope without ``hash``: what ``hash`` is computed over."""
        return {
            "v": self.v, "seq": self.seq, "ts": self.ts, "mode": self.mode, "trace_id": self.trace_id,
            "type": self.type, "payload": self.payload, "prev": self.prev,
        }

    def to_dict(self) -> dict[str, Any]:
        data = self.body()
        if self.hash:
            data["hash"] = self.hash
        return data

    def line(self) -> bytes:
        """The canonical encoding of the sealed record, without the newline."""
        return canonical(self.to_dict()) if self.hash else seal(self.body())[0]


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


_FAST = msgspec.json.Encoder(order="sorted")


def encode(obj: dict[str, Any], *, has_float: bool = True) -> bytes:
    """:func:`canonical`, fast. msgspec writes the same bytes as ``json.dumps`` for str, int,
    bool, None, list and dict (tests/unit/test_journal_records.py holds it so), but not for floats
    (``1e+16`` vs ``1e16``): pass ``has_float=False`` only when ``obj`` holds no float."""
    return canonical(obj) if has_float else _FAST.encode(obj)


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def seal(body: dict[str, Any], *, has_float: bool = True) -> tuple[bytes, str]:
    """The sealed line (no newline) of an envelope without ``hash``, and its hash."""
    if "hash" in body:
        raise ValueError("seal() takes the envelope without its 'hash'")
    encoded = encode(body, has_float=has_float)
    digest = hashlib.sha256(encoded).hexdigest()
    return HASH_PREFIX + digest.encode() + b'",' + encoded[1:], digest


def record_hash(line: bytes) -> str:
    """Recompute the hash of a sealed line from its bytes (no JSON parsing)."""
    return hashlib.sha256(b"{" + line[REST_START:]).hexdigest()


def stated_hash(line: bytes) -> bytes:
    """The 64 hex digits a sealed line states as its own hash."""
    return line[_HASH_START:_HASH_END]


def genesis(day: str, mode: str) -> str:
    """The ``prev`` of a file's first record."""
    return hashlib.sha256(f"atw-journal|{day}|{mode}".encode()).hexdigest()
