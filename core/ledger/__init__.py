"""The ledger: sessions, orders, fills, trades, day summaries and simulator runs in SQLite.

Use :class:`Ledger` (core/ledger/repository.py); nothing outside this package touches SQL.
Names are imported lazily, so ``atw`` starts without loading SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from core.ledger.modes import ALL, MODES

__all__ = ["ALL", "MODES", "DayRow", "Ledger", "LedgerSnapshot"]


def __getattr__(name: str) -> Any:
    if name in ("DayRow", "Ledger"):
        from core.ledger import repository

        return getattr(repository, name)
    if name == "LedgerSnapshot":
        from core.ledger.snapshot import LedgerSnapshot

        return LedgerSnapshot
    raise AttributeError(f"module 'core.ledger' has no attribute {name!r}")
