"""The execution journal: append-only, hash-chained JSONL, one file per IST day and mode.

Start with :mod:`core.journal.records` (the format); :mod:`core.journal.writer` appends,
:mod:`core.journal.reader` verifies and reads, :mod:`core.journal.tail` follows a file.
"""
