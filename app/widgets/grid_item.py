"""GridItem: a plot's grid lines, drawn under the data in one call.

pyqtgraph draws a grid as its axes' ticks stretched across the plot, so each axis's cached
picture is as large as the plot, and every time the ticks move (a new candle, a new price range)
that whole picture is re-rendered with translucent lines: the largest part of the chart's repaint
when it follows the market. Here the lines are computed from the axes' own tick positions when
the view's range changes and drawn directly with no cache to rebuild, in an opaque colour
(:func:`blend`): Qt's raster engine draws translucent aliased lines about fifteen times slower
than opaque ones, and over a plain background the two look the same.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen


def blend(color: QColor, background: QColor, share: float) -> QColor:
    """The opaque colour of ``color`` laid at ``share`` opacity over ``background``."""
    mix = [round(share * a + (1 - share) * b) for a, b in zip(color.getRgb()[:3], background.getRgb()[:3], strict=True)]
    return QColor(*mix)


class GridItem(pg.GraphicsObject):
    """Vertical lines at ``x_axis``'s ticks and horizontal ones at ``y_axis``'s (either may be None)."""

    def __init__(self, x_axis: pg.AxisItem | None, y_axis: pg.AxisItem | None) -> None:
        super().__init__()
        self._x_axis = x_axis
        self._y_axis = y_axis
        self._pen = QPen()
        self._pen.setCosmetic(True)
        self._rect = QRectF()
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.setZValue(-1000)  # under everything the plot holds

    def set_color(self, color: QColor) -> None:
        self._pen.setColor(color)
        self.update()

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph's hook, called on every range change
        self.refresh()

    def refresh(self) -> None:
        """Re-read the tick positions for the current view."""
        box = self.getViewBox()
        if box is None:
            return
        rect = box.viewRect()
        xs = self._ticks(self._x_axis, rect.left(), rect.right(), box.width())
        ys = self._ticks(self._y_axis, rect.top(), rect.bottom(), box.height())
        changed = False
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)
            changed = True
        if (xs, ys) != (self.xs, self.ys):
            self.xs, self.ys = xs, ys
            changed = True
        if changed:
            self.update()

    @staticmethod
    def _ticks(axis: pg.AxisItem | None, lo: float, hi: float, pixels: float) -> list[float]:
        if axis is None or pixels <= 0 or hi <= lo:
            return []
        return sorted({float(v) for _, values in axis.tickValues(lo, hi, pixels) for v in values})

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, *_args: object) -> None:
        r = self._rect
        lines = [QLineF(x, r.top(), x, r.bottom()) for x in self.xs]
        lines += [QLineF(r.left(), y, r.right(), y) for y in self.ys]
        if lines:
            painter.setPen(self._pen)
            painter.drawLines(lines)
