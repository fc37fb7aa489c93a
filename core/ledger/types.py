"""How the ledger stores money, prices and instants: exact integers.

SQLite has no decimal type, and SQLAlchemy's ``Numeric`` on SQLite passes through a float, so
the ledger never stores a fractional number it must reconcile:

- **Money** (rupees) is an integer number of **paise** (``BIGINT``). Every amount the
  simulator and the cost model produce is already on the paisa, so nothing is rounded on the
  way in; a value that is not on the paisa is refused. ``SUM()`` in SQL is then exact.
- **Prices and points** are integers of **0.0001** (``BIGINT``): NSE tick sizes are 0.05 /
  0.01 for cash and F&O and 0.0025 for currency derivatives, so four decimals hold every grid
  price exactly; a price with more decimals is refused (it is not on any NSE grid).
- **Instants** are UTC epoch **nanoseconds** (``BIGINT``), returned tz-aware Asia/Kolkata.

Floats read at their shortest decimal form (``1399.9`` is 1399.90), as the simulator prices
them; a float within 1e-12 (relative) of a whole number of paise or units is float arithmetic
noise and is read as that number (``-2.73 - 0.01`` gives -2.7399999999999998: -2.74), while
anything further off (2.745) is refused. Reading back, ``n / 100`` and ``n / 10000`` as floats are the doubles nearest the decimal
values (IEEE division is correctly rounded), so a round trip gives the very same floats.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Dialect
from sqlalchemy.types import TypeDecorator

from core.clock import IST
from core.errors import LedgerError

PAISE = 100
PRICE_SCALE = 10_000
PRICE_DP = 4
FLOAT_NOISE = 1e-12  # relative: a float this close to a whole number of units is that number


def decimal_of(value: Any, what: str) -> Decimal:
    """``value`` as an exact Decimal (floats at their shortest repr); NaN/inf refused."""
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, (bool, np.bool_)):
        raise LedgerError(f"{what} is a boolean, not a number: {value!r}", where=what)
    elif isinstance(value, (int, np.integer)):
        out = Decimal(int(value))
    elif isinstance(value, (float, np.floating)):
        out = Decimal(repr(float(value)))
    elif isinstance(value, str):
        try:
            out = Decimal(value.strip())
        except InvalidOperation as exc:
            raise LedgerError(f"{what} is not a number: {value!r}", where=what) from exc
    else:
        raise LedgerError(f"{what} is not a number: {value!r}", where=what)
    if not out.is_finite():
        raise LedgerError(f"{what} is not a finite number: {value!r}", where=what)
    return out


def _scaled(value: Any, scale: int, what: str, unit: str) -> int:
    d = decimal_of(value, what) * scale
    n = d.to_integral_value()
    if d != n and not (isinstance(value, (float, np.floating)) and _noise(float(value) * scale, float(n))):
        raise LedgerError(f"{what} {value!r} is not a whole number of {unit}", where=what)
    return int(n)


def _noise(scaled: Any, whole: Any) -> Any:
    """True where a float is a whole number of units but for float arithmetic noise."""
    return np.abs(scaled - whole) <= FLOAT_NOISE * np.maximum(1.0, np.abs(whole))


def to_paise(value: Any, what: str = "amount") -> int:
    """Rupees -> integer paise, exactly (a sub-paisa amount is refused)."""
    return _scaled(value, PAISE, what, "paise")


def to_units(value: Any, what: str = "price") -> int:
    """A price or points -> integer 0.0001 units, exactly (more than 4 decimals refused)."""
    return _scaled(value, PRICE_SCALE, what, "0.0001 (4 decimals)")


def rupees(paise: int) -> Decimal:
    """Integer paise -> Decimal rupees with two decimals."""
    return Decimal(int(paise)).scaleb(-2)


def price(units: int) -> Decimal:
    """Integer 0.0001 units -> Decimal with four decimals."""
    return Decimal(int(units)).scaleb(-PRICE_DP)


def is_missing(value: Any) -> bool:
    """None, NaN or NaT."""
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def to_ns(value: Any, what: str = "time") -> int:
    """A datetime/Timestamp/ISO text -> UTC epoch ns (naive values are Asia/Kolkata)."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"{what} is not a time: {value!r}", where=what) from exc
    if ts is pd.NaT:
        raise LedgerError(f"{what} is missing", where=what)
    if ts.tzinfo is None:
        ts = ts.tz_localize(IST)
    return int(ts.as_unit("ns").value)


def ist(ns: int) -> pd.Timestamp:
    """UTC epoch ns -> a tz-aware Asia/Kolkata Timestamp."""
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").tz_convert(IST)


def day_of(ns: int) -> dt.date:
    """The Asia/Kolkata calendar day of an instant."""
    return ist(ns).date()


# -- vectorized (a whole trades frame at once) ------------------------------------------------


def paise_array(col: pd.Series, what: str) -> np.ndarray:
    """A column of rupee amounts -> int64 paise, exactly; refuses NaN and sub-paisa values."""
    return _scaled_array(col, PAISE, what, to_paise)


def units_array(col: pd.Series, what: str, *, allow_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A price column -> (int64 units, missing mask)."""
    values = col.to_numpy()
    if values.dtype.kind == "f":
        missing = np.isnan(values)
        if missing.any() and not allow_missing:
            raise LedgerError(f"{what} is missing in row {int(np.argmax(missing))}", where=what)
        filled = np.where(missing, 0.0, values)
        return _scaled_array(pd.Series(filled), PRICE_SCALE, what, to_units), missing
    missing = np.array([is_missing(v) for v in values], dtype=bool)
    if missing.any() and not allow_missing:
        raise LedgerError(f"{what} is missing in row {int(np.argmax(missing))}", where=what)
    out = np.array([0 if m else to_units(v, what) for v, m in zip(values, missing)], dtype=np.int64)
    return out, missing


def _scaled_array(col: pd.Series, scale: int, what: str, scalar: Any) -> np.ndarray:
    values = col.to_numpy()
    if values.dtype.kind in "iu":
        return values.astype(np.int64) * scale
    if values.dtype.kind == "f":
        if not np.isfinite(values).all():
            bad = int(np.argmax(~np.isfinite(values)))
            raise LedgerError(f"{what} is not a finite number in row {bad}: {values[bad]!r}", where=what)
        n = np.rint(values * scale)
        off = ((n / scale) != values) & ~_noise(values * scale, n)
        if off.any():
            bad = int(np.argmax(off))
            scalar(float(values[bad]), f"{what} (row {bad})")  # raises the precise error
        return n.astype(np.int64)
    return np.array([scalar(v, f"{what} (row {i})") for i, v in enumerate(values)], dtype=np.int64)


def ns_array(col: pd.Series, what: str, *, allow_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A time column -> (int64 UTC epoch ns, missing mask); naive times are Asia/Kolkata."""
    times = col
    if not isinstance(times.dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(times):
        try:
            times = pd.to_datetime(times, format="ISO8601")
        except (TypeError, ValueError):
            try:
                times = pd.to_datetime(times, format="ISO8601", utc=True)
            except (TypeError, ValueError) as exc:
                raise LedgerError(f"{what} holds values that are not times", where=what) from exc
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_localize(IST)
    missing = times.isna().to_numpy()
    if missing.any() and not allow_missing:
        raise LedgerError(f"{what} is missing in row {int(np.argmax(missing))}", where=what)
    utc = times.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns").to_numpy()
    ns = utc.view(np.int64)
    return np.where(missing, 0, ns).astype(np.int64), missing


def ist_index(ns: np.ndarray) -> pd.DatetimeIndex:
    """int64 UTC epoch ns -> tz-aware Asia/Kolkata times."""
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ns, dtype=np.int64), unit="ns", utc=True)).tz_convert(IST)


# -- column types -----------------------------------------------------------------------------


class Money(TypeDecorator[Decimal]):
    """Rupees stored as integer paise; Decimal with two decimals in Python."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else to_paise(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else rupees(value)


class Price(TypeDecorator[Decimal]):
    """Prices and points stored as integer 0.0001 units; Decimal with four decimals in Python."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if is_missing(value) else to_units(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else price(value)


class Instant(TypeDecorator[pd.Timestamp]):
    """An instant stored as UTC epoch ns; a tz-aware Asia/Kolkata Timestamp in Python."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if is_missing(value) else to_ns(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> pd.Timestamp | None:
        return None if value is None else ist(value)


def as_day(value: Any) -> dt.date:
    """A date from a date, datetime or ``YYYY-MM-DD`` text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise LedgerError(f"expected a day YYYY-MM-DD, got {value!r}", where="day") from exc
