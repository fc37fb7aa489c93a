"""Interpreter settings the desktop runs with: where garbage is collected, how often threads switch.

- **Garbage on the UI thread only, in short pauses.** Left automatic, a collection starts on
  whichever thread happens to allocate (the engine's, a background load) and may free Qt objects
  there, which crashes the process. :class:`~app.gc_pacer.GcPacer` turns automatic collection
  off and collects on a UI-thread timer in steps of a millisecond or two; what exists once the
  window is built is frozen first (``gc.freeze``), so no collection rescans it.
- **A short GIL switch interval.** The engine thread is busy in Python during a tick storm;
  with CPython's default 5 ms interval the UI thread waits up to that long for every stretch of
  Python it runs (each model ``data()`` call while painting), which the UI benchmark showed as
  frame lag. At 1 ms the UI gets the interpreter back promptly, at a small cost in engine
  throughput.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication

from app.gc_pacer import GcPacer

SWITCH_INTERVAL_S = 0.001


def desktop_runtime(app: QCoreApplication, busy: Callable[[], bool] = lambda: False) -> GcPacer:
    """Apply the settings above (call on the UI thread once the main window is built); returns
    the collector, which lives with ``app``. ``busy``: the window is showing an update (the
    collector waits for its next tick)."""
    gc.collect()
    gc.freeze()
    pacer = GcPacer(app, busy=busy)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return pacer
