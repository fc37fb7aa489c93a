"""GcPacer: Python's cyclic garbage collected on the UI thread, in pauses too short to feel.

Why not CPython's automatic collector: it runs on whichever thread allocates (the engine's,
a background load) and may free Qt objects there, which crashes the process. Why not
pyqtgraph's ``GarbageCollector`` (a 1 s timer mimicking the automatic thresholds): under a tick
storm a second's survivors took 10-16 ms to scan and every eleventh pass scanned ten seconds'
worth (18-40 ms), and every couple of minutes a full collection would rescan the whole heap (a
session's bars, orders and journal rows: hundreds of milliseconds). The UI benchmark saw those
pauses as the window's longest freezes.

The pacing here (on a UI-thread timer):

- every ``interval_ms`` (100 ms), when enough has been allocated, the young generation is
  collected: a tenth of a second's survivors (about a millisecond under the benchmark's storm);
- every ``young_per_full``-th step (each second) everything not frozen is collected and the
  survivors are then **frozen** (``gc.freeze``): what has lived a second joins the permanent
  set, which no later collection rescans, so no pause grows with the session (1-2 ms). The
  cadence is by steps, not by allocations: a slow trickle of survivors must not pile up into
  one long pass. Freezing does not keep anything alive: frozen objects are still freed by
  reference counting; only a *cycle* among them waits for the deep clean;
- a step never lands in the middle of showing an update (``busy``: the window's update steps
  are pending); it waits for the next tick, so a collection's pause never adds to a paint's;
- :meth:`deep_clean` unfreezes and collects everything once, reclaiming those cycles. It runs
  by itself when the application has been quiet for ``quiet_s`` (fewer than 700 new objects a
  step: no tick storm, the session over) and the frozen set has grown by a tenth since the
  last one — a pause nobody is watching.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

YOUNG_THRESHOLD = 700  # CPython's own: fewer new container objects than this are not worth a pass
DEEP_CLEAN_GROWTH = 0.10  # of the frozen set since the last deep clean


class GcPacer(QObject):
    """Turns automatic collection off and collects in paced steps (module docstring)."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 100,
                 young_per_full: int = 10, quiet_s: float = 10.0,
                 busy: Callable[[], bool] = lambda: False) -> None:
        super().__init__(parent)
        self.busy = busy
        self.young_per_full = young_per_full
        self.collections = {"young": 0, "full": 0}  # since start (for the benchmark and tests)
        self.deep_cleans = 0
        self._steps = 0
        self._quiet = 0
        self._quiet_steps_for_clean = max(1, round(quiet_s * 1000 / interval_ms))
        self._frozen_at_clean = gc.get_freeze_count()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.step)
        self._timer.start(interval_ms)

    def step(self) -> str:
        """One paced step; returns what it did: "young", "full", "deep" or "" (nothing, or busy)."""
        if self.busy():
            return ""
        self._steps += 1
        if gc.get_count()[0] < YOUNG_THRESHOLD:
            self._quiet += 1
            if self._quiet >= self._quiet_steps_for_clean and \
                    gc.get_freeze_count() > self._frozen_at_clean * (1 + DEEP_CLEAN_GROWTH):
                self.deep_clean()
                return "deep"
        else:
            self._quiet = 0
        if self._steps % self.young_per_full == 0:
            gc.collect()
            gc.freeze()
            done = "full"
        elif gc.get_count()[0] >= YOUNG_THRESHOLD:
            gc.collect(0)
            done = "young"
        else:
            return ""
        self.collections[done] += 1
        return done

    def deep_clean(self) -> None:
        """Collect everything, the frozen set included, then freeze the survivors again."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._frozen_at_clean = gc.get_freeze_count()
        self._quiet = 0
        self.deep_cleans += 1

    def stop(self) -> None:
        """Hand collection back to CPython (automatic, on any thread)."""
        self._timer.stop()
        gc.unfreeze()
        gc.enable()
