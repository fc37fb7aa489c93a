"""The automation engine: one thread, one queue, the single writer of live state (DESIGN.md §2)."""
