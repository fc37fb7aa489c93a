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

The portfolio settings (percentages of ``capital``; ``0`` or ``off`` switches a rule off) are
documented one by one in ``docs/risk.md``: sizing (``sizing``, ``risk_per_trade_pct``,
``vol_target_pct``, ``kelly_fraction``, ``kelly_cap_pct``), exposure caps (``max_*_pct``), the
portfolio heat cap (``heat_cap_pct``), correlation (``max_corr``), tail risk (``var_limit_pct``,
``cvar_limit_pct``, ``stress_limit_pct``), drawdown (``daily_loss_pct``, ``dd_soft_pct``,
``dd_soft_scale``, ``dd_hard_pct``), ``loss_streak`` / ``cooldown_min`` and ``lockout``.
"""

from __future__ import annotations

import datetime as dt
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


def parse_pct(text: str | int | float | Decimal, *, key: str, maximum: Decimal = Decimal(100)) -> Decimal:
    """A percentage (``1``, ``1.5%``, ``0.25``), 0 when off; between 0 and ``maximum``."""
    if isinstance(text, bool):
        raise ConfigError(f"expected a percentage, got {text!r}", where=key)
    raw = str(text).strip().lower().removesuffix("%").strip()
    if raw in _OFF:
        return Decimal(0)
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ConfigError(f"cannot read {text!r} as a percentage: write 1, 1.5 or 1.5%", where=key) from exc
    if not value.is_finite() or value < 0 or value > maximum:
        raise ConfigError(f"{text!r} must be between 0 and {maximum}", where=key)
    return value


def parse_fraction(text: str | int | float | Decimal, *, key: str) -> Decimal:
    """A fraction between 0 and 1 (``0.7``), 0 when off."""
    return parse_pct(text, key=key, maximum=Decimal(1))


def _switch(value: object, *, key: str) -> int:
    """on/off, true/false, yes/no, 1/0 as 1 or 0."""
    text = str(value).strip().lower()
    if text in ("1", "on", "true", "yes"):
        return 1
    if text in ("0", "off", "false", "no", "none", ""):
        return 0
    raise ConfigError(f"{value!r} is not on or off", where=key)


def parse_choice(text: object, *, key: str, choices: tuple[str, ...]) -> str:
    value = str(text).strip().lower()
    if value not in choices:
        raise ConfigError(f"{text!r} is not one of {', '.join(choices)}", where=key)
    return value


def parse_windows(text: object, *, key: str) -> tuple[tuple[dt.time, dt.time], ...]:
    """Lockout windows ``"09:15-09:20,14:45-15:00"`` (IST), none when empty or off."""
    if isinstance(text, tuple):
        return text  # already read
    raw = str(text).strip().lower()
    if raw in _OFF:
        return ()
    windows = []
    for part in raw.split(","):
        start, sep, end = part.strip().partition("-")
        try:
            a, b = dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())
        except ValueError as exc:
            raise ConfigError(f"cannot read {part.strip()!r} as a window: write HH:MM-HH:MM", where=key) from exc
        if not sep or a >= b:
            raise ConfigError(f"{part.strip()!r}: a window is HH:MM-HH:MM with its start first", where=key)
        windows.append((a, b))
    return tuple(windows)


_RUPEE_FIELDS = ("capital", "max_loss_per_trade", "daily_loss_limit", "max_order_value")
_COUNT_FIELDS = ("max_open_positions", "orders_per_second", "orders_per_minute", "kill_rejects_window_s")
_PCT_FIELDS = ("risk_per_trade_pct", "vol_target_pct", "kelly_cap_pct", "daily_loss_pct", "dd_soft_pct",
               "dd_hard_pct", "heat_cap_pct", "max_instrument_pct", "max_sector_pct", "max_strategy_pct",
               "max_underlying_pct", "max_expiry_pct", "max_gross_pct", "max_net_pct", "var_limit_pct",
               "cvar_limit_pct", "stress_limit_pct", "stress_gap_pct")
_FRACTION_FIELDS = ("kelly_fraction", "dd_soft_scale", "max_corr")
_OPTIONAL_COUNTS = ("loss_streak", "cooldown_min", "kill_rejects", "kill_orders_per_min", "kill_stale_s",
                    "kill_on_mismatch")  # 0 = off
_CHOICES = {"sizing": ("fixed", "risk", "vol", "kelly"), "cap_action": ("refuse", "reduce")}
_ALIASES = {"max_positions": "max_open_positions"}
_PCT_MAX = {"max_gross_pct": Decimal(1000), "max_net_pct": Decimal(1000), "max_instrument_pct": Decimal(1000),
            "max_sector_pct": Decimal(1000), "max_strategy_pct": Decimal(1000), "max_underlying_pct": Decimal(1000),
            "max_expiry_pct": Decimal(1000)}  # notional caps may exceed capital (MIS leverage)


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
    # sizing
    sizing: str = "fixed"  # fixed (the strategy's qty), risk, vol, kelly
    risk_per_trade_pct: Decimal = Decimal(0)
    vol_target_pct: Decimal = Decimal(0)
    kelly_fraction: Decimal = Decimal("0.25")
    kelly_cap_pct: Decimal = Decimal(2)
    # exposure, heat, correlation
    cap_action: str = "refuse"  # or reduce: an entry is cut to what the caps leave
    max_instrument_pct: Decimal = Decimal(0)
    max_sector_pct: Decimal = Decimal(0)
    max_strategy_pct: Decimal = Decimal(0)
    max_underlying_pct: Decimal = Decimal(0)
    max_expiry_pct: Decimal = Decimal(0)
    max_gross_pct: Decimal = Decimal(0)
    max_net_pct: Decimal = Decimal(0)
    heat_cap_pct: Decimal = Decimal(0)
    max_corr: Decimal = Decimal(0)
    # tail risk
    var_limit_pct: Decimal = Decimal(0)
    cvar_limit_pct: Decimal = Decimal(0)
    stress_limit_pct: Decimal = Decimal(0)
    stress_gap_pct: Decimal = Decimal(5)
    # drawdown
    daily_loss_pct: Decimal = Decimal(0)
    dd_soft_pct: Decimal = Decimal(0)
    dd_soft_scale: Decimal = Decimal("0.5")
    dd_hard_pct: Decimal = Decimal(0)
    loss_streak: int = 0
    cooldown_min: int = 0
    lockout: tuple[tuple[dt.time, dt.time], ...] = ()
    # automatic kill triggers (core.automation.kill_triggers)
    kill_rejects: int = 0
    kill_rejects_window_s: int = 60
    kill_orders_per_min: int = 0
    kill_stale_s: int = 0
    kill_on_mismatch: int = 0  # 1: on

    def __post_init__(self) -> None:
        for name in _RUPEE_FIELDS:
            value = parse_rupees(getattr(self, name), key=name, allow_off=name != "capital")
            object.__setattr__(self, name, value)
        for name in _COUNT_FIELDS:
            object.__setattr__(self, name, parse_count(getattr(self, name), key=name))
        object.__setattr__(self, "kill_on_mismatch", _switch(self.kill_on_mismatch, key="kill_on_mismatch"))
        for name in _OPTIONAL_COUNTS:
            object.__setattr__(self, name, parse_count(getattr(self, name), key=name, minimum=0))
        for name in _PCT_FIELDS:
            object.__setattr__(self, name, parse_pct(getattr(self, name), key=name,
                                                     maximum=_PCT_MAX.get(name, Decimal(100))))
        for name in _FRACTION_FIELDS:
            object.__setattr__(self, name, parse_fraction(getattr(self, name), key=name))
        for name, choices in _CHOICES.items():
            object.__setattr__(self, name, parse_choice(getattr(self, name), key=name, choices=choices))
        object.__setattr__(self, "lockout", parse_windows(self.lockout, key="lockout"))
        self._check_together()

    def _check_together(self) -> None:
        if self.sizing == "risk" and self.risk_per_trade_pct <= 0:
            raise ConfigError("sizing=risk needs risk_per_trade_pct (the % of capital a trade may lose)",
                              where="risk_per_trade_pct")
        if self.sizing == "vol" and self.vol_target_pct <= 0:
            raise ConfigError("sizing=vol needs vol_target_pct (the % of capital one ATR move may be worth)",
                              where="vol_target_pct")
        if self.sizing == "kelly" and (self.kelly_fraction <= 0 or self.kelly_cap_pct <= 0):
            raise ConfigError("sizing=kelly needs kelly_fraction and kelly_cap_pct above 0", where="kelly_fraction")
        if self.dd_soft_pct and self.dd_hard_pct and self.dd_soft_pct >= self.dd_hard_pct:
            raise ConfigError(f"dd_soft_pct {self.dd_soft_pct} must be below dd_hard_pct {self.dd_hard_pct}",
                              where="dd_soft_pct")
        if bool(self.loss_streak) != bool(self.cooldown_min):
            raise ConfigError("loss_streak and cooldown_min go together (both set, or both 0)", where="loss_streak")

    def pct_of_capital(self, pct: Decimal) -> Decimal:
        """``pct`` % of capital, in rupees to the paisa."""
        return (self.capital * pct / 100).quantize(PAISA, rounding=ROUND_HALF_UP)

    @classmethod
    def keys(cls) -> list[str]:
        """Every setting's name (aliases too)."""
        return sorted([f.name for f in fields(cls)] + list(_ALIASES))

    @classmethod
    def from_mapping(cls, values: Mapping[str, object], *, base: RiskLimits | None = None) -> RiskLimits:
        """Limits from ``--risk``-style ``{key: text}`` on top of ``base`` (default: the defaults).

        Raises :class:`ConfigError` naming the key for an unknown key or an unreadable value.
        """
        known = {f.name for f in fields(cls)}
        changes: dict[str, object] = {}
        for raw_key, value in values.items():
            key = raw_key.strip().lower().replace("-", "_")
            key = _ALIASES.get(key, key)
            if key not in known:
                raise ConfigError(f"unknown risk setting; known: {', '.join(cls.keys())}", where=raw_key)
            changes[key] = value
        try:
            return replace(base or cls(), **changes)  # type: ignore[arg-type]
        except ConfigError as exc:
            raw = next((k for k in values if _ALIASES.get(k.strip().lower().replace("-", "_"),
                                                          k.strip().lower().replace("-", "_")) == exc.where), None)
            raise ConfigError(exc.message, where=raw or exc.where) from None
