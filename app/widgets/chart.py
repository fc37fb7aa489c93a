"""The trader's candlestick chart for one instrument: timeframes, overlays, live candle, crosshair.

Two parts, top to bottom:

- :class:`ChartModel` (no Qt): the 1-minute bars, the candles of the shown timeframe (the core
  session-anchored resample, folded incrementally on each closed bar), the overlays (EMA fast
  and slow, ATR bands, opening range) and the forming candle fed by live prices.
- :class:`ChartWidget`: the pyqtgraph view of the model. x is the candle index (no gaps over
  nights and weekends), labelled in IST by :class:`~app.widgets.candles.IstTimeAxis`.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.theme import restyle
from app.widgets.candles import (
    Candle,
    CandleItem,
    IstTimeAxis,
    SessionBox,
    SessionBoxesItem,
    TailItem,
    VolumeItem,
    bucket_size,
)
from app.widgets.grid_item import GridItem, blend
from app.widgets.live_label import LiveLabel
from app.widgets.static_text_axis import StaticTextAxis
from core.clock import IST
from core.indicators import EmaStream, TrueRangeStream, WilderStream, atr, ema
from core.market.bars import IST_OFFSET_NS, NS_PER_MINUTE, Bar, BarSeries, arrays_from_frame
from core.market.resample import bin_starts, resample
from core.market.sessions import NS_PER_DAY, REGULAR_OPEN_MIN, SessionTable, ist_day

TIMEFRAMES = (1, 3, 5, 15)
INITIAL_CANDLES = 120
RIGHT_MARGIN = 4  # empty bars right of the last candle, room for the forming one
GRID_SHARE = 0.12  # of the axis colour over the background: what pyqtgraph's showGrid(alpha=0.12) drew
MAX_LABELLED_MARKERS_VIEW = 600  # marker labels hide when more candles than this are visible
MAX_MARKER_LABELS = 12  # only the newest markers carry a text label (older ones: the symbol alone)
NS_PER_S = 1_000_000_000

MarkerKind = Literal["entry_long", "entry_short", "exit"]


@dataclass(frozen=True, slots=True)
class TradeMarker:
    """A trade event drawn on the chart: an entry (long/short) or an exit at ``price``."""

    time: dt.datetime
    price: float
    kind: MarkerKind
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in get_args(MarkerKind):
            raise ValueError(f"marker kind must be one of {get_args(MarkerKind)}, not {self.kind!r}")


@dataclass(frozen=True, slots=True)
class OverlaySettings:
    """Periods of the chart overlays."""

    ema: tuple[int, int] = (9, 21)
    atr_period: int = 14
    atr_mult: float = 2.0
    opening_range_minutes: int = 15


@dataclass(frozen=True)
class OpeningRanges:
    """Per IST session day: first/last bar start, last bar inside the opening window, high/low.

    ``high``/``low`` are NaN for a day with no bar in its first N minutes.
    """

    first_ts: np.ndarray
    or_last_ts: np.ndarray
    last_ts: np.ndarray
    high: np.ndarray
    low: np.ndarray


def to_ns(when: dt.datetime) -> int:
    """UTC epoch nanoseconds of a datetime; naive times are Asia/Kolkata (DESIGN §4)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=IST)
    return int(pd.Timestamp(when).as_unit("ns").value)


def to_ist(ts_ns: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ts_ns) // NS_PER_S, IST)


def sticky_range(current: tuple[float, float], want: tuple[float, float],
                 headroom: float = 0.15, slack: float = 1.6) -> tuple[float, float]:
    """The range a live price leaves standing: ``current`` while it holds ``want`` and is not
    more than ``slack`` times taller; else ``want``, widened by ``headroom`` of its height on
    each side that ``current`` did not hold."""
    lo, hi = current
    want_lo, want_hi = want
    height = want_hi - want_lo
    if lo <= want_lo and want_hi <= hi and hi - lo <= slack * height:
        return current
    if hi - lo > slack * height:
        return want
    return (want_lo - headroom * height if want_lo < lo else want_lo,
            want_hi + headroom * height if want_hi > hi else want_hi)


def session_opens(ts: np.ndarray) -> np.ndarray:
    """The calendar open (UTC ns) of each instant's session; 09:15 IST on days the calendar lacks."""
    sessions = SessionTable.covering(ts)
    idx = sessions.index_of(ts)
    fallback = ist_day(ts) * NS_PER_DAY - IST_OFFSET_NS + REGULAR_OPEN_MIN * NS_PER_MINUTE
    if not len(sessions):
        return fallback
    return np.where(idx >= 0, sessions.open_ns[np.maximum(idx, 0)], fallback)


def opening_ranges(ts: np.ndarray, high: np.ndarray, low: np.ndarray, minutes: int) -> OpeningRanges:
    """High and low of the bars starting in the first ``minutes`` after each session's open."""
    if len(ts) == 0:
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0)
        return OpeningRanges(empty_i, empty_i, empty_i, empty_f, empty_f)
    day = ist_day(ts)
    firsts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    lasts = np.r_[firsts[1:], len(ts)] - 1
    opens = session_opens(ts)
    inside = (ts >= opens) & (ts < opens + minutes * NS_PER_MINUTE)
    hi = np.maximum.reduceat(np.where(inside, high, -np.inf), firsts)
    lo = np.minimum.reduceat(np.where(inside, low, np.inf), firsts)
    last_inside = np.maximum.reduceat(np.where(inside, ts, np.iinfo(np.int64).min), firsts)
    empty = ~np.isfinite(hi)
    return OpeningRanges(
        first_ts=ts[firsts], or_last_ts=np.where(empty, ts[firsts], last_inside), last_ts=ts[lasts],
        high=np.where(empty, np.nan, hi), low=np.where(empty, np.nan, lo),
    )


class _Grow:
    """A growable 1-D array with amortised O(1) append; ``a`` is the live view."""

    def __init__(self, values: np.ndarray, dtype: type = np.float64) -> None:
        self._buf = np.array(values, dtype=dtype, copy=True)
        self.n = len(self._buf)

    @property
    def a(self) -> np.ndarray:
        return self._buf[: self.n]

    def append(self, value: float) -> None:
        if self.n == len(self._buf):
            grown = np.empty(max(64, 2 * len(self._buf)), dtype=self._buf.dtype)
            grown[: self.n] = self._buf[: self.n]
            self._buf = grown
        self._buf[self.n] = value
        self.n += 1

    def set_last(self, value: float) -> None:
        self._buf[self.n - 1] = value


class Ohlcv:
    """Growable bar columns: ``ts`` (bar start, UTC ns), open, high, low, close, volume."""

    NAMES = ("open", "high", "low", "close", "volume")

    def __init__(self, frame: pd.DataFrame) -> None:
        a = arrays_from_frame(frame)
        self._ts = _Grow(a.ts, np.int64)
        self._cols = {name: _Grow(getattr(a, name)) for name in self.NAMES}

    def __len__(self) -> int:
        return self._ts.n

    @property
    def ts(self) -> np.ndarray:
        return self._ts.a

    def __getattr__(self, name: str) -> np.ndarray:
        if name in Ohlcv.NAMES:
            return self._cols[name].a
        raise AttributeError(name)

    def append(self, ts: int, o: float, h: float, low: float, c: float, v: float) -> None:
        self._ts.append(ts)
        for name, value in zip(self.NAMES, (o, h, low, c, v)):
            self._cols[name].append(value)

    def merge_last(self, h: float, low: float, c: float, v: float) -> None:
        """Fold one more source bar into the last bar (max high, min low, last close, sum volume)."""
        cols = self._cols
        cols["high"].set_last(max(cols["high"].a[-1], h))
        cols["low"].set_last(min(cols["low"].a[-1], low))
        cols["close"].set_last(c)
        cols["volume"].set_last(cols["volume"].a[-1] + v)

    def frame(self) -> pd.DataFrame:
        """The columns as a start-labelled IST frame, like ``BarSeries.frame``."""
        index = pd.DatetimeIndex(self.ts.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(IST)
        return pd.DataFrame({name: self._cols[name].a.copy() for name in self.NAMES}, index=index)


def _empty_frame() -> pd.DataFrame:
    index = pd.DatetimeIndex([], dtype="datetime64[ns, Asia/Kolkata]")
    return pd.DataFrame({name: np.empty(0) for name in Ohlcv.NAMES}, index=index)


class _OverlayStreams:
    """EMA fast/slow and ATR streams in the state after every candle but the last.

    The last candle may still grow (a 5-minute candle takes five closed 1-minute bars), so its
    values are computed on copies (:meth:`peek`) and the candle is committed only once the
    next one starts. The streams perform the vectorized kernels' operations, so the values
    equal a full recompute bit for bit.
    """

    def __init__(self, settings: OverlaySettings, candles: Ohlcv,
                 fast: np.ndarray, slow: np.ndarray, atr_values: np.ndarray) -> None:
        m = len(candles) - 1  # candles consumed by the committed state
        close = candles.close
        self.fast = self._primed_ema(close, settings.ema[0], fast, m)
        self.slow = self._primed_ema(close, settings.ema[1], slow, m)
        self.tr = TrueRangeStream()
        self.wilder = WilderStream(settings.atr_period)
        warm = min(max(m, 0), settings.atr_period + 1)
        for i in range(warm):
            self.wilder.update(self.tr.update(candles.high[i], candles.low[i], close[i]))
        if m > warm:  # past warm-up the state is the last value and the previous close
            self.wilder.value = float(atr_values[m - 1])
            self.tr.update(candles.high[m - 1], candles.low[m - 1], close[m - 1])

    @staticmethod
    def _primed_ema(close: np.ndarray, period: int, values: np.ndarray, m: int) -> EmaStream:
        stream = EmaStream(period)
        for x in close[: min(max(m, 0), period)]:  # the SMA seed, exactly as the stream sums it
            stream.update(x)
        if m > period:
            stream.value = float(values[m - 1])
        return stream

    def commit(self, h: float, low: float, c: float) -> None:
        self.fast.update(c)
        self.slow.update(c)
        self.wilder.update(self.tr.update(h, low, c))

    def peek(self, h: float, low: float, c: float) -> tuple[float, float, float]:
        fast, slow = copy.copy(self.fast), copy.copy(self.slow)
        tr, wilder = copy.copy(self.tr), copy.copy(self.wilder)
        return fast.update(c), slow.update(c), wilder.update(tr.update(h, low, c))


@dataclass
class _Forming:
    """The 1-minute bar being formed by live prices."""

    start: int
    open: float
    high: float
    low: float
    close: float


class ChartModel:
    """The data behind the chart: 1-minute bars, timeframe candles, overlays, the forming bar."""

    def __init__(self) -> None:
        self.symbol = ""
        self.minutes = 1
        self.settings = OverlaySettings()
        self.base = Ohlcv(_empty_frame())
        self.candles = Ohlcv(_empty_frame())
        self.forming: _Forming | None = None
        self._bins: dict[tuple[int, int], np.ndarray] = {}
        self._recompute()

    # ---------------------------------------------------------------- loading and folding

    def load(self, symbol: str, frame: pd.DataFrame) -> None:
        """Replace the data with ``frame`` (1-minute bars, indexed by bar start)."""
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise TypeError("the chart needs a frame indexed by bar start (DatetimeIndex)")
        if frame.index.tz is None:
            frame = frame.tz_localize(IST)
        if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
            raise ValueError(f"bars of {symbol} must be sorted with unique starts")
        self.symbol = symbol
        self.base = Ohlcv(frame)
        self.forming = None
        self._recompute()

    def set_timeframe(self, minutes: int) -> None:
        if minutes not in TIMEFRAMES:
            raise ValueError(f"timeframe must be one of {TIMEFRAMES} minutes, not {minutes!r}")
        self.minutes = minutes
        self._recompute()

    def set_overlays(self, settings: OverlaySettings) -> None:
        self.settings = settings
        self._recompute()

    def _recompute(self) -> None:
        frame = self.base.frame()
        if self.minutes > 1 and len(frame):
            frame = resample(BarSeries(self.symbol or "?", frame, 1), self.minutes).frame
        self.candles = Ohlcv(frame)
        c = self.candles
        fast, slow = self.settings.ema
        self.ema_fast = _Grow(ema(c.close, fast))
        self.ema_slow = _Grow(ema(c.close, slow))
        self.atr = _Grow(atr(c.high, c.low, c.close, self.settings.atr_period))
        self._streams = _OverlayStreams(self.settings, c, self.ema_fast.a, self.ema_slow.a, self.atr.a)
        self.ranges = opening_ranges(self.base.ts, self.base.high, self.base.low,
                                     self.settings.opening_range_minutes)

    def bin_of(self, ts: int) -> int:
        """The start of the session-anchored candle containing minute ``ts`` (core ``bin_starts``)."""
        if self.minutes == 1:
            return ts
        day = int((ts + IST_OFFSET_NS) // NS_PER_DAY)
        table = self._bins.get((day, self.minutes))
        if table is None:
            minutes = day * NS_PER_DAY - IST_OFFSET_NS + np.arange(1440, dtype=np.int64) * NS_PER_MINUTE
            table = self._bins[(day, self.minutes)] = bin_starts(minutes, self.minutes)
        return int(table[((ts + IST_OFFSET_NS) // NS_PER_MINUTE) % 1440])

    def append(self, bar: Bar) -> bool:
        """Fold a closed 1-minute bar of the shown symbol; False when it is another symbol's."""
        if bar.symbol != self.symbol:
            return False
        ts = to_ns(bar.start)
        if len(self.base) and ts <= self.base.ts[-1]:
            raise ValueError(f"bar of {bar.symbol} at {bar.start} is not after the last bar shown")
        self.base.append(ts, bar.open, bar.high, bar.low, bar.close, bar.volume)
        if self.forming is not None and self.forming.start <= ts:
            self.forming = None
        c = self.candles
        key = self.bin_of(ts)
        if len(c) and c.ts[-1] == key:
            c.merge_last(bar.high, bar.low, bar.close, bar.volume)
            for grow in (self.ema_fast, self.ema_slow, self.atr):
                grow.n -= 1  # the last candle's values are recomputed below
        else:
            if len(c):
                self._streams.commit(c.high[-1], c.low[-1], c.close[-1])
            c.append(key, bar.open, bar.high, bar.low, bar.close, bar.volume)
        f, s, a = self._streams.peek(c.high[-1], c.low[-1], c.close[-1])
        self.ema_fast.append(f)
        self.ema_slow.append(s)
        self.atr.append(a)
        self._update_last_range()
        return True

    def _update_last_range(self) -> None:
        """Recompute only the last session's opening range (the only one a new bar can change)."""
        r, base = self.ranges, self.base
        ts = base.ts
        same_day = len(r.first_ts) and ist_day(r.first_ts[-1:])[0] == ist_day(ts[-1:])[0]
        start = int(np.searchsorted(ts, r.first_ts[-1])) if same_day else len(ts) - 1
        row = opening_ranges(ts[start:], base.high[start:], base.low[start:],
                             self.settings.opening_range_minutes)
        keep = len(r.first_ts) - (1 if same_day else 0)
        self.ranges = OpeningRanges(*(np.r_[getattr(r, f)[:keep], getattr(row, f)]
                                      for f in ("first_ts", "or_last_ts", "last_ts", "high", "low")))

    def update_price(self, symbol: str, time: dt.datetime, price: float) -> bool:
        """Move the forming 1-minute bar with a live price; False when nothing changed."""
        if symbol != self.symbol:
            return False
        minute = to_ns(time) // NS_PER_MINUTE * NS_PER_MINUTE
        if len(self.base) and minute <= self.base.ts[-1]:
            return False  # that minute is closed already
        f = self.forming
        if f is not None and minute == f.start:
            f.high, f.low, f.close = max(f.high, price), min(f.low, price), price
        elif f is None or minute > f.start:
            self.forming = _Forming(minute, price, price, price, price)
        else:
            return False
        return True

    # ---------------------------------------------------------------- reading

    def tail(self) -> list[Candle]:
        """The last closed candle (merged with the forming bar when in its bin) and the forming one."""
        c, f = self.candles, self.forming
        n = len(c)
        last = Candle(n - 1, c.open[-1], c.high[-1], c.low[-1], c.close[-1]) if n else None
        if f is None:
            return [last] if last else []
        if last and c.ts[-1] == self.bin_of(f.start):
            return [Candle(n - 1, last.open, max(last.high, f.high), min(last.low, f.low), f.close)]
        forming = Candle(n, f.open, f.high, f.low, f.close)
        return [last, forming] if last else [forming]

    @property
    def display_count(self) -> int:
        """Candles on screen: the closed ones plus a forming one in a new bin."""
        tail = self.tail()
        return int(tail[-1].x) + 1 if tail else 0

    def bar_at(self, i: int) -> Bar | None:
        """The candle at index ``i`` as a :class:`Bar` (the live one included)."""
        c = self.candles
        for k in self.tail():
            if k.x == i:
                volume = float(c.volume[i]) if i < len(c) else 0.0
                start = c.ts[i] if i < len(c) else self.bin_of(self.forming.start)  # type: ignore[union-attr]
                return Bar(self.symbol, to_ist(start), k.open, k.high, k.low, k.close, volume, self.minutes)
        if 0 <= i < len(c):
            return Bar(self.symbol, to_ist(c.ts[i]), float(c.open[i]), float(c.high[i]),
                       float(c.low[i]), float(c.close[i]), float(c.volume[i]), self.minutes)
        return None

    def index_of(self, ts: int) -> int:
        """The candle index containing instant ``ts`` (the forming candle included); -1 before the data."""
        f = self.forming
        if f is not None and ts >= self.bin_of(f.start):
            return self.display_count - 1
        return int(np.searchsorted(self.candles.ts, ts, side="right")) - 1

    def price_range(self, lo: int, hi: int) -> tuple[float, float] | None:
        """Lowest low and highest high of candles ``[lo, hi)``, the live tail included."""
        c = self.candles
        a, b = max(lo, 0), min(hi, len(c))
        lows = [float(c.low[a:b].min())] if b > a else []
        highs = [float(c.high[a:b].max())] if b > a else []
        for k in self.tail():
            if lo <= k.x < hi:
                lows.append(k.low)
                highs.append(k.high)
        return (min(lows), max(highs)) if lows else None


DARK = {
    "background": "#131722", "panel": "#1c2030", "text": "#d1d4dc", "muted": "#8a8f9c",
    "axis": "#8a8f9c", "up": "#26a69a", "down": "#ef5350", "ema_fast": "#f6c343",
    "ema_slow": "#42a5f5", "atr": "#b39ddb", "or_line": "#c9a36b", "or_fill": "#c9a36b30",
    "crosshair": "#9598a1", "stop": "#ff5252", "target": "#26c281", "long": "#00e676",
    "short": "#ff5252", "exit": "#ffd54f", "volume_up": "#26a69a70", "volume_down": "#ef535070",
    "accent": "#2962ff",
}
LIGHT = {
    "background": "#ffffff", "panel": "#f0f3fa", "text": "#131722", "muted": "#5d606b",
    "axis": "#5d606b", "up": "#089981", "down": "#d32f2f", "ema_fast": "#e08e0b",
    "ema_slow": "#1565c0", "atr": "#7e57c2", "or_line": "#8d6e63", "or_fill": "#8d6e6328",
    "crosshair": "#6a6d78", "stop": "#d50000", "target": "#00897b", "long": "#00a152",
    "short": "#d50000", "exit": "#c77c02", "volume_up": "#08998166", "volume_down": "#d32f2f66",
    "accent": "#2962ff",
}
MARKER_SYMBOLS = {"entry_long": "t1", "entry_short": "t", "exit": "d"}
MARKER_ANCHORS = {"entry_long": (0.5, -0.3), "entry_short": (0.5, 1.3), "exit": (-0.2, 0.5)}


class ChartWidget(QWidget):
    """Candlestick chart of one instrument with timeframes, overlays, live candle and crosshair."""

    timeframeChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, dark: bool = True) -> None:
        super().__init__(parent)
        self.model = ChartModel()
        self.palette_colors = DARK if dark else LIGHT
        self._markers: tuple[TradeMarker, ...] = ()
        self._marker_labels: dict[tuple[TradeMarker, str], pg.TextItem] = {}
        self._placed: list[tuple[TradeMarker, int, str]] = []  # (marker, candle index, colour) as drawn
        self._levels: tuple[float | None, float | None, str] = (None, None, "stop")
        self._crosshair_index: int | None = None
        self._build_header()
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.graphics, 1)
        self.set_theme(dark)

    # ---------------------------------------------------------------- construction

    def _build_header(self) -> None:
        self.header = QFrame()
        self.header.setObjectName("chartHeader")
        self.symbol_label = QLabel("-")
        self.symbol_label.setObjectName("chartSymbol")
        self.price_label = LiveLabel("99,99,999.99")
        self.price_label.setObjectName("chartPrice")
        self.price_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.readout_label = LiveLabel(f"{'W' * 16} 15m  2026-12-31 23:59  O 999999.99  H 999999.99  "
                                       "L 999999.99  C 999999.99  V 9,999,999,999")
        self.readout_label.setObjectName("chartReadout")
        self.readout_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.timeframe_buttons: dict[int, QPushButton] = {}
        self._timeframe_group = QButtonGroup(self)
        self._timeframe_group.setExclusive(True)
        row = QHBoxLayout()
        row.setContentsMargins(8, 4, 8, 0)
        row.addWidget(self.symbol_label)
        row.addSpacing(12)
        for minutes in TIMEFRAMES:
            button = QPushButton(f"{minutes}m")
            button.setCheckable(True)
            button.setFixedWidth(44)
            button.setChecked(minutes == self.model.minutes)
            button.clicked.connect(lambda _=False, m=minutes: self.set_timeframe(m))
            self._timeframe_group.addButton(button)
            self.timeframe_buttons[minutes] = button
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.price_label)
        column = QVBoxLayout(self.header)
        column.setContentsMargins(0, 0, 0, 4)
        column.setSpacing(2)
        column.addLayout(row)
        readout_row = QHBoxLayout()
        readout_row.setContentsMargins(8, 0, 8, 0)
        readout_row.addWidget(self.readout_label)
        column.addLayout(readout_row)

    def _build_plots(self) -> None:
        self.graphics = pg.GraphicsLayoutWidget()
        self.axis = IstTimeAxis()
        self.price_plot = self.graphics.addPlot(row=0, col=0, axisItems={"right": StaticTextAxis("right")})
        self.volume_plot = self.graphics.addPlot(row=1, col=0, axisItems={"bottom": self.axis,
                                                                          "right": StaticTextAxis("right")})
        self.graphics.ci.layout.setRowStretchFactor(0, 5)
        self.graphics.ci.layout.setRowStretchFactor(1, 1)
        self.graphics.ci.layout.setVerticalSpacing(0)
        for plot in (self.price_plot, self.volume_plot):
            plot.hideAxis("left")
            plot.showAxis("right")
            plot.getAxis("right").setWidth(72)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            vb = plot.getViewBox()
            vb.setMouseEnabled(x=True, y=False)
            vb.disableAutoRange()
        # PlotItem imposes its own modes on the curves it holds: clip to view, peak-downsample.
        self.price_plot.setClipToView(True)
        self.price_plot.setDownsampling(auto=True, mode="peak")
        self.price_plot.hideAxis("bottom")
        self.volume_plot.setXLink(self.price_plot)
        self.volume_plot.getAxis("right").setStyle(showValues=False)
        self.volume_plot.setMaximumHeight(160)
        self.axis.setHeight(28)  # fixed: pyqtgraph would size it from the first (maybe empty) labels
        # Axes are text, slow to paint: kept as pixmaps, drawn again only when their ticks change.
        for axis in (self.axis, self.price_plot.getAxis("right"), self.volume_plot.getAxis("right")):
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        # grids drawn by GridItems, not by the axes (see app/widgets/grid_item.py)
        self.price_grid = GridItem(self.axis, self.price_plot.getAxis("right"))
        self.volume_grid = GridItem(self.axis, None)
        self.price_plot.addItem(self.price_grid, ignoreBounds=True)
        self.volume_plot.addItem(self.volume_grid, ignoreBounds=True)

        p = self.palette_colors
        self.or_item = SessionBoxesItem(QColor(p["or_line"]), pg.mkColor(p["or_fill"]))
        self.candle_item = CandleItem(QColor(p["up"]), QColor(p["down"]))
        self.tail_item = TailItem(QColor(p["up"]), QColor(p["down"]))
        self.volume_item = VolumeItem(pg.mkColor(p["volume_up"]), pg.mkColor(p["volume_down"]))
        self.ema_fast_curve = self._curve()
        self.ema_slow_curve = self._curve()
        self.atr_upper_curve = self._curve()
        self.atr_lower_curve = self._curve()
        self.marker_item = pg.ScatterPlotItem(pxMode=True, size=14)
        self.stop_line = pg.InfiniteLine(angle=0, movable=False, label="",
                                         labelOpts={"position": 0.06, "anchors": [(0, 1), (0, 1)]})
        self.target_line = pg.InfiniteLine(angle=0, movable=False, label="",
                                           labelOpts={"position": 0.06, "anchors": [(0, 1), (0, 1)]})
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        self.volume_vline = pg.InfiniteLine(angle=90, movable=False)
        for item in (self.or_item, self.atr_upper_curve, self.atr_lower_curve, self.candle_item,
                     self.tail_item, self.ema_slow_curve, self.ema_fast_curve, self.marker_item,
                     self.stop_line, self.target_line):
            self.price_plot.addItem(item)
        for item in (self.vline, self.hline):
            self.price_plot.addItem(item, ignoreBounds=True)
            item.hide()
        self.volume_plot.addItem(self.volume_item)
        self.volume_plot.addItem(self.volume_vline, ignoreBounds=True)
        self.volume_vline.hide()
        self.stop_line.hide()
        self.target_line.hide()
        self.price_plot.getViewBox().sigXRangeChanged.connect(self._on_x_range)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

    @staticmethod
    def _curve() -> pg.PlotDataItem:
        return pg.PlotDataItem(connect="finite")

    # ---------------------------------------------------------------- public API

    def show_series(self, symbol: str, frame: pd.DataFrame) -> None:
        """Replace the chart's data with 1-minute bars (a frame like ``BarSeries.frame``)."""
        self.model.load(symbol, frame)
        self.symbol_label.setText(symbol)
        self._crosshair_index = None
        self._refresh_data_items()
        self._show_last(INITIAL_CANDLES + RIGHT_MARGIN)

    def append_bar(self, bar: Bar) -> None:
        """Add a closed 1-minute bar of the shown symbol (bars of other symbols are ignored)."""
        self.apply_live([bar])

    def update_price(self, symbol: str, time: dt.datetime, price: float) -> None:
        """Move the forming candle with a live price; only that candle is redrawn."""
        if symbol == self.model.symbol:
            self.apply_live([(time, price)])

    def apply_live(self, events: Sequence[Bar | tuple[dt.datetime, float]]) -> None:
        """Fold closed 1-minute bars and live prices ``(time, price)`` of the shown symbol, in
        order, then redraw once (bars of other symbols are ignored).

        A new candle moves the view (when it follows the last candle) and re-fits the price
        scale; each of those re-lays every item of the chart, so an update carrying a closed bar
        and the next minute's first price does it once, not once for each."""
        model = self.model
        before = model.display_count
        following = self._following(before)
        appended = priced = False
        for event in events:
            if isinstance(event, Bar):
                appended = model.append(event) or appended
            else:
                priced = model.update_price(model.symbol, *event) or priced
        if not (appended or priced):
            return
        grown = model.display_count != before  # bars and prices only ever add candles
        follow = following and grown
        if appended:
            self._refresh_data_items(fit=not follow)  # following re-fits as the view moves
        else:
            self.tail_item.set_candles(model.tail())
            self._update_price_label()
            if grown:
                self._set_limits()
                self._place_markers()
        if follow:
            self._follow(before, following)
        elif not appended:
            self._fit_y(live=True)
        self._update_readout()

    def set_timeframe(self, minutes: int) -> None:
        """Show ``minutes``-minute candles (1, 3, 5 or 15), keeping the visible width in candles.

        A view that followed the last candle keeps following it; otherwise the candle at the
        right edge stays at the right edge.
        """
        if minutes not in TIMEFRAMES:
            raise ValueError(f"timeframe must be one of {TIMEFRAMES} minutes, not {minutes!r}")
        self.timeframe_buttons[minutes].setChecked(True)
        if minutes == self.model.minutes:
            return
        lo, hi = self.x_range()
        following = self._following(self.model.display_count)
        right = self.model.bar_at(min(max(int(hi), 0), self.model.display_count - 1))
        self.model.set_timeframe(minutes)
        self._refresh_data_items()
        if following or right is None:
            self._show_last(hi - lo)
        else:
            i = self.model.index_of(to_ns(right.start))
            self.price_plot.setXRange(i - (hi - lo), i, padding=0)
        self.timeframeChanged.emit(minutes)

    def set_overlays(self, ema: tuple[int, int] = (9, 21), atr_period: int = 14,
                     atr_mult: float = 2.0, opening_range_minutes: int = 15) -> None:
        """Set the EMA periods, the ATR band (close +- mult x ATR) and the opening-range window."""
        self.model.set_overlays(OverlaySettings(tuple(ema), atr_period, atr_mult, opening_range_minutes))  # type: ignore[arg-type]
        self._refresh_data_items()

    def set_markers(self, markers: list[TradeMarker] | tuple[TradeMarker, ...]) -> None:
        """Draw trade entries/exits (replacing the previous ones)."""
        self._markers = tuple(markers)
        self._place_markers()

    def set_levels(self, stop: float | None, target: float | None, stop_kind: str = "stop") -> None:
        """Draw the live stop (dashed, labelled e.g. ``trail 101.35``) and target lines; None hides one."""
        if (stop, target, stop_kind) == self._levels:
            return  # every snapshot says so: redrawing the lines and their labels each time is waste
        self._levels = (stop, target, stop_kind)
        for line, value, name in ((self.stop_line, stop, stop_kind), (self.target_line, target, "target")):
            if value is None:
                line.hide()
                continue
            line.show()  # first: a hidden line's label ignores new text
            line.setValue(value)
            line.label.setFormat(f"{name} {value:.2f}".replace("{", "{{").replace("}", "}}"))

    def focus_range(self, start: dt.datetime, end: dt.datetime) -> None:
        """Scroll and zoom to the candles from ``start`` to ``end`` (with a little context)."""
        i0 = max(self.model.index_of(to_ns(start)), 0)
        i1 = max(self.model.index_of(to_ns(end)), i0)
        pad = max(5, (i1 - i0) // 5)
        self.price_plot.setXRange(i0 - pad, i1 + pad, padding=0)

    def set_theme(self, dark: bool) -> None:
        """Switch between the dark and the light palette."""
        p = self.palette_colors = DARK if dark else LIGHT
        self.graphics.setBackground(p["background"])
        for plot in (self.price_plot, self.volume_plot):
            for name in ("right", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(p["axis"]))
                axis.setTextPen(pg.mkPen(p["axis"]))
        grid = blend(QColor(p["axis"]), QColor(p["background"]), GRID_SHARE)
        for item in (self.price_grid, self.volume_grid):
            item.set_color(grid)
        self.candle_item.set_colors(QColor(p["up"]), QColor(p["down"]))
        self.tail_item.set_colors(QColor(p["up"]), QColor(p["down"]))
        self.volume_item.set_colors(pg.mkColor(p["volume_up"]), pg.mkColor(p["volume_down"]))
        self.or_item.set_colors(QColor(p["or_line"]), pg.mkColor(p["or_fill"]))
        self.ema_fast_curve.setPen(pg.mkPen(p["ema_fast"], width=1.5))
        self.ema_slow_curve.setPen(pg.mkPen(p["ema_slow"], width=1.5))
        for curve in (self.atr_upper_curve, self.atr_lower_curve):
            curve.setPen(pg.mkPen(p["atr"], width=1, style=Qt.PenStyle.DotLine))
        cross = pg.mkPen(p["crosshair"], width=1, style=Qt.PenStyle.DashLine)
        for line in (self.vline, self.hline, self.volume_vline):
            line.setPen(cross)
        self.stop_line.setPen(pg.mkPen(p["stop"], width=1.5, style=Qt.PenStyle.DashLine))
        self.target_line.setPen(pg.mkPen(p["target"], width=1.5, style=Qt.PenStyle.DashLine))
        for line, key in ((self.stop_line, "stop"), (self.target_line, "target")):
            line.label.setColor(p[key])
        self.header.setStyleSheet(
            f"#chartHeader {{ background:{p['panel']}; }}"
            f"#chartHeader QLabel {{ color:{p['text']}; }}"
            f"#chartSymbol {{ font-size:15px; font-weight:bold; }}"
            f"#chartPrice {{ font-size:15px; font-weight:bold; }}"
            f"#chartReadout {{ color:{p['muted']}; font-family:monospace; }}"
            f"#chartHeader QPushButton {{ color:{p['text']}; background:transparent;"
            f" border:1px solid {p['muted']}; border-radius:3px; padding:2px; }}"
            f"#chartHeader QPushButton:checked {{ background:{p['accent']}; color:white;"
            f" border-color:{p['accent']}; }}"
        )
        self._placed = []  # the marker outlines take the new background: draw them again
        self._place_markers()
        self._update_price_label()

    def readout_text(self) -> str:
        """What the crosshair readout shows: the bar under the cursor (else the last one)."""
        return self.readout_label.text()

    def bar_at(self, x: float) -> Bar | None:
        """The candle (of the shown timeframe, live one included) nearest to x, or None."""
        if math.isnan(x):
            return None
        return self.model.bar_at(int(round(x)))

    def move_crosshair(self, x: float, y: float) -> None:
        """Put the crosshair at view coordinates (snapped to the nearest candle) and update the readout."""
        i = int(round(x))
        self._crosshair_index = i
        for line in (self.vline, self.volume_vline):
            line.setValue(i)
            line.show()
        self.hline.setValue(y)
        self.hline.show()
        self._update_readout()

    def x_range(self) -> tuple[float, float]:
        """The visible candle-index range."""
        lo, hi = self.price_plot.getViewBox().viewRange()[0]
        return float(lo), float(hi)

    def marker_positions(self) -> list[tuple[float, float]]:
        """(candle index, price) of each drawn marker, in marker order."""
        xs, ys = self.marker_item.getData()
        return list(zip(np.asarray(xs).tolist(), np.asarray(ys).tolist()))

    # ---------------------------------------------------------------- internals

    def _show_last(self, width: float) -> None:
        """Show ``width`` candle slots ending a few slots right of the last candle."""
        right = self.model.display_count + RIGHT_MARGIN
        self.price_plot.setXRange(max(right - width, -0.5), right, padding=0)

    def _refresh_data_items(self, fit: bool = True) -> None:
        m, c = self.model, self.model.candles
        n = len(c)
        self.axis.set_times(self._display_ts(), m.minutes)
        self.candle_item.set_data(c.open, c.high, c.low, c.close, max(n - 1, 0))
        self.tail_item.set_candles(m.tail())
        self.volume_item.set_data(c.open, c.close, c.volume)
        x = np.arange(n, dtype=np.float64)
        mult = m.settings.atr_mult
        self.ema_fast_curve.setData(x, m.ema_fast.a)
        self.ema_slow_curve.setData(x, m.ema_slow.a)
        self.atr_upper_curve.setData(x, c.close + mult * m.atr.a)
        self.atr_lower_curve.setData(x, c.close - mult * m.atr.a)
        self.or_item.set_boxes(self._session_boxes())
        self._set_limits()
        self._place_markers()
        self._update_price_label()
        self._update_readout()
        lo, hi = self.x_range()
        self.candle_item.set_view(lo, hi)
        self.volume_item.set_view(lo, hi)
        if fit:
            self._fit_y()

    def _display_ts(self) -> np.ndarray:
        ts = self.model.candles.ts
        if self.model.display_count > len(ts) and self.model.forming is not None:
            ts = np.r_[ts, self.model.bin_of(self.model.forming.start)]
        return ts

    def _session_boxes(self) -> list[SessionBox]:
        r, m = self.model.ranges, self.model
        if not len(r.first_ts):
            return []
        ts = m.candles.ts
        x0 = np.searchsorted(ts, r.first_ts, side="right") - 1
        x_or = np.searchsorted(ts, r.or_last_ts, side="right")
        x1 = np.searchsorted(ts, r.last_ts, side="right") - 1
        ok = np.isfinite(r.high)
        return [SessionBox(float(a), float(b), float(d), float(lo), float(hi))
                for a, b, d, lo, hi in zip(x0[ok], x_or[ok], x1[ok], r.low[ok], r.high[ok])]

    def _set_limits(self) -> None:
        n = max(self.model.display_count, 1)
        self.price_plot.getViewBox().setLimits(xMin=-10, xMax=n + 60, minXRange=10)

    def _following(self, count: int) -> bool:
        lo, hi = self.x_range()
        return count > 0 and lo <= count - 1 <= hi + 1

    def _follow(self, before: int, following: bool) -> None:
        grown = self.model.display_count - before
        if following and grown > 0:
            lo, hi = self.x_range()
            self.price_plot.setXRange(lo + grown, hi + grown, padding=0)

    def _on_x_range(self, *_: object) -> None:
        lo, hi = self.x_range()
        self.candle_item.set_view(lo, hi)
        self.volume_item.set_view(lo, hi)
        self._fit_y()
        detailed = bucket_size(hi - lo) == 1  # short-period overlays are noise over aggregated candles
        for item in (self.ema_fast_curve, self.ema_slow_curve, self.atr_upper_curve, self.atr_lower_curve,
                     self.or_item):
            item.setVisible(detailed)
        show = hi - lo <= MAX_LABELLED_MARKERS_VIEW
        for label in self._marker_labels.values():
            label.setVisible(show)

    def _fit_y(self, live: bool = False) -> None:
        """Y follows the visible candles (prices) and their volumes.

        After a pan, a zoom or a new candle the fit is tight. A live price (``live``) moves the
        scale only when it leaves the range, and then with headroom on that side: a scale that
        re-fits on every tick jitters under the trader's eye and redraws both axes each time."""
        lo, hi = self.x_range()
        i0, i1 = math.floor(lo), math.ceil(hi) + 1
        span = self.model.price_range(i0, i1)
        if span is None:
            return
        low, high = span
        pad = max((high - low) * 0.06, abs(high) * 1e-4, 0.05)
        want = (low - pad, high + pad)
        if live:
            want = sticky_range(tuple(self.price_plot.getViewBox().viewRange()[1]), want)
        self._set_y(self.price_plot, *want)
        volume = self.model.candles.volume[max(i0, 0):max(i1, 0)]
        k = bucket_size(hi - lo)
        if len(volume) and k > 1:  # the volume item draws bucket means: fit those
            starts = np.arange(0, len(volume), k)
            volume = np.add.reduceat(volume, starts) / np.diff(np.r_[starts, len(volume)])
        if len(volume):
            top = (0.0, max(float(volume.max()), 1.0) * 1.08)
            if live:
                top = sticky_range(tuple(self.volume_plot.getViewBox().viewRange()[1]), top)
            self._set_y(self.volume_plot, *top)

    @staticmethod
    def _set_y(plot: pg.PlotItem, low: float, high: float) -> None:
        """Set the y range only when it changes: each change repaints and emits several signals."""
        if plot.getViewBox().viewRange()[1] != [low, high]:
            plot.setYRange(low, high, padding=0)

    def _place_markers(self) -> None:
        """Draw the markers at their candles; the newest ``MAX_MARKER_LABELS`` carry a label,
        made once and only moved after (a busy day's labels piled on one another, and each is a
        text item every scroll re-lays and repaints).

        Called on every new candle, where nothing usually moves (a marker's candle index does not
        change when a candle is appended): the placement is compared with the last one and the
        scatter (every symbol re-rendered) and the labels are touched only when it differs.
        Labels are text items, the dearest thing on the chart to paint: each is cached as a
        pixmap (drawn again only when its text or colour changes), and kept across calls."""
        p = self.palette_colors
        placed: list[tuple[TradeMarker, int, str]] = []
        for marker in self._markers:
            i = self.model.index_of(to_ns(marker.time))
            if i >= 0:
                kind = "long" if marker.kind == "entry_long" else "short" if marker.kind == "entry_short" else "exit"
                placed.append((marker, i, p[kind]))
        if placed == self._placed:
            return
        self._placed = placed
        spots = []
        kept: dict[tuple[TradeMarker, str], pg.TextItem] = {}
        old = self._marker_labels
        first_labelled = len(placed) - MAX_MARKER_LABELS
        for k, (marker, i, color) in enumerate(placed):
            spots.append({"pos": (float(i), float(marker.price)), "symbol": MARKER_SYMBOLS[marker.kind],
                          "brush": pg.mkBrush(color), "pen": pg.mkPen(p["background"], width=1)})
            if marker.label and k >= first_labelled:
                key = (marker, color)
                label = old.pop(key, None)
                if label is None:
                    label = kept.get(key)
                if label is None:
                    label = pg.TextItem(marker.label, color=color, anchor=MARKER_ANCHORS[marker.kind])
                    label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                    self.price_plot.addItem(label, ignoreBounds=True)
                label.setPos(QPointF(i, marker.price))
                kept[key] = label
        for label in old.values():
            self.price_plot.removeItem(label)
        self._marker_labels = kept
        self.marker_item.setData(spots=spots)
        lo, hi = self.x_range()
        for label in kept.values():
            label.setVisible(hi - lo <= MAX_LABELLED_MARKERS_VIEW)

    def _update_price_label(self) -> None:
        tail = self.model.tail()
        if not tail:
            self.price_label.setText("")
            return
        c = self.model.candles
        last = tail[-1].close
        ref = float(c.close[-2]) if len(c) > 1 and tail[-1].x == len(c) - 1 else (
            float(c.close[-1]) if len(c) else last)
        color = self.palette_colors["up" if last >= ref else "down"]
        self.price_label.setText(f"{last:,.2f}")
        restyle(self.price_label, f"color:{color}")

    def _on_mouse_moved(self, pos: QPointF) -> None:
        in_price = self.price_plot.sceneBoundingRect().contains(pos)
        if not in_price and not self.volume_plot.sceneBoundingRect().contains(pos):
            return
        point = self.price_plot.getViewBox().mapSceneToView(pos)
        self.move_crosshair(point.x(), point.y())
        self.hline.setVisible(in_price)  # a price line means nothing over the volume pane

    def _update_readout(self) -> None:
        i = self._crosshair_index
        bar = self.model.bar_at(i) if i is not None else None
        if bar is None:
            bar = self.model.bar_at(self.model.display_count - 1)
        if bar is None:
            self.readout_label.setText("")
            return
        self.readout_label.setText(
            f"{bar.symbol} {bar.minutes}m  {bar.start:%Y-%m-%d %H:%M}  O {bar.open:.2f}  "
            f"H {bar.high:.2f}  L {bar.low:.2f}  C {bar.close:.2f}  V {bar.volume:,.0f}"
        )
