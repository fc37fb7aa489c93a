"""Typed errors. Each carries *where* it happened so the trader sees what and where in one line."""

from __future__ import annotations


class AtwError(Exception):
    """Base of every error the workstation raises on purpose."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class DataError(AtwError):
    """Market data that cannot be read or cannot be traded on (file:line in ``where``)."""


class ConfigError(AtwError):
    """A setting, parameter or command-line value that is wrong (its name in ``where``)."""


class CalendarError(AtwError):
    """The exchange calendar cannot answer (e.g. a year it has no holiday list for)."""


class BrokerError(AtwError):
    """A broker call failed (order id or endpoint in ``where``)."""


class RiskRejected(AtwError):
    """A risk check refused an order (instrument or order id in ``where``)."""


class LedgerError(AtwError):
    """The ledger database cannot be read or written (its file in ``where``)."""


class JournalError(AtwError):
    """The execution journal cannot be written or read (file, or file:line, in ``where``)."""


class JournalCorrupt(JournalError):
    """A journal record is damaged, out of order or tampered with (file:line and seq in ``where``)."""

    def __init__(self, message: str, *, where: str | None = None, seq: int | None = None) -> None:
        self.seq = seq
        super().__init__(message, where=where)


class JournalSchemaError(JournalError):
    """A record does not follow the journal schema, or was written by a newer atw."""
