"""Where the risk limits come from: the ``[risk]`` table of ``ATW_HOME/config.toml``, then
``--capital``, then each ``--risk key=value`` (later wins). Every key is a
:class:`~core.risk.limits.RiskLimits` field (``docs/risk.md``); a bad one is a
:class:`ConfigError` naming the key and where it was written (``config.toml: risk.heat_cap_pct``
or ``--risk heat_cap_pct``).

``config.toml``::

    [risk]
    capital = "10L"
    sizing = "risk"
    risk_per_trade_pct = 0.5
    heat_cap_pct = 3
    dd_soft_pct = 1
    dd_hard_pct = 2
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.risk.limits import RiskLimits


def config_table(home: Path) -> dict[str, Any]:
    """The ``[risk]`` table of ``home/config.toml`` ({} when the file or the table is absent)."""
    path = home / "config.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read it: {exc}", where=str(path)) from exc
    table = data.get("risk", {})
    if not isinstance(table, dict):
        raise ConfigError("[risk] must be a table of settings", where=str(path))
    return table


def load_limits(home: Path | None, overrides: Sequence[str] = (), *, capital: float | None = None,
                flag: str = "--risk") -> RiskLimits:
    """The limits in force for a run (module docstring)."""
    limits = RiskLimits()
    if home is not None:
        table = config_table(home)
        limits = _apply(limits, {k: _text(v) for k, v in table.items()}, lambda k: f"config.toml: risk.{k}")
    if capital is not None:
        limits = _apply(limits, {"capital": repr(float(capital))}, lambda _k: "--capital")
    pairs: dict[str, str] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"cannot read {item!r}: use KEY=VALUE", where=flag)
        pairs[key.strip()] = value.strip()
    return _apply(limits, pairs, lambda k: f"{flag} {k}")


def _apply(base: RiskLimits, values: dict[str, str], where: Any) -> RiskLimits:
    try:
        return RiskLimits.from_mapping(values, base=base)
    except ConfigError as exc:
        raise ConfigError(exc.message, where=where(exc.where)) from None


def _text(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)  # lockout = ["09:15-09:20", "14:45-15:00"]
    return str(value)
