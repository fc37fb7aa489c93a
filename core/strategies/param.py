"""A strategy parameter's declaration: default, type, range check and one line of help."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Param:
    """One strategy parameter: default, type and a line of help."""

    default: Any
    help: str
    kind: Callable[[str], Any] = float
    check: Callable[[Any], bool] | None = None


def positive(value: float) -> bool:
    return value > 0


def non_negative(value: float) -> bool:
    return value >= 0


def at_least(bound: int) -> Callable[[int], bool]:
    return lambda value: value >= bound
