"""StaticTextAxis: a pyqtgraph axis that paints its labels from cached ``QStaticText``.

pyqtgraph records an axis into a ``QPicture`` and replays it; the replay lays every label out
again (text shaping), about 3 ms an axis on this machine. A chart that follows the market redraws
its time axis on every new candle and its price axis whenever the range moves, so that was the
dearest part of the chart's paint. Labels repeat (the same times, the same round prices), so
each is laid out once, as a ``QStaticText``, and drawn from it after; the axis paints directly
(its item's pixmap cache keeps the result until its ticks change).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QStaticText

MAX_CACHED = 2048  # distinct label texts kept; a whole session's worth of prices fits


class StaticTextAxis(pg.AxisItem):
    """An ``AxisItem`` whose labels are cached static texts (module docstring)."""

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation=orientation, **kwargs)
        self._texts: dict[tuple[str, str], QStaticText] = {}

    def paint(self, p: QPainter, *_args: object) -> None:
        p.save()
        try:
            if self.style["tickFont"]:
                p.setFont(self.style["tickFont"])
            specs = self.generateDrawSpecs(p)
            if specs is not None:
                self.drawPicture(p, *specs)
        finally:
            p.restore()

    def drawPicture(self, p: QPainter, axisSpec: tuple, tickSpecs: list, textSpecs: list) -> None:  # noqa: N802,N803 - pyqtgraph's names
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axisSpec
        p.setPen(pen)
        p.drawLine(p1, p2)
        # one call per pen, not per tick: with the grid on, a tick is a line across the plot
        by_pen: dict[tuple[int, float], tuple[QPen, list[QLineF]]] = {}
        for pen, p1, p2 in tickSpecs:
            key = (pen.color().rgba(), pen.widthF())
            by_pen.setdefault(key, (pen, []))[1].append(QLineF(p1, p2))
        for pen, lines in by_pen.values():
            p.setPen(pen)
            p.drawLines(lines)
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect())
        font = p.font().key()
        for rect, flags, text in textSpecs:
            static = self._static(text, font)
            p.drawStaticText(self.text_origin(rect, int(flags), static), static)

    def _static(self, text: str, font: str) -> QStaticText:
        key = (text, font)
        cached = self._texts.get(key)
        if cached is None:
            if len(self._texts) >= MAX_CACHED:
                self._texts.clear()
            cached = self._texts[key] = QStaticText(text)
            cached.setTextFormat(Qt.TextFormat.PlainText)
        return cached

    @staticmethod
    def text_origin(rect: QRectF, flags: int, text: QStaticText) -> QPointF:
        """Where a text of ``text``'s size starts when aligned in ``rect`` by ``flags``."""
        size = text.size()
        return QPointF(_aligned(rect.left(), rect.right(), size.width(), flags,
                                Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight),
                       _aligned(rect.top(), rect.bottom(), size.height(), flags,
                                Qt.AlignmentFlag.AlignTop, Qt.AlignmentFlag.AlignBottom))


def _aligned(start: float, end: float, length: float, flags: int,
             at_start: Qt.AlignmentFlag, at_end: Qt.AlignmentFlag) -> float:
    """Where ``length`` starts on the span ``start``-``end``: at its start, flush with its end, or centred."""
    if flags & at_start:
        return start
    if flags & at_end:
        return end - length
    return (start + end - length) / 2
