"""Interpreter settings the desktop runs with: where garbage is collected, how often threads switch.

- **Garbage on the UI thread only.** Left automatic, a collection starts on whichever thread
  happens to allocate (the engine's, a background load) and may free Qt objects there, which
  crashes the process. pyqtgraph's ``GarbageCollector`` turns automatic collection off and
  collects on a UI-thread timer; what exists once the window is built is frozen first
  (``gc.freeze``), so those collections never rescan the long-lived heap.
- **A short GIL switch interval.** The engine thread is busy in Python during a tick storm;
  with CPython's default 5 ms interval the UI thread waits up to that long for every stretch of
  Python it runs (each model ``data()`` call while painting), which the UI benchmark showed as
  frame lag. At 1 ms the UI gets the interpreter back promptly, at a small cost in engine
  throughput.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QCoreApplication

SWITCH_INTERVAL_S = 0.001
GC_INTERVAL_S = 1.0


def desktop_runtime(app: QCoreApplication) -> None:
    """Apply the settings above (call on the UI thread once the main window is built)."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    gc.collect()
    gc.freeze()
    app._atw_gc = GarbageCollector(interval=GC_INTERVAL_S)  # type: ignore[attr-defined]  # lives with the app
    sys.setswitchinterval(SWITCH_INTERVAL_S)
