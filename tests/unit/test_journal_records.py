"""The record format: the fast encoder writes canonical() bytes, sealing and hashing are consistent."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from core.journal.records import Record, canonical, encode, genesis, record_hash, seal, stated_hash

# Everything a float-free payload can hold: what encode(has_float=False) is used for.
_json_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.text()
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), _json, max_size=6))
def test_fast_encoder_writes_canonical_bytes(obj: dict) -> None:
    try:
        expected = canonical(obj)
    except UnicodeEncodeError:  # lone surrogates cannot be written as UTF-8 by either encoder
        return
    assert encode(obj, has_float=False) == expected


def test_every_control_and_special_character_encodes_identically() -> None:
    chars = [chr(c) for c in range(0x800)] + ["\u2028", "\u2029", "\ufeff", "\uffff", "\U0001f600", "\U0010ffff"]
    obj = {"k" + c: ["a" + c + "b", c] for c in chars}
    assert encode(obj, has_float=False) == canonical(obj)


def test_floats_go_through_json_dumps() -> None:
    assert encode({"x": 1e16}) == b'{"x":1e+16}' == canonical({"x": 1e16})


def _body(seq: int = 1) -> dict:
    return {"v": 1, "seq": seq, "ts": "2026-11-20T04:00:00.000000Z", "mode": "paper", "trace_id": "t-1",
            "type": "note", "payload": {"text": "héllo", "n": 3}, "prev": genesis("2026-11-20", "paper")}


def test_sealed_line_is_the_canonical_encoding_with_its_hash() -> None:
    body = _body()
    line, digest = seal(body, has_float=False)
    assert digest == hashlib.sha256(canonical(body)).hexdigest()
    assert line == canonical({**body, "hash": digest})
    assert record_hash(line) == digest == stated_hash(line).decode()


def test_record_line_round_trips() -> None:
    body = _body()
    line, digest = seal(body)
    rec = Record(**{**body, "hash": digest})
    assert rec.line() == line
    unsealed = Record(**body)
    assert unsealed.line() == line and unsealed.to_dict() == body


def test_any_changed_byte_changes_the_hash() -> None:
    line, digest = seal(_body())
    for i in range(75, len(line)):
        changed = line[:i] + bytes([line[i] ^ 0x01]) + line[i + 1:]
        assert record_hash(changed) != digest


def test_genesis_differs_by_day_and_mode() -> None:
    assert len({genesis("2026-11-20", "paper"), genesis("2026-11-21", "paper"), genesis("2026-11-20", "live")}) == 3
