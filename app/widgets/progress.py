"""Progress bars that repaint with the window, never on the spot; a limit's use as a bar."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from PySide6.QtWidgets import QProgressBar

from app.models.palette import DeskPalette

BAR_MAX = 10_000  # a limit's use in basis points, so a bar's value is exact to 0.01 %
WARN_AT = Decimal("0.70")
DANGER_AT = Decimal("0.90")


def fraction_bp(fraction: Decimal) -> int:
    """0..1 as basis points for a bar (clamped), rounded half up."""
    clamped = min(max(fraction, Decimal(0)), Decimal(1))
    return int((clamped * BAR_MAX).to_integral_value(rounding=ROUND_HALF_UP))


def level_colour(fraction: Decimal, palette: DeskPalette) -> str:
    """ok below 70 %, warn from 70 %, danger from 90 %."""
    return palette.danger if fraction >= DANGER_AT else palette.warn if fraction >= WARN_AT else palette.ok


def set_bar_value(bar: QProgressBar, value: int) -> None:
    """Set a progress bar's value and let it repaint with the window's next paint.

    ``QProgressBar.setValue`` repaints *synchronously* when the change is visible, and a
    synchronous repaint paints every dirty region of the window there and then: on a busy desk
    that was half of the UI thread's time. With updates off for the call, only ``update()`` is
    left, which the event loop coalesces with everything else."""
    if bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    try:
        bar.setValue(value)
    finally:
        bar.setUpdatesEnabled(True)
    bar.update()
