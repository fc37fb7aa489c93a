"""pyqtgraph items of the candlestick chart, all in bar-index x coordinates.

- :class:`CandleItem` / :class:`VolumeItem`: the closed candles as one cached ``QPicture`` that
  holds only a window around the visible range; above :data:`MAX_CANDLES` visible candles it
  draws aggregated buckets (level of detail), so the number of primitives stays bounded.
- :class:`TailItem`: the last candle and the forming one, repainted on every live price
  without touching the cached picture.
- :class:`SessionBoxesItem`: the opening range of each session.
- :class:`IstTimeAxis`: labels bar indices with IST dates and times.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPicture

from app.widgets.static_text_axis import StaticTextAxis
from core.clock import IST
from core.market.bars import IST_OFFSET_NS, NS_PER_MINUTE

MAX_CANDLES = 1500  # more visible candles than this: draw buckets instead
TARGET_BUCKETS = 800  # about this many buckets at most when aggregating
BODY_WIDTH = 0.7  # candle body width, in bars


def bucket_size(visible: float) -> int:
    """Candles per drawn bucket for ``visible`` candles: 1 up to MAX_CANDLES, else a power of two.

    Powers of two keep the bucket edges stable while the trader zooms, so the picture is only
    re-recorded when the level of detail really changes.
    """
    if visible <= MAX_CANDLES:
        return 1
    return 1 << math.ceil(math.log2(visible / TARGET_BUCKETS))


@dataclass(frozen=True, slots=True)
class Candle:
    """One drawn candle: x (bar index) and its prices."""

    x: float
    open: float
    high: float
    low: float
    close: float


class WindowedItem(pg.GraphicsObject):
    """A cached picture of items ``[lo, hi)`` of a series, re-recorded only when needed.

    The window is the visible range plus half its width on each side, so panning within it
    costs nothing; the picture is re-recorded when the view leaves the window, when the bucket
    size changes, or when the data or colours change. ``builds`` counts re-recordings and
    ``drawn`` the primitives (candles or buckets) in the current picture.
    """

    def __init__(self) -> None:
        super().__init__()
        self._picture = QPicture()
        self._bounds = QRectF()
        self._count = 0
        self._window = (0, 0, 1)
        self._view = (0.0, 0.0)
        self._dirty = True
        self.builds = 0
        self.drawn = 0

    @property
    def bucket(self) -> int:
        """Candles per drawn primitive in the current picture (1: every candle is drawn)."""
        return self._window[2]

    @property
    def picture(self) -> QPicture:
        return self._picture

    def invalidate(self, count: int) -> None:
        """The data changed: ``count`` items are drawable now."""
        self._count = count
        self._dirty = True
        self._refresh()

    def set_view(self, lo: float, hi: float) -> None:
        """The visible x range changed."""
        self._view = (lo, hi)
        self._refresh()

    def _refresh(self) -> None:
        lo, hi = self._view
        k = bucket_size(hi - lo)
        wlo, whi, wk = self._window
        need_lo, need_hi = max(0, math.floor(lo)), min(self._count, math.ceil(hi) + 1)
        if not self._dirty and k == wk and wlo <= need_lo and need_hi <= whi:
            return
        margin = (hi - lo) / 2
        start = max(0, math.floor(lo - margin))
        start -= start % k  # buckets aligned on multiples of k: stable while panning
        stop = max(start, min(self._count, math.ceil(hi + margin) + 1))
        self._window = (start, stop, k)
        self._dirty = False
        picture = QPicture()
        painter = QPainter(picture)
        self.drawn, bounds = self._record(painter, start, stop, k) if stop > start else (0, QRectF())
        painter.end()
        self.prepareGeometryChange()
        self._picture = picture
        self._bounds = bounds
        self.builds += 1
        self.update()

    def _record(self, painter: QPainter, lo: int, hi: int, k: int) -> tuple[int, QRectF]:
        raise NotImplementedError

    def paint(self, painter: QPainter, *args: object) -> None:
        painter.drawPicture(0, 0, self._picture)

    def boundingRect(self) -> QRectF:
        return self._bounds


def aggregate(o: np.ndarray, h: np.ndarray, lo_: np.ndarray, c: np.ndarray,
              start: int, stop: int, k: int) -> tuple[np.ndarray, ...]:
    """x centres and OHLC of the ``k``-candle buckets of ``[start, stop)`` (k=1: the candles)."""
    if k == 1:
        return (np.arange(start, stop, dtype=np.float64), o[start:stop], h[start:stop],
                lo_[start:stop], c[start:stop])
    firsts = np.arange(start, stop, k)
    lasts = np.minimum(firsts + k, stop) - 1
    rel = firsts - start
    return (
        (firsts + lasts) / 2.0,
        o[firsts],
        np.maximum.reduceat(h[start:stop], rel),
        np.minimum.reduceat(lo_[start:stop], rel),
        c[lasts],
    )


class CandleItem(WindowedItem):
    """The closed candles (all but the last: that one belongs to :class:`TailItem`)."""

    def __init__(self, up: QColor, down: QColor) -> None:
        super().__init__()
        self._up, self._down = QColor(up), QColor(down)
        empty = np.empty(0)
        self._ohlc: tuple[np.ndarray, ...] = (empty, empty, empty, empty)

    def set_colors(self, up: QColor, down: QColor) -> None:
        self._up, self._down = QColor(up), QColor(down)
        self.invalidate(self._count)

    def set_data(self, o: np.ndarray, h: np.ndarray, low: np.ndarray, c: np.ndarray, count: int) -> None:
        """The candle columns; only the first ``count`` candles are drawn by this item."""
        self._ohlc = (o, h, low, c)
        self.invalidate(count)

    def _record(self, painter: QPainter, lo: int, hi: int, k: int) -> tuple[int, QRectF]:
        x, o, h, low, c = aggregate(*self._ohlc, lo, hi, k)
        draw_candles(painter, x, o, h, low, c, BODY_WIDTH * k, self._up, self._down)
        bounds = QRectF(lo - k, float(low.min()), hi - lo + 2 * k, float(h.max() - low.min()))
        return len(x), bounds


def draw_candles(painter: QPainter, x: np.ndarray, o: np.ndarray, h: np.ndarray, low: np.ndarray,
                 c: np.ndarray, width: float, up: QColor, down: QColor) -> None:
    """Wicks then bodies, batched per colour (two calls per colour, whatever the count)."""
    rising = c >= o
    for mask, color in ((rising, up), (~rising, down)):
        if not mask.any():
            continue
        pen = pg.mkPen(color, width=1)  # cosmetic: one pixel whatever the zoom
        painter.setPen(pen)
        painter.setBrush(pg.mkBrush(color))
        xs, hs, ls = x[mask].tolist(), h[mask].tolist(), low[mask].tolist()
        painter.drawLines([QLineF(a, b, a, d) for a, b, d in zip(xs, ls, hs)])
        bottoms = np.minimum(o[mask], c[mask]).tolist()
        heights = np.abs(c[mask] - o[mask]).tolist()
        half = width / 2
        painter.drawRects([QRectF(a - half, b, width, d) for a, b, d in zip(xs, bottoms, heights)])


class VolumeItem(WindowedItem):
    """Volume bars (every closed candle), mean volume per bucket when aggregated."""

    def __init__(self, up: QColor, down: QColor) -> None:
        super().__init__()
        self._up, self._down = QColor(up), QColor(down)
        empty = np.empty(0)
        self._cols: tuple[np.ndarray, ...] = (empty, empty, empty)

    def set_colors(self, up: QColor, down: QColor) -> None:
        self._up, self._down = QColor(up), QColor(down)
        self.invalidate(self._count)

    def set_data(self, o: np.ndarray, c: np.ndarray, v: np.ndarray) -> None:
        self._cols = (o, c, v)
        self.invalidate(len(v))

    def _record(self, painter: QPainter, lo: int, hi: int, k: int) -> tuple[int, QRectF]:
        o, c, v = self._cols
        firsts = np.arange(lo, hi, k)
        lasts = np.minimum(firsts + k, hi) - 1
        x = (firsts + lasts) / 2.0
        vol = np.add.reduceat(v[lo:hi], firsts - lo) / (lasts - firsts + 1)
        rising = c[lasts] >= o[firsts]
        width = BODY_WIDTH * k
        painter.setPen(Qt.PenStyle.NoPen)
        for mask, color in ((rising, self._up), (~rising, self._down)):
            painter.setBrush(pg.mkBrush(color))
            painter.drawRects([QRectF(a - width / 2, 0.0, width, b)
                               for a, b in zip(x[mask].tolist(), vol[mask].tolist())])
        return len(x), QRectF(lo - k, 0.0, hi - lo + 2 * k, float(vol.max()) if len(vol) else 0.0)


class TailItem(pg.GraphicsObject):
    """The last closed candle and the forming one: small, repainted on every live price."""

    def __init__(self, up: QColor, down: QColor) -> None:
        super().__init__()
        self._up, self._down = QColor(up), QColor(down)
        self.candles: tuple[Candle, ...] = ()
        self.updates = 0

    def set_colors(self, up: QColor, down: QColor) -> None:
        self._up, self._down = QColor(up), QColor(down)
        self.update()

    def set_candles(self, candles: Sequence[Candle]) -> None:
        self.prepareGeometryChange()
        self.candles = tuple(candles)
        self.updates += 1
        self.update()

    def paint(self, painter: QPainter, *args: object) -> None:
        if not self.candles:
            return
        cols = np.array([(k.x, k.open, k.high, k.low, k.close) for k in self.candles]).T
        draw_candles(painter, *cols, BODY_WIDTH, self._up, self._down)

    def boundingRect(self) -> QRectF:
        if not self.candles:
            return QRectF()
        lo = min(k.low for k in self.candles)
        hi = max(k.high for k in self.candles)
        x0 = min(k.x for k in self.candles) - 1
        x1 = max(k.x for k in self.candles) + 1
        return QRectF(x0, lo, x1 - x0, hi - lo)


@dataclass(frozen=True, slots=True)
class SessionBox:
    """An opening range drawn over one session: shaded over ``x0..x_or``, lines to ``x1``."""

    x0: float
    x_or: float
    x1: float
    low: float
    high: float


class SessionBoxesItem(pg.GraphicsObject):
    """The opening range of every session (a few hundred at most: one picture, no windowing)."""

    def __init__(self, line: QColor, fill: QColor) -> None:
        super().__init__()
        self._line, self._fill = QColor(line), QColor(fill)
        self.boxes: tuple[SessionBox, ...] = ()
        self._picture = QPicture()
        self._bounds = QRectF()

    def set_colors(self, line: QColor, fill: QColor) -> None:
        self._line, self._fill = QColor(line), QColor(fill)
        self.set_boxes(self.boxes)

    def set_boxes(self, boxes: Sequence[SessionBox]) -> None:
        self.boxes = tuple(boxes)
        picture = QPicture()
        painter = QPainter(picture)
        pen = pg.mkPen(self._line, width=1, style=Qt.PenStyle.DashLine)
        for b in self.boxes:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pg.mkBrush(self._fill))
            painter.drawRect(QRectF(b.x0 - 0.5, b.low, b.x_or - b.x0, b.high - b.low))
            painter.setPen(pen)
            painter.drawLine(QPointF(b.x0 - 0.5, b.high), QPointF(b.x1 + 0.5, b.high))
            painter.drawLine(QPointF(b.x0 - 0.5, b.low), QPointF(b.x1 + 0.5, b.low))
        painter.end()
        self.prepareGeometryChange()
        self._picture = picture
        if self.boxes:
            lo = min(b.low for b in self.boxes)
            hi = max(b.high for b in self.boxes)
            x0, x1 = self.boxes[0].x0 - 1, self.boxes[-1].x1 + 1
            self._bounds = QRectF(x0, lo, x1 - x0, hi - lo)
        else:
            self._bounds = QRectF()
        self.update()

    def paint(self, painter: QPainter, *args: object) -> None:
        painter.drawPicture(0, 0, self._picture)

    def boundingRect(self) -> QRectF:
        return self._bounds


INTRADAY_STEPS = (1, 2, 3, 5, 10, 15, 30, 60, 120)  # minutes between labelled ticks
SESSION_STEPS = (1, 2, 5, 10, 21, 63)  # sessions between labelled dates
SESSION_MINUTES = 375
LABEL_SPACING_PX = 90


class IstTimeAxis(StaticTextAxis):
    """Bottom axis over bar indices: dates at the first bar of a session, IST times within it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("bottom", **kwargs)
        self._ts = np.empty(0, dtype=np.int64)
        self._minutes = 1

    def set_times(self, ts_ns: np.ndarray, minutes: int) -> None:
        """Bar starts (UTC ns) of the candles, and their width in minutes."""
        self._ts = ts_ns
        self._minutes = minutes
        self.picture = None  # pyqtgraph's cached axis drawing
        self.update()

    def _local(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        local_min = (self._ts[max(lo - 1, 0):hi] + IST_OFFSET_NS) // NS_PER_MINUTE
        day = local_min // 1440
        first_of_day = np.r_[True, day[1:] != day[:-1]]
        if lo > 0:  # the prepended previous bar only served to tell whether lo starts a day
            local_min, day, first_of_day = local_min[1:], day[1:], first_of_day[1:]
        return local_min % 1440, day, first_of_day

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        n = len(self._ts)
        lo, hi = max(0, math.ceil(min(minVal, maxVal))), min(n, math.floor(max(minVal, maxVal)) + 1)
        if hi <= lo or size <= 0:
            return []
        bars_per_label = LABEL_SPACING_PX * (maxVal - minVal) / size
        minutes_per_label = bars_per_label * self._minutes
        mod, day, first = self._local(lo, hi)
        idx = np.arange(lo, hi)
        if minutes_per_label <= SESSION_MINUTES / 2:
            step = next((s for s in INTRADAY_STEPS if s >= minutes_per_label and s % self._minutes == 0),
                        INTRADAY_STEPS[-1])
            majors = idx[first]
            minor_mask = (mod % step == 0) & ~first
            minors = idx[minor_mask]
            if len(majors):  # keep time labels off the date labels
                gap = np.abs(minors[:, None] - majors[None, :]).min(axis=1)
                minors = minors[gap >= bars_per_label * 0.75]
            return [(float(bars_per_label), majors.tolist()), (float(bars_per_label) / 2, minors.tolist())]
        sessions_per_label = minutes_per_label / SESSION_MINUTES
        step = next((s for s in SESSION_STEPS if s >= sessions_per_label), SESSION_STEPS[-1])
        starts = idx[first]
        ordinal = np.cumsum(first)[first] - 1 + self._sessions_before(lo)
        return [(float(bars_per_label), starts[ordinal % step == 0].tolist())]

    def _sessions_before(self, lo: int) -> int:
        """How many sessions start before bar ``lo`` (so date labels do not jump while panning)."""
        if lo == 0:
            return 0
        days = (self._ts[:lo] + IST_OFFSET_NS) // (NS_PER_MINUTE * 1440)
        return int(np.count_nonzero(np.r_[True, days[1:] != days[:-1]]))

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        n = len(self._ts)
        for value in values:
            i = int(round(value))
            if not 0 <= i < n:
                out.append("")
                continue
            when = dt.datetime.fromtimestamp(self._ts[i] / 1e9, IST)
            starts_day = i == 0 or (self._ts[i - 1] + IST_OFFSET_NS) // (NS_PER_MINUTE * 1440) != (
                self._ts[i] + IST_OFFSET_NS) // (NS_PER_MINUTE * 1440)
            out.append(when.strftime("%d %b") if starts_day else when.strftime("%H:%M"))
        return out
