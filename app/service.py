"""AutomationService: the core Engine on a QThread; the UI only sends commands and shows snapshots.

The engine and everything it owns are built *on the service's thread* (by the ``build``
callable), so no live state is ever touched from the UI thread (DESIGN.md §2):

- **Commands in**: :meth:`AutomationService.post` puts a command on the engine's thread-safe
  inbox (``Engine.post``); the engine applies it before its next event (a paced feed sleeps at
  most a second between events). Once the feed is over the service keeps draining the inbox
  every ``idle_ms``, so commands still apply.
- **Snapshots out**: the engine publishes immutable :class:`~core.automation.snapshot.Snapshot`
  objects at a bounded rate (``snapshot_hz``); each is emitted as the ``snapshot`` signal,
  delivered to the UI thread by Qt's queued connection. A tick storm never reaches the UI.
- **Errors out**: an exception on the engine's thread becomes an ``alert`` signal (level, text),
  never a dialog opened from a worker thread; the service then stops cleanly.
- **Shutdown**: :meth:`stop` asks the thread to finish; the engine closes its session (journal
  flushed by the host's ``close``), and ``finished_cleanly`` says whether it got there.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThread, Signal

from core.automation.engine import Engine
from core.automation.events import Command
from core.automation.snapshot import Snapshot


@dataclass
class Hosted:
    """What ``build`` returns: the engine, its events, and what to close when it stops."""

    engine: Engine
    events: Iterator[Any]
    close: Callable[[], None] = lambda: None


class AutomationService(QThread):
    """Hosts one engine on its own thread (see the module docstring)."""

    snapshot = Signal(object)  # Snapshot
    alert = Signal(str, str)  # level, text

    def __init__(self, build: Callable[[Callable[[Snapshot], None]], Hosted], *, idle_ms: int = 50) -> None:
        super().__init__()
        self._build = build
        self._idle_s = idle_ms / 1000.0
        self._pending: queue.SimpleQueue[Command] = queue.SimpleQueue()  # before the engine exists
        self._engine: Engine | None = None
        self.finished_cleanly = False

    def post(self, command: Command) -> None:
        """Send a command to the engine (from any thread)."""
        engine = self._engine
        if engine is None:
            self._pending.put(command)
        else:
            engine.post(command)

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Ask the engine to stop after its current event; True when the thread ended in time."""
        self.requestInterruption()
        return self.wait(timeout_ms)

    def run(self) -> None:  # the service's thread
        hosted: Hosted | None = None
        try:
            hosted = self._build(self.snapshot.emit)
            engine = self._engine = hosted.engine
            while not self._pending.empty():
                engine.post(self._pending.get_nowait())
            for event in hosted.events:
                if self.isInterruptionRequested():
                    break
                engine.handle(event)
            while not self.isInterruptionRequested():  # the feed is over: commands still apply
                engine.drain_commands()
                engine.publish()
                self.msleep(int(self._idle_s * 1000))
            engine.finish()
            self.finished_cleanly = True
        except Exception as exc:  # noqa: BLE001 - the UI hears of it; the thread ends cleanly
            self.alert.emit("critical", f"automation stopped: {type(exc).__name__}: {exc}")
        finally:
            if hosted is not None:
                hosted.close()
