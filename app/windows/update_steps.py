"""UpdateSteps: the service's updates shown one panel group at a time, each painted in its own pass.

Qt paints every dirty widget of a window in one go. Under a tick storm the chart (a new candle
scrolls it: every item and both axes redrawn) and the tables (hundreds of positions and orders)
were dirty together, and the window's one paint was their sum — the longest freezes the trader
saw. Here each group is a *step*: it applies what is pending for it on one pass of the loop and
is painted on the next, and the next step runs on the pass after that, so input and timers get
their turn between, and a long apply and a long paint never add up to one stall. The
window's steps are the chart, the market watch, the positions (with orders and fills), the
automation grid with the risk panel, and the status bar.

Every update is queued for every step. Market updates are incremental (bars, fills), so a
step gets all of them, in order; snapshots are whole states, so a step gets only the newest.
Under a backlog the steps therefore coalesce rather than fall behind.

While steps are pending the engine is held (``hold``, renewed as each pass starts and as the
next is scheduled; the service caps the hold), and it is released (``release``) once the last
step has painted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer

from core.automation.market_tape import MarketUpdate
from core.automation.snapshot import Snapshot

Step = Callable[[Sequence[MarketUpdate], Snapshot | None], None]


@dataclass
class _Pending:
    markets: list[MarketUpdate] = field(default_factory=list)
    snapshot: Snapshot | None = None

    def __bool__(self) -> bool:
        return bool(self.markets) or self.snapshot is not None

    def take(self) -> tuple[list[MarketUpdate], Snapshot | None]:
        markets, snap = self.markets, self.snapshot
        self.markets, self.snapshot = [], None
        return markets, snap


class UpdateSteps:
    """Runs ``steps`` in turn over the queued updates, ``paint`` after each (module docstring)."""

    def __init__(self, steps: Sequence[Step], *, paint: Callable[[], None],
                 hold: Callable[[], None], release: Callable[[], None], context: QObject) -> None:
        self._context = context  # the passes stop when it is destroyed (a closed window)
        self._steps = list(steps)
        self._pending = [_Pending() for _ in self._steps]
        self._paint = paint
        self._hold = hold
        self._release = release
        self._next = 0  # the step to try first on the next pass
        self._due = False
        self._paint_due = False  # the last step's changes are still to paint

    def market(self, update: MarketUpdate) -> None:
        for pending in self._pending:
            pending.markets.append(update)
        self._schedule()

    def snapshot(self, snap: Snapshot) -> None:
        for pending in self._pending:
            pending.snapshot = snap
        self._schedule()

    @property
    def idle(self) -> bool:
        """Nothing left to show or paint."""
        return not self._paint_due and not any(self._pending)

    def flush(self) -> None:
        """Run every pending step now (tests, and before the window reads its own panels)."""
        while not self.idle:
            self._run_one()
        self._release()

    def _schedule(self) -> None:
        self._hold()
        if not self._due:
            self._due = True
            QTimer.singleShot(0, self._context, self._pass)

    def _pass(self) -> None:
        self._due = False
        self._hold()
        try:
            self._run_one()
        finally:
            if self.idle:
                self._release()
            else:
                self._schedule()

    def _run_one(self) -> None:
        """A step's work, or (on the next pass) its paint: the two halves of a step are separate
        passes, so a long apply and a long paint never add up to one stall."""
        if self._paint_due:
            self._paint_due = False
            self._paint()
            return
        count = len(self._steps)
        for k in range(count):
            i = (self._next + k) % count
            if self._pending[i]:
                self._next = (i + 1) % count
                self._steps[i](*self._pending[i].take())
                self._paint_due = True
                return
