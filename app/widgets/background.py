"""Run a callable off the UI thread and get its result (or its error text) back on the UI thread.

    jobs = Background(self)                      # owned by a widget, created on the UI thread
    jobs.run(lambda: ledger_days(path), self._show_days, self._show_error, key="days")

The callable runs on a QThreadPool worker and must return plain, immutable data (no Qt objects,
no open database handles). ``on_done(result)`` or ``on_error(text)`` is then called on the
thread that owns the :class:`Background` (the UI thread), through a queued signal.

- ``key``: only the newest job of a key delivers; the result of an older job of the same key
  that finishes later is dropped (a filter changed twice quickly shows the second answer only).
- ``max_threads=1`` (the default) runs jobs one after another in submission order, so jobs
  that share state (an incremental file reader, one SQLite file) never overlap.
- :meth:`shutdown` drops pending jobs, waits for the running one and stops all delivery; call it
  before the owner goes away (a closing window) so no worker outlives it.

Python's cyclic garbage collector runs on whichever thread happens to allocate; if it frees a
Qt object (a discarded pyqtgraph item, a closed widget) on a worker, Qt can crash. An application
that runs Python on worker threads should therefore collect on the UI thread only, e.g. with
``app.gc_pacer.GcPacer`` created once at start-up.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from core.errors import AtwError


def error_text(exc: BaseException) -> str:
    """What the trader reads: a typed error's own message (it names the place), else the type too."""
    if isinstance(exc, AtwError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _Relay(QObject):
    """Carries results from workers; lives on the owner's thread, so emits from workers are queued."""

    done = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._id, self._fn, self._relay = job_id, fn, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the UI as text
            text = error_text(exc)
            if not isinstance(exc, AtwError):
                text += "\n" + "".join(traceback.format_exception(exc)[-3:]).rstrip()
            self._emit(self._relay.failed, text)
        else:
            self._emit(self._relay.done, result)

    def _emit(self, signal: Any, value: Any) -> None:
        try:
            signal.emit(self._id, value)
        except RuntimeError:  # the relay is gone: its owner shut down, nobody is waiting
            pass


@dataclass(frozen=True)
class _Pending:
    key: str | None
    on_done: Callable[[Any], None]
    on_error: Callable[[str], None] | None


class Background(QObject):
    """Runs callables on a private thread pool and delivers results on this object's thread."""

    #: Emitted on the owner's thread when no job is queued or running any more.
    idle = Signal()

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(max(1, max_threads))
        self._relay = _Relay(self)  # owned by this object: destroyed with it, on its thread
        self._relay.done.connect(self._deliver)
        self._relay.failed.connect(self._deliver_error)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._latest: dict[str, int] = {}
        self._closed = False

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        *,
        key: str | None = None,
    ) -> int:
        """Queue ``fn``; returns a job id. ``on_error`` gets the error text (None: ignore it)."""
        if self._closed:
            raise RuntimeError("this Background was shut down")
        job_id = next(self._ids)
        self._pending[job_id] = _Pending(key, on_done, on_error)
        if key is not None:
            self._latest[key] = job_id
        self._pool.start(_Job(job_id, fn, self._relay))
        return job_id

    def busy(self, key: str | None = None) -> bool:
        """Whether any job (of ``key``, if given) has not delivered yet."""
        return any(key is None or p.key == key for p in self._pending.values())

    def wait(self, msecs: int = 5000) -> bool:
        """Block until the running jobs finish (their results are still delivered later, queued)."""
        return bool(self._pool.waitForDone(msecs))

    def shutdown(self, msecs: int = 5000) -> None:
        """Drop queued jobs, wait for the running one, deliver nothing more."""
        self._closed = True
        self._pending.clear()
        self._pool.clear()
        self._pool.waitForDone(msecs)

    def _take(self, job_id: int) -> _Pending | None:
        pending = self._pending.pop(job_id, None)
        if pending is None or self._closed:
            return None
        if pending.key is not None and self._latest.get(pending.key) != job_id:
            return None  # superseded by a newer job of the same key
        return pending

    def _after(self) -> None:
        if not self._pending:
            self.idle.emit()

    @Slot(int, object)
    def _deliver(self, job_id: int, result: Any) -> None:
        pending = self._take(job_id)
        try:
            if pending is not None:
                pending.on_done(result)
        finally:
            self._after()

    @Slot(int, str)
    def _deliver_error(self, job_id: int, text: str) -> None:
        pending = self._take(job_id)
        try:
            if pending is not None and pending.on_error is not None:
                pending.on_error(text)
        finally:
            self._after()
