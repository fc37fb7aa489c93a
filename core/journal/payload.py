"""What a record's payload may hold, and what never reaches the journal.

:func:`clean_payload` turns a caller's payload into the one that is written:

- **Secrets are redacted.** A key that names a secret gets the value ``"***redacted***"``, at
  any depth (dicts inside lists inside dicts too). Keys are compared lower-cased with ``_``,
  ``-`` and spaces removed, so ``access_token``, ``Access-Token`` and ``accessToken`` match. A
  key is secret when it is one of :data:`SECRET_KEYS`, or ends in ``token``, ``secret``,
  ``password``, ``passwd`` or ``apikey`` -- except Kite's public instrument ids
  ``instrument_token`` and ``exchange_token``. In free text (any string value of 12 characters
  or more) ``access_token=...``-style assignments, ``Authorization: token key:secret`` and
  ``Bearer ...`` values are replaced too. A bare token with nothing naming it cannot be told
  from an order id and is not caught: callers must not put secrets in free text.
- **Money is exact.** A float under a money key (:data:`MONEY_KEYS`) or a quantity key is
  refused: prices are decimal strings (``"1399.90"``) and quantities ints. ``Decimal`` values
  are written as their string. Other floats (a confidence, an indicator value) are allowed;
  NaN and infinities are not.
- **Only JSON.** str, int, bool, None, list/tuple and dict with str keys; enum members become
  their value, aware datetimes UTC ISO strings, dates ISO strings. Anything else is refused.
- Order intents and fills must carry :data:`~core.journal.records.REQUIRED_FIELDS`.

Every refusal is a :class:`~core.errors.JournalSchemaError` naming the field.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.errors import JournalSchemaError
from core.journal.records import REQUIRED_FIELDS

REDACTED = "***redacted***"

#: Normalised (lower case, no ``_``/``-``/space) keys whose values are secrets.
SECRET_KEYS = frozenset({
    "accesstoken", "requesttoken", "refreshtoken", "publictoken", "enctoken", "apikey", "apisecret",
    "secret", "clientsecret", "password", "passwd", "totp", "totpsecret", "totpkey", "pin", "twofa",
    "authorization", "auth", "token", "cookie", "setcookie", "privatekey", "secretkey",
})
_SECRET_SUFFIXES = ("token", "secret", "password", "passwd", "apikey")
_NOT_SECRET = frozenset({"instrumenttoken", "exchangetoken"})

#: Keys whose values are money: never a float.
MONEY_KEYS = frozenset({
    "price", "avg_price", "average_price", "trigger_price", "limit_price", "entry_price", "exit_price",
    "stop", "stop_price", "initial_stop", "target", "target_price", "charges", "brokerage", "tax",
    "taxes", "fees", "pnl", "gross", "net", "gross_pnl", "net_pnl", "amount", "value", "margin",
    "capital", "cash", "balance",
})
#: Keys whose values are quantities: ints, never a float.
QTY_KEYS = frozenset({"qty", "quantity", "filled_qty", "pending_qty", "cancelled_qty", "open_qty"})

_FREE_TEXT = re.compile(
    r"(?i)(?P<assign>\b(?:access[_-]?token|request[_-]?token|refresh[_-]?token|enctoken|api[_-]?key|"
    r"api[_-]?secret|password|passwd|totp|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"
    r"|(?P<scheme>\b(?:token|bearer)\s+)[A-Za-z0-9._~+/=-]{6,}(?::[A-Za-z0-9._~+/=-]+)?"
)
_MIN_FREE_TEXT = 12
_key_cache: dict[str, bool] = {}


def is_secret_key(key: str) -> bool:
    """True when a payload key names a secret (see the module docstring)."""
    cached = _key_cache.get(key)
    if cached is None:
        norm = key.lower().replace("_", "").replace("-", "").replace(" ", "")
        cached = norm not in _NOT_SECRET and (norm in SECRET_KEYS or norm.endswith(_SECRET_SUFFIXES))
        if len(_key_cache) < 4096:
            _key_cache[key] = cached
    return cached


def redact_text(text: str) -> str:
    """``text`` with named secrets (``access_token=...``, ``token key:secret``, ...) replaced."""
    if len(text) < _MIN_FREE_TEXT:
        return text
    low = text.lower()  # a cheap look for a word every pattern needs, before the regex runs
    if ("token" not in low and "key" not in low and "secret" not in low and "passw" not in low
            and "totp" not in low and "bearer" not in low):
        return text
    return _FREE_TEXT.sub(lambda m: (m.group("assign") or m.group("scheme")) + REDACTED, text)


def clean_payload(record_type: str, payload: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The payload as it is written, and whether it holds a float (see the module docstring)."""
    if not isinstance(payload, Mapping):
        raise JournalSchemaError(f"payload must be a mapping, not {type(payload).__name__}", where=record_type)
    floats = [False]
    clean = _clean_dict(payload, record_type, floats)
    required = REQUIRED_FIELDS.get(record_type)
    if required is not None and not required <= clean.keys():
        missing = ", ".join(sorted(required - clean.keys()))
        raise JournalSchemaError(f"a {record_type} payload needs {missing}", where=record_type)
    return clean, floats[0]


def _clean_dict(data: Mapping[Any, Any], path: str, floats: list[bool]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if type(key) is not str:
            if not isinstance(key, str):
                raise JournalSchemaError(f"payload keys must be strings, got {key!r}", where=path)
            key = str.__str__(key)
        secret = _key_cache.get(key)
        if secret is None:
            secret = is_secret_key(key)
        if secret:
            out[key] = REDACTED
            continue
        kind = type(value)  # the common cases inline: this runs for every field of every record
        if kind is str:
            out[key] = value if len(value) < _MIN_FREE_TEXT else redact_text(value)
        elif kind is int or kind is bool or value is None:
            out[key] = value
        else:
            out[key] = _clean(value, key, path, floats)
    return out


def _clean(value: Any, key: str, parent: str, floats: list[bool]) -> Any:
    kind = type(value)
    if kind is str:
        return redact_text(value)
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if key in MONEY_KEYS or key in QTY_KEYS:
            what = "a decimal string, e.g. '1399.90'" if key in MONEY_KEYS else "an int"
            raise JournalSchemaError(f"{key} is the float {value!r}: it is journaled as {what}", where=f"{parent}.{key}")
        if not math.isfinite(value):
            raise JournalSchemaError(f"{value!r} cannot be journaled", where=f"{parent}.{key}")
        floats[0] = True
        return value
    if isinstance(value, Mapping):
        return _clean_dict(value, f"{parent}.{key}", floats)
    if isinstance(value, (list, tuple)):
        return [_clean(item, key, parent, floats) for item in value]
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise JournalSchemaError(f"{value} cannot be journaled", where=f"{parent}.{key}")
        return str(value)
    if isinstance(value, enum.Enum):
        return _clean(value.value, key, parent, floats)
    if isinstance(value, str):
        return redact_text(str.__str__(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _clean(float(value), key, parent, floats)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise JournalSchemaError(f"naive datetime {value}: attach a timezone", where=f"{parent}.{key}")
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise JournalSchemaError(f"a {kind.__name__} cannot be journaled", where=f"{parent}.{key}")
