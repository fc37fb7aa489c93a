"""Risk limits, written the way an Indian trader writes them.

Rupee amounts accept ``50000``, ``50,000``, ``10,00,000``, ``50k``, ``1.5L`` / ``1.5lakh``,
``2cr`` / ``2crore`` (an optional ``₹`` or ``Rs`` in front). A rupee *limit* of ``0`` (or
``off`` / ``none``) switches that rule off; ``capital`` must be positive.

- ``orders_per_second``: SEBI's retail-algo threshold (TOPS) is 10 orders/s per account,
  counted per calendar second on the broker's clock (india-market-facts §5). A higher figure
  needs the strategy registered with the exchange; it is configurable, not checked here.
- ``orders_per_minute``: kept well under Zerodha's broker-wide 400/min.
- ``max_loss_per_trade``: an entry whose |entry - stop| x qty exceeds it is refused, and while it
  is set an entry without a stop is refused too.
- ``daily_loss_limit``: realised + unrealised day P&L at or below -limit refuses entries and
  locks the engine in REDUCING (see :mod:`core.risk.engine`).
- ``max_order_value``: price x qty of one entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ConfigError

PAISA = Decimal("0.01")
_MULTIPLIER = {
    "": Decimal(1),
    "k": Decimal(1_000),
    "thousand": Decimal(1_000),
    "l": Decimal(100_000),
    "lac": Decimal(100_000),
    "lacs": Decimal(100_000),
    "lakh": Decimal(100_000),
    "lakhs": Decimal(100_000),
    "cr": Decimal(10_000_000),
    "crore": Decimal(10_000_000),
    "crores": Decimal(10_000_000),
}
_RUPEES_RE = re.compile(r"^([0-9]*\.?[0-9]+)([a-z]*)$")
_OFF = frozenset({"off", "none", "no", ""})


def parse_rupees(text: str | int | float | Decimal, *, key: str = "amount", allow_off: bool = True) -> Decimal:
    """A rupee amount from ``"1.5L"``-style text, to the paisa; ``0`` when off (if allowed)."""
    if isinstance(text, bool):
        raise ConfigError(f"expected a rupee amount, got {text!r}", where=key)
    if isinstance(text, (int, float, Decimal)):
        try:
            value = Decimal(str(text))
        except InvalidOperation as exc:
            raise ConfigError(f"expected a rupee amount, got {text!r}", where=key) from exc
    else:
        raw = text.strip().lower()
        if allow_off and raw in _OFF:
            return Decimal("0.00")
        for prefix in ("₹", "rs.", "rs", "inr"):
            if raw.startswith(prefix):
                raw = raw[len(prefix):]
                break
        raw = raw.replace(",", "").replace("_", "").replace(" ", "")
        match = _RUPEES_RE.match(raw)
        if not match or match.group(2) not in _MULTIPLIER:
            raise ConfigError(
                f"cannot read {text!r} as rupees: write 50000, 50k, 1.5L or 2cr", where=key
            )
        value = Decimal(match.group(1)) * _MULTIPLIER[match.group(2)]
    if not value.is_finite() or value < 0:
        raise ConfigError(f"{text!r} must be a non-negative amount", where=key)
    if value == 0 and not allow_off:
        raise ConfigError(f"{text!r} must be positive", where=key)
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def format_inr(amount: Decimal) -> str:
    """Rupees the Indian way, ASCII-safe: ``Rs 1,23,456.70``, ``-Rs 5,000.00``."""
    value = amount.quantize(PAISA, rounding=ROUND_HALF_UP)
    whole, frac = f"{abs(value):.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    sign = "-" if value < 0 else ""
    return f"{sign}Rs {','.join([*groups, tail])}.{frac}"


def parse_count(text: str | int, *, key: str, minimum: int = 1) -> int:
    """A whole count of at least ``minimum``."""
    if isinstance(text, bool):
        raise ConfigError(f"expected a whole number, got {text!r}", where=key)
    try:
        value = int(text.strip().replace(",", "").replace("_", "")) if isinstance(text, str) else int(text)
    except ValueError as exc:
        raise ConfigError(f"expected a whole number, got {text!r}", where=key) from exc
    if isinstance(text, float) and text != value:
        raise ConfigError(f"expected a whole number, got {text!r}", where=key)
    if value < minimum:
        raise ConfigError(f"{value} is below the minimum {minimum}", where=key)
    return value


_RUPEE_FIELDS = ("capital", "max_loss_per_trade", "daily_loss_limit", "max_order_value")
_COUNT_FIELDS = ("max_open_positions", "orders_per_second", "orders_per_minute")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Portfolio and order limits checked before any order leaves the engine (0 = rule off)."""

    capital: Decimal = Decimal("1000000.00")  # 10,00,000
    max_open_positions: int = 20
    orders_per_second: int = 10
    orders_per_minute: int = 200
    max_loss_per_trade: Decimal = Decimal("0.00")
    daily_loss_limit: Decimal = Decimal("0.00")
    max_order_value: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        for name in _RUPEE_FIELDS:
            value = parse_rupees(getattr(self, name), key=name, allow_off=name != "capital")
            object.__setattr__(self, name, value)
        for name in _COUNT_FIELDS:
            object.__setattr__(self, name, parse_count(getattr(self, name), key=name))

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], *, base: RiskLimits | None = None) -> RiskLimits:
        """Limits from ``--set``-style ``{key: text}`` on top of ``base`` (default: the defaults).

        Raises :class:`ConfigError` naming the key for an unknown key or an unreadable value.
        """
        known = {f.name for f in fields(cls)}
        changes: dict[str, object] = {}
        for raw_key, value in values.items():
            key = raw_key.strip().lower().replace("-", "_")
            if key not in known:
                raise ConfigError(
                    f"unknown risk setting; known: {', '.join(sorted(known))}", where=raw_key
                )
            if key in _RUPEE_FIELDS:
                changes[key] = parse_rupees(value, key=raw_key, allow_off=key != "capital")  # type: ignore[arg-type]
            else:
                changes[key] = parse_count(value, key=raw_key)  # type: ignore[arg-type]
        return replace(base or cls(), **changes)  # type: ignore[arg-type]
