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
  When the engine has a :class:`~core.automation.market_tape.MarketTape`, the quotes, closed
  bars and fills since the previous snapshot are drained with it and emitted first as the
  ``market`` signal (a :class:`~core.automation.market_tape.MarketUpdate`): every bar and fill
  reaches the UI exactly once, in order, at the snapshot rate.
- **Errors out**: an exception on the engine's thread becomes an ``alert`` signal (level, text),
  never a dialog opened from a worker thread; the service then stops cleanly.
- **The UI's turn**: CPython runs one thread's Python at a time. While the UI thread applies an
  update and paints (every Python model call and pyqtgraph paint needs the interpreter), a busy
  engine would take the interpreter back every switch interval and stretch a 10 ms repaint into
  a 60 ms freeze. Between :meth:`hold_for_ui` and :meth:`release_from_ui` the engine waits
  between events instead. An update is shown in several passes of the UI's loop (see
  ``app/windows/update_steps.py``); each pass renews the hold, so the engine stays out of the
  way of every pass and of the repaints Qt runs between them, not just the first 50 ms. Two caps
  keep a stuck or swamped UI from stopping the automation: at most ``UI_TURN_MAX_S`` after the
  last renewal, and at most ``UI_UPDATE_MAX_S`` from an update's first hold. The window stays
  smooth and the engine loses only the time the UI really works.
- **The host's own calls**: :meth:`renew_session` hands a new access token to the host's
  ``renew`` (Kite: the REST client, the ticker's socket, the broker watch) and :meth:`watch` the
  market watch's symbols to its ``watch`` (Kite: the ticker subscribes them), on the engine's
  thread, between events.
- **Shutdown**: :meth:`stop` asks the thread to finish; the engine closes its session (journal
  flushed by the host's ``close``), and ``finished_cleanly`` says whether it got there.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThread, Signal

from core.automation.engine import Engine
from core.automation.events import Command
from core.automation.snapshot import Snapshot

UI_TURN_MAX_S = 0.05  # the longest the engine waits after the UI last renewed its hold
UI_UPDATE_MAX_S = 0.2  # the longest the engine waits for one update, all its passes together


def ui_hold_deadline(update_at: float, renewed_at: float) -> float:
    """When the engine stops waiting for the UI: ``UI_TURN_MAX_S`` after the UI last renewed its
    hold, and never later than ``UI_UPDATE_MAX_S`` after the update's first hold."""
    return min(renewed_at + UI_TURN_MAX_S, update_at + UI_UPDATE_MAX_S)


@dataclass
class Hosted:
    """What ``build`` returns: the engine, its events, and what to close when it stops."""

    engine: Engine
    events: Iterator[Any]
    close: Callable[[], None] = lambda: None
    feed: Any = None  # a paced replay feed (its ``speed`` can change mid-run), or None
    renew: Callable[[str], None] | None = None  # a broker session's new access token (Kite), or None
    watch: Callable[[list[str]], None] | None = None  # stream these symbols too (Kite's ticker), or None


class AutomationService(QThread):
    """Hosts one engine on its own thread (see the module docstring)."""

    snapshot = Signal(object)  # Snapshot
    market = Signal(object)  # MarketUpdate, emitted just before the snapshot it belongs to
    alert = Signal(str, str)  # level, text

    def __init__(self, build: Callable[[Callable[[Snapshot], None]], Hosted], *, idle_ms: int = 50) -> None:
        super().__init__()
        self._build = build
        self._idle_s = idle_ms / 1000.0
        self._pending: queue.SimpleQueue[Command] = queue.SimpleQueue()  # before the engine exists
        self._engine: Engine | None = None
        self._speed: queue.SimpleQueue[float | None] = queue.SimpleQueue()
        self._host_calls: queue.SimpleQueue[Callable[[Hosted], None]] = queue.SimpleQueue()
        self._paused = threading.Event()
        self._ui_idle = threading.Event()
        self._ui_idle.set()
        self._ui_update_at = 0.0
        self._ui_renewed_at = 0.0
        self.finished_cleanly = False

    def post(self, command: Command) -> None:
        """Send a command to the engine (from any thread)."""
        engine = self._engine
        if engine is None:
            self._pending.put(command)
        else:
            engine.post(command)

    def set_speed(self, speed: float | None) -> None:
        """A replay's pace, times real time (None: as fast as possible); applied between events."""
        self._speed.put(speed)

    def renew_session(self, access_token: str) -> None:
        """The broker session's new access token (the trader logged in again); handed to the
        host on the engine's thread between events."""
        self._host_calls.put(lambda hosted: hosted.renew(access_token) if hosted.renew else None)

    def watch(self, symbols: list[str]) -> None:
        """The market watch's symbols: a live feed streams them too (on the engine's thread)."""
        wanted = list(symbols)
        self._host_calls.put(lambda hosted: hosted.watch(wanted) if hosted.watch else None)

    def set_paused(self, paused: bool) -> None:
        """Hold a replay between events; commands (the kill switch included) still apply."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def hold_for_ui(self) -> None:
        """The UI has an update to apply and paint (or another pass of one): the engine waits
        between events until :meth:`release_from_ui`, within the caps of :func:`ui_hold_deadline`.
        Called on the UI thread."""
        now = time.monotonic()
        if self._ui_idle.is_set():
            self._ui_update_at = now
        self._ui_renewed_at = now
        self._ui_idle.clear()

    def release_from_ui(self) -> None:
        """The UI has applied and painted: the engine goes on."""
        self._ui_idle.set()

    @contextmanager
    def ui_turn(self) -> Iterator[None]:
        """Hold the engine for the duration of a block on the UI thread."""
        self.hold_for_ui()
        try:
            yield
        finally:
            self.release_from_ui()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Ask the engine to stop after its current event; True when the thread ended in time."""
        self.requestInterruption()
        return self.wait(timeout_ms)

    def _publish(self, snap: Snapshot) -> None:  # on the service's thread, from the engine
        engine = self._engine
        if engine is not None and engine.tape is not None:
            self.market.emit(engine.tape.drain())
        self.snapshot.emit(snap)

    def run(self) -> None:  # the service's thread
        hosted: Hosted | None = None
        try:
            hosted = self._build(self._publish)
            engine = self._engine = hosted.engine
            while not self._pending.empty():
                engine.post(self._pending.get_nowait())
            for event in hosted.events:
                if self.isInterruptionRequested() or not self._between_events(engine, hosted):
                    break
                engine.handle(event)
            while not self.isInterruptionRequested():  # the feed is over: commands still apply
                self._idle(engine, hosted)
            engine.finish()
            self.finished_cleanly = True
        except Exception as exc:  # noqa: BLE001 - the UI hears of it; the thread ends cleanly
            self.alert.emit("critical", f"automation stopped: {type(exc).__name__}: {exc}")
        finally:
            if hosted is not None:
                hosted.close()

    def _idle(self, engine: Engine, hosted: Hosted) -> None:
        self._call_host(hosted)
        engine.drain_commands()
        engine.publish()
        self.msleep(int(self._idle_s * 1000))

    def _between_events(self, engine: Engine, hosted: Hosted) -> bool:
        """Give the UI its turn, apply a speed change and hold while paused; False when asked to
        stop meanwhile."""
        while not self._ui_idle.is_set():  # a renewal moves the deadline on
            left = ui_hold_deadline(self._ui_update_at, self._ui_renewed_at) - time.monotonic()
            if left <= 0 or self._ui_idle.wait(left):
                break
        while not self._speed.empty():
            speed = self._speed.get_nowait()
            if hosted.feed is not None:
                hosted.feed.speed = speed
        self._call_host(hosted)
        while self._paused.is_set():
            if self.isInterruptionRequested():
                return False
            self._idle(engine, hosted)
        return True

    def _call_host(self, hosted: Hosted) -> None:
        while not self._host_calls.empty():
            self._host_calls.get_nowait()(hosted)
