"""How the desk writes numbers in a cell: prices, signed changes, volumes, positions, signals."""

from __future__ import annotations

import datetime as dt
import functools

from core.automation.snapshot import PositionView

DASH = "—"

_SIGNAL_WORDS = {"long_entry": "long", "short_entry": "short", "exit_long": "exit L", "exit_short": "exit S"}


def price(value: float | None) -> str:
    """A price with 2 decimals, or a dash when there is none."""
    return DASH if value is None else f"{value:,.2f}"


def signed(value: float) -> str:
    """A change with its sign: ``+12.35``, ``-0.40``, ``0.00``."""
    return f"{value:+,.2f}" if round(value, 2) != 0 else "0.00"


def percent(value: float) -> str:
    return f"{value:+.2f} %" if round(value, 2) != 0 else "0.00 %"


def indian_int(value: float) -> str:
    """A whole number grouped the Indian way: ``12,34,567``."""
    n = round(value)
    digits = str(abs(n))
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ("-" if n < 0 else "") + ",".join([*groups, tail])


def position_brief(pos: PositionView | None) -> str:
    """``L 50 @ 101.20`` / ``S 10 @ 2,945.35``, or a dash when flat."""
    if pos is None:
        return DASH
    return f"{pos.side[:1]} {pos.qty} @ {pos.entry_price:,.2f}"


def signal_brief(text: str, time: dt.datetime | None) -> str:
    """The last signal in a few characters (``long 10:32``); '' when there was none."""
    if not text or text == "none":
        return ""
    words = "+".join(_SIGNAL_WORDS.get(part, part) for part in text.split(","))
    return f"{words} {time:%H:%M}" if time is not None else words


@functools.lru_cache(maxsize=4096)  # the same entry times are shown with every snapshot
def clock(time: dt.datetime | None) -> str:
    """A time of day, ``10:32:05``."""
    return DASH if time is None else f"{time:%H:%M:%S}"
