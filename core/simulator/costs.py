"""Trading charges: a dated Zerodha schedule (``resources/charges/zerodha.toml``) and cost models.

A cost model prices ONE executed order: ``order_charges(segment, side, price, qty, day)``
returns a :class:`ChargeBreakdown` of brokerage, STT/CTT, exchange transaction charges, the
SEBI fee, stamp duty and GST. :func:`trade_charges` prices a round trip (entry + exit order).

Money is :class:`~decimal.Decimal`. Each component of each order is rounded to the paisa with
``ROUND_HALF_UP`` (commercial rounding: 2.505 -> 2.51, where Python's default would give 2.50),
and GST is the schedule's rate (18%) of the *rounded* components it names (brokerage +
exchange txn + SEBI fee), rounded again, so a breakdown always adds up exactly. Zerodha's
contract note computes charges on the note's totals and rounds STT to the whole rupee per
note, not per order (india-market-facts §4, SECONDARY), so a day's total here can differ from
the contract note by a few paise (STT by up to a rupee). Per-order rounding is kept because a
backtest needs each trade's own cost, and the report's total must equal the sum of the trades.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from core.errors import ConfigError
from core.market.instruments import CostSegment
from core.paths import resource

Side = Literal["BUY", "SELL"]
EntrySide = Literal["LONG", "SHORT"]

ZERO = Decimal("0")
PAISA = Decimal("0.01")
CRORE = Decimal("10000000")
HUNDRED = Decimal("100")

COMPONENTS = ("brokerage", "stt", "exchange_txn", "sebi_fee", "stamp_duty", "gst")
_GST_BASES = frozenset(COMPONENTS) - {"gst"}
_SIDES = frozenset({"BUY", "SELL", "BOTH"})


def to_paisa(amount: Decimal) -> Decimal:
    """``amount`` rounded to the paisa, half up."""
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True, slots=True)
class ChargeBreakdown:
    """Charges of one order or a sum of orders: rupees as Decimals with two decimals."""

    brokerage: Decimal = ZERO
    stt: Decimal = ZERO
    exchange_txn: Decimal = ZERO
    sebi_fee: Decimal = ZERO
    stamp_duty: Decimal = ZERO
    gst: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Sum of all components."""
        return sum((getattr(self, name) for name in COMPONENTS), ZERO)

    def __add__(self, other: object) -> ChargeBreakdown:
        if not isinstance(other, ChargeBreakdown):
            return NotImplemented
        return ChargeBreakdown(**{n: getattr(self, n) + getattr(other, n) for n in COMPONENTS})

    def as_dict(self) -> dict[str, Decimal]:
        """Components and ``total`` by name (Decimals; ``str()`` them for JSON)."""
        out = {name: getattr(self, name) for name in COMPONENTS}
        out["total"] = self.total
        return out


# ---------------------------------------------------------------------------------------------
# The schedule


@dataclass(frozen=True, slots=True)
class Brokerage:
    """Per-order brokerage: ``pct_capped`` (min(pct of turnover, cap)) or ``flat``."""

    kind: Literal["pct_capped", "flat"]
    pct: Decimal = ZERO
    cap: Decimal = ZERO
    amount: Decimal = ZERO

    def on(self, turnover: Decimal) -> Decimal:
        if self.kind == "flat":
            return self.amount
        return min(turnover * self.pct / HUNDRED, self.cap)


@dataclass(frozen=True, slots=True)
class SideRate:
    """A percentage of turnover paid by one side (``BUY``/``SELL``) or ``BOTH``."""

    side: str
    pct: Decimal

    def on(self, turnover: Decimal, side: Side) -> Decimal:
        if self.side == "BOTH" or self.side == side:
            return turnover * self.pct / HUNDRED
        return ZERO


@dataclass(frozen=True, slots=True)
class SegmentRates:
    """The charge rates of one cost segment within one regime."""

    brokerage: Brokerage
    stt: SideRate
    exchange_txn_pct: Decimal
    sebi_per_crore: Decimal
    stamp_duty: SideRate
    gst_pct: Decimal
    gst_on: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Regime:
    """Rates in force from ``effective_from`` until the next regime starts."""

    effective_from: dt.date
    segments: Mapping[CostSegment, SegmentRates]
    source: str
    note: str


class ChargeSchedule:
    """Dated regimes, oldest first; :meth:`regime_for` picks the one in force on a day."""

    def __init__(self, regimes: Sequence[Regime], origin: str = "<schedule>") -> None:
        if not regimes:
            raise ConfigError("a charge schedule needs at least one [[regime]]", where=origin)
        self.origin = origin
        self.regimes: tuple[Regime, ...] = tuple(sorted(regimes, key=lambda r: r.effective_from))
        self._starts = [r.effective_from for r in self.regimes]
        for earlier, later in zip(self._starts, self._starts[1:]):
            if earlier == later:
                raise ConfigError(
                    f"two regimes start on {later}", where=f"{origin}: effective_from"
                )

    @classmethod
    def load(cls, path: Path | str) -> ChargeSchedule:
        """Read and validate a TOML schedule; any missing or bad field is a ConfigError."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                doc = tomllib.load(fh, parse_float=Decimal)
        except FileNotFoundError as exc:
            raise ConfigError("charge schedule not found", where=str(path)) from exc
        except OSError as exc:
            message = f"cannot read charge schedule: {exc.strerror}"
            raise ConfigError(message, where=str(path)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", where=str(path)) from exc
        return cls(_parse_document(doc, str(path)), origin=str(path))

    def regime_for(self, day: dt.date) -> Regime:
        """The regime in force on ``day`` (a datetime counts by its own calendar date)."""
        if isinstance(day, dt.datetime):
            day = day.date()
        i = bisect_right(self._starts, day)
        if i == 0:
            raise ConfigError(
                f"no charges known for {day}: the schedule starts on {self._starts[0]}",
                where=self.origin,
            )
        return self.regimes[i - 1]


# -- parsing ---------------------------------------------------------------------------------


class _Table:
    """A TOML table with the key path it was found at, for errors that name file and key."""

    def __init__(self, data: Any, origin: str, keypath: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"expected a table, got {data!r}", where=f"{origin}: {keypath}")
        self.data, self.origin, self.keypath = data, origin, keypath

    def where(self, key: str) -> str:
        return f"{self.origin}: {self.keypath}.{key}" if self.keypath else f"{self.origin}: {key}"

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise ConfigError(f"missing key '{key}'", where=self.where(key))
        return self.data[key]

    def table(self, key: str) -> _Table:
        sub = self.keypath + "." + key if self.keypath else key
        return _Table(self.get(key), self.origin, sub)

    def rate(self, key: str) -> Decimal:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise ConfigError(f"expected a number, got {value!r}", where=self.where(key))
        value = Decimal(value)
        if not value.is_finite() or value < 0:
            raise ConfigError(f"expected a number >= 0, got {value}", where=self.where(key))
        return value

    def pct(self, key: str) -> Decimal:
        value = self.rate(key)
        if value >= HUNDRED:
            raise ConfigError(
                f"a percentage below 100 expected, got {value}", where=self.where(key)
            )
        return value

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"expected non-empty text, got {value!r}", where=self.where(key))
        return value

    def side(self, key: str) -> str:
        value = self.get(key)
        if value not in _SIDES:
            raise ConfigError(f"expected BUY, SELL or BOTH, got {value!r}", where=self.where(key))
        return value

    def only(self, *allowed: str) -> None:
        for key in self.data:
            if key not in allowed:
                raise ConfigError(
                    f"unknown key '{key}' (expected one of: {', '.join(allowed)})",
                    where=self.where(key),
                )


def _parse_document(doc: dict[str, Any], origin: str) -> list[Regime]:
    top = _Table(doc, origin, "")
    top.only("schema", "broker", "exchange", "regime")
    raw = top.get("regime")
    if not isinstance(raw, list) or not raw:
        raise ConfigError("expected one or more [[regime]] tables", where=top.where("regime"))
    return [_parse_regime(_Table(item, origin, f"regime[{n}]")) for n, item in enumerate(raw, 1)]


def _parse_regime(t: _Table) -> Regime:
    t.only("effective_from", "source", "note", *(s.value for s in CostSegment))
    start = t.get("effective_from")
    if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
        raise ConfigError(
            f"expected a date (YYYY-MM-DD), got {start!r}", where=t.where("effective_from")
        )
    segments = {seg: _parse_segment(t.table(seg.value)) for seg in CostSegment}
    return Regime(start, segments, t.text("source"), t.text("note"))


def _parse_segment(t: _Table) -> SegmentRates:
    t.only("brokerage", "stt", "exchange_txn", "sebi_fee", "stamp_duty", "gst")
    b = t.table("brokerage")
    kind = b.get("kind")
    if kind == "pct_capped":
        b.only("kind", "pct", "cap")
        brokerage = Brokerage("pct_capped", pct=b.pct("pct"), cap=b.rate("cap"))
    elif kind == "flat":
        b.only("kind", "amount")
        brokerage = Brokerage("flat", amount=b.rate("amount"))
    else:
        raise ConfigError(f"expected 'pct_capped' or 'flat', got {kind!r}", where=b.where("kind"))

    stt, txn, sebi = t.table("stt"), t.table("exchange_txn"), t.table("sebi_fee")
    stamp, gst = t.table("stamp_duty"), t.table("gst")
    stt.only("side", "pct")
    txn.only("pct")
    sebi.only("per_crore")
    stamp.only("side", "pct")
    gst.only("pct", "on")
    gst_on = gst.get("on")
    if not isinstance(gst_on, list) or any(name not in _GST_BASES for name in gst_on):
        raise ConfigError(
            f"expected a list drawn from {sorted(_GST_BASES)}, got {gst_on!r}",
            where=gst.where("on"),
        )
    return SegmentRates(
        brokerage=brokerage,
        stt=SideRate(stt.side("side"), stt.pct("pct")),
        exchange_txn_pct=txn.pct("pct"),
        sebi_per_crore=sebi.rate("per_crore"),
        stamp_duty=SideRate(stamp.side("side"), stamp.pct("pct")),
        gst_pct=gst.pct("pct"),
        gst_on=tuple(gst_on),
    )


# ---------------------------------------------------------------------------------------------
# Cost models


@runtime_checkable
class CostModel(Protocol):
    """Prices one executed order."""

    name: str

    def order_charges(
        self, segment: CostSegment, side: Side, price: float | Decimal, qty: int, day: dt.date
    ) -> ChargeBreakdown: ...


def _turnover(price: float | Decimal, qty: int) -> Decimal:
    """price x qty as an exact Decimal (a float price is taken at its shortest repr)."""
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise ValueError(f"qty must be a positive int, got {qty!r}")
    try:
        p = price if isinstance(price, Decimal) else Decimal(repr(float(price)))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValueError(f"price must be a number, got {price!r}") from exc
    if not p.is_finite() or p <= 0:
        raise ValueError(f"price must be positive and finite, got {price!r}")
    return p * qty


def _check_side(side: str) -> Side:
    if side not in ("BUY", "SELL"):
        raise ValueError(f"side must be 'BUY' or 'SELL', got {side!r}")
    return side  # type: ignore[return-value]


class ZerodhaCosts:
    """Zerodha's charges from a dated :class:`ChargeSchedule` (see module doc for rounding)."""

    name = "zerodha"

    def __init__(self, schedule: ChargeSchedule) -> None:
        self.schedule = schedule

    def order_charges(
        self, segment: CostSegment, side: Side, price: float | Decimal, qty: int, day: dt.date
    ) -> ChargeBreakdown:
        """Charges of one executed order on ``day`` (for options, ``price`` is the premium)."""
        side = _check_side(side)
        turnover = _turnover(price, qty)
        rates = self.schedule.regime_for(day).segments[CostSegment(segment)]
        parts = {
            "brokerage": to_paisa(rates.brokerage.on(turnover)),
            "stt": to_paisa(rates.stt.on(turnover, side)),
            "exchange_txn": to_paisa(turnover * rates.exchange_txn_pct / HUNDRED),
            "sebi_fee": to_paisa(turnover * rates.sebi_per_crore / CRORE),
            "stamp_duty": to_paisa(rates.stamp_duty.on(turnover, side)),
        }
        gst_base = sum((parts[name] for name in rates.gst_on), ZERO)
        parts["gst"] = to_paisa(gst_base * rates.gst_pct / HUNDRED)
        return ChargeBreakdown(**parts)


class NoCosts:
    """Free trading: every order costs nothing (for reference rules and tests)."""

    name = "none"

    def order_charges(
        self, segment: CostSegment, side: Side, price: float | Decimal, qty: int, day: dt.date
    ) -> ChargeBreakdown:
        """A zero breakdown (arguments are still checked)."""
        _check_side(side)
        _turnover(price, qty)
        CostSegment(segment)
        return ChargeBreakdown()


def trade_charges(
    model: CostModel,
    segment: CostSegment,
    side_of_entry: EntrySide,
    entry_price: float | Decimal,
    exit_price: float | Decimal,
    qty: int,
    entry_day: dt.date,
    exit_day: dt.date,
) -> ChargeBreakdown:
    """Charges of a round trip: the entry order plus the exit order (LONG buys first)."""
    if side_of_entry == "LONG":
        entry_side, exit_side = "BUY", "SELL"
    elif side_of_entry == "SHORT":
        entry_side, exit_side = "SELL", "BUY"
    else:
        raise ValueError(f"side_of_entry must be 'LONG' or 'SHORT', got {side_of_entry!r}")
    entry = model.order_charges(segment, entry_side, entry_price, qty, entry_day)
    return entry + model.order_charges(segment, exit_side, exit_price, qty, exit_day)


def cost_model(name: str) -> CostModel:
    """``"zerodha"`` (the bundled dated schedule) or ``"none"``."""
    if name == "zerodha":
        return ZerodhaCosts(ChargeSchedule.load(resource("charges", "zerodha.toml")))
    if name == "none":
        return NoCosts()
    raise ConfigError(f"unknown cost model {name!r} (choose zerodha or none)", where="costs")


__all__ = [
    "COMPONENTS",
    "ChargeBreakdown",
    "ChargeSchedule",
    "CostModel",
    "NoCosts",
    "Regime",
    "SegmentRates",
    "ZerodhaCosts",
    "cost_model",
    "to_paisa",
    "trade_charges",
]
