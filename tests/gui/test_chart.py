"""The candlestick chart: candles equal the core resample, live updates touch only the last
candle, overlays equal the core indicators, and months of bars draw a bounded picture."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QStaticText

from app.widgets.candles import MAX_CANDLES, TARGET_BUCKETS
from app.widgets.chart import (
    DARK,
    LIGHT,
    MAX_MARKER_LABELS,
    ChartModel,
    ChartWidget,
    Ohlcv,
    TradeMarker,
    sticky_range,
)
from app.widgets.grid_item import blend
from app.widgets.static_text_axis import StaticTextAxis
from core.indicators import atr, ema
from core.market.bars import Bar, BarSeries
from core.market.resample import resample
from tests.conftest import synthetic


def bars_of(frame: pd.DataFrame, symbol: str = "SYN") -> list[Bar]:
    return BarSeries(symbol, frame).bars()


def candles_frame(chart: ChartWidget) -> pd.DataFrame:
    return chart.model.candles.frame()


@pytest.fixture
def chart(qtbot) -> ChartWidget:  # type: ignore[no-untyped-def]
    widget = ChartWidget()
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.mark.parametrize("minutes", [3, 5, 15])
def test_timeframe_candles_equal_core_resample(chart: ChartWidget, minutes: int) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame)
    chart.set_timeframe(minutes)
    expected = resample(s, minutes).frame
    got = candles_frame(chart)
    pd.testing.assert_frame_equal(got, expected[list(got.columns)], check_freq=False, check_names=False)
    assert chart.timeframe_buttons[minutes].isChecked()
    assert sum(b.isChecked() for b in chart.timeframe_buttons.values()) == 1


def test_timeframe_button_switches_and_bad_timeframe_raises(chart: ChartWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame)
    with qtbot.waitSignal(chart.timeframeChanged) as signal:
        qtbot.mouseClick(chart.timeframe_buttons[15], Qt.MouseButton.LeftButton)
    assert signal.args == [15]
    assert len(chart.model.candles) == len(resample(s, 15)) == 5 * 25
    with pytest.raises(ValueError):
        chart.set_timeframe(2)
    assert chart.model.minutes == 15


def model_state(model: ChartModel) -> tuple:  # type: ignore[type-arg]
    r = model.ranges
    return (model.candles.frame(), model.ema_fast.a.copy(), model.ema_slow.a.copy(), model.atr.a.copy(),
            [getattr(r, f).copy() for f in ("first_ts", "or_last_ts", "last_ts", "high", "low")])


def assert_same_state(got: tuple, want: tuple) -> None:  # type: ignore[type-arg]
    pd.testing.assert_frame_equal(got[0], want[0])
    for a, b in zip(got[1:4], want[1:4]):
        np.testing.assert_array_equal(a, b)  # bit for bit, NaN warm-up included
    for a, b in zip(got[4], want[4]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("minutes", [1, 3, 5, 15])
def test_folding_bars_one_by_one_equals_the_core_resample_and_indicators(minutes: int) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    split = len(s.frame) - 420  # the folded bars cross a session boundary
    folded = ChartModel()
    folded.set_timeframe(minutes)
    folded.load("SYN", s.frame.iloc[:split])
    for bar in bars_of(s.frame.iloc[split:]):
        assert folded.append(bar)
    full = ChartModel()
    full.set_timeframe(minutes)
    full.load("SYN", s.frame)
    assert_same_state(model_state(folded), model_state(full))
    core = resample(s, minutes).frame
    pd.testing.assert_frame_equal(folded.candles.frame(), core[list(Ohlcv.NAMES)], check_names=False, check_freq=False)
    h, lo, c = (core[k].to_numpy() for k in ("high", "low", "close"))
    np.testing.assert_array_equal(folded.ema_fast.a, ema(c, 9))
    np.testing.assert_array_equal(folded.ema_slow.a, ema(c, 21))
    np.testing.assert_array_equal(folded.atr.a, atr(h, lo, c, 14))


@pytest.mark.parametrize("minutes", [1, 5])
def test_append_bar_over_the_night_redraws_like_show_series(chart: ChartWidget, minutes: int) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    f = s.frame
    night = int(np.flatnonzero(f.index.date == s.days[-1])[0])  # first bar of the last session
    chart.set_timeframe(minutes)
    chart.show_series("SYN", f.iloc[: night - 12])
    for bar in bars_of(f.iloc[night - 12: night + 18]):
        chart.append_bar(bar)
    full = ChartModel()
    full.set_timeframe(minutes)
    full.load("SYN", f.iloc[: night + 18])
    assert_same_state(model_state(chart.model), model_state(full))
    n = len(full.candles)
    last = full.candles.frame().iloc[-1]
    (tail,) = chart.tail_item.candles
    assert (tail.x, tail.open, tail.high, tail.low, tail.close) == (n - 1, last.open, last.high, last.low, last.close)
    assert chart.candle_item.picture is not None and chart.volume_item.drawn > 0
    x, y = chart.ema_slow_curve.getOriginalDataset()
    np.testing.assert_array_equal(y, full.ema_slow.a)
    assert chart.or_item.boxes[-1].x0 == int(np.flatnonzero(full.candles.frame().index.date == s.days[-1])[0])


def test_append_bar_of_another_symbol_or_out_of_order_is_refused(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame.iloc[:-1])
    before = len(chart.model.candles)
    other = bars_of(s.frame.iloc[-1:], "OTHER")[0]
    chart.append_bar(other)
    assert len(chart.model.candles) == before
    with pytest.raises(ValueError):
        chart.append_bar(bars_of(s.frame.iloc[-2:-1])[0])
    assert len(chart.model.candles) == before


def test_update_price_moves_only_the_forming_candle(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    f = s.frame
    chart.show_series("SYN", f.iloc[:-2])
    n = len(chart.model.candles)
    picture, builds = chart.candle_item.picture, chart.candle_item.builds
    minute = f.index[-2].to_pydatetime()  # the next minute, not closed yet
    for k, price in enumerate((1000.0, 1003.5, 998.25, 1001.0)):
        chart.update_price("SYN", minute + dt.timedelta(seconds=5 + 10 * k), price)
    chart.update_price("OTHER", minute + dt.timedelta(seconds=55), 5000.0)  # ignored
    last = f.iloc[-3]
    assert [(c.x, c.open, c.high, c.low, c.close) for c in chart.tail_item.candles] == [
        (n - 1, last.open, last.high, last.low, last.close),
        (n, 1000.0, 1003.5, 998.25, 1001.0),
    ]
    assert chart.candle_item.picture is picture and chart.candle_item.builds == builds
    assert chart.tail_item.updates >= 4
    assert chart.price_label.text() == "1,001.00"

    # a new minute starts a new forming candle at the same slot (its minute is not closed yet)
    chart.update_price("SYN", minute + dt.timedelta(minutes=1, seconds=1), 1002.0)
    assert (chart.tail_item.candles[-1].x, chart.tail_item.candles[-1].open) == (n, 1002.0)
    # the first minute closes: the forming candle moves one slot right
    closed = bars_of(f.iloc[-2:-1])[0]
    chart.append_bar(closed)
    tail = chart.tail_item.candles
    assert [(c.x, c.close) for c in tail] == [(n, closed.close), (n + 1, 1002.0)]
    assert chart.model.display_count == n + 2
    assert chart.bar_at(n + 1).start == minute + dt.timedelta(minutes=1)  # type: ignore[union-attr]



def test_live_prices_move_the_price_scale_only_when_they_leave_it(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    f = s.frame
    chart.show_series("SYN", f.iloc[:-2])
    lo, hi = chart.price_plot.getViewBox().viewRange()[1]
    minute = f.index[-2].to_pydatetime()
    inside = (lo + hi) / 2
    for k, price in enumerate((inside, inside + 0.25, inside - 0.25)):
        chart.update_price("SYN", minute + dt.timedelta(seconds=5 + k), price)
    assert chart.price_plot.getViewBox().viewRange()[1] == [lo, hi]  # no jitter while the price stays inside
    chart.update_price("SYN", minute + dt.timedelta(seconds=20), hi + 1.0)  # a new high beyond the scale
    ylo, yhi = chart.price_plot.getViewBox().viewRange()[1]
    assert yhi > hi + 1.0 and ylo <= lo + 1e-9
    chart.update_price("SYN", minute + dt.timedelta(seconds=25), hi + 1.5)  # inside the headroom: stays
    assert chart.price_plot.getViewBox().viewRange()[1] == [ylo, yhi]
    chart.price_plot.setXRange(*chart.x_range())  # a pan or zoom fits tightly again
    assert chart.price_plot.getViewBox().viewRange()[1][1] <= yhi


def test_sticky_range_keeps_a_holding_range_and_widens_the_broken_side() -> None:
    assert sticky_range((92.0, 108.0), (95.0, 105.0)) == (92.0, 108.0)
    assert sticky_range((90.0, 110.0), (95.0, 112.0)) == (95.0, 112.0 + 0.15 * 17.0)
    assert sticky_range((90.0, 110.0), (85.0, 105.0)) == (85.0 - 0.15 * 20.0, 105.0)
    assert sticky_range((0.0, 1000.0), (95.0, 105.0)) == (95.0, 105.0)  # far too loose: refit

def test_update_price_merges_into_the_open_five_minute_candle(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    f = s.frame
    ten = np.flatnonzero(f.index.strftime("%H:%M") == "10:00")[-1]
    chart.set_timeframe(5)
    chart.show_series("SYN", f.iloc[: ten + 2])  # 10:00 and 10:01 closed: the 10:00 candle is open
    open_candle = candles_frame(chart).iloc[-1]
    n = len(chart.model.candles)
    builds = chart.candle_item.builds
    at = f.index[ten + 2].to_pydatetime() + dt.timedelta(seconds=20)
    chart.update_price("SYN", at, open_candle.high + 2.0)
    chart.update_price("SYN", at + dt.timedelta(seconds=5), open_candle.low - 1.0)
    chart.update_price("SYN", at + dt.timedelta(seconds=9), open_candle.close)
    (candle,) = chart.tail_item.candles
    assert (candle.x, candle.open, candle.high, candle.low, candle.close) == (
        n - 1, open_candle.open, open_candle.high + 2.0, open_candle.low - 1.0, open_candle.close)
    assert chart.candle_item.builds == builds
    # 10:05 starts a new 5-minute candle to the right
    chart.update_price("SYN", f.index[ten + 5].to_pydatetime(), 990.0)
    assert [c.x for c in chart.tail_item.candles] == [n - 1, n]
    assert chart.bar_at(n).start.strftime("%H:%M") == "10:05"  # type: ignore[union-attr]


def test_crosshair_readout_shows_the_bar_under_the_mouse(chart: ChartWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame)
    chart.set_timeframe(5)
    i = len(chart.model.candles) - 30
    want = resample(s, 5).frame.iloc[i]
    vb = chart.price_plot.getViewBox()
    scene = vb.mapViewToScene(QPointF(i + 0.2, float(want.close)))
    pos = chart.graphics.mapFromScene(scene)
    qtbot.mouseMove(chart.graphics.viewport(), QPoint(pos.x(), pos.y()))
    qtbot.waitUntil(lambda: chart.vline.value() == i, timeout=2000)
    text = chart.readout_text()
    stamp = want.name.strftime("%Y-%m-%d %H:%M")
    assert text == (f"SYN 5m  {stamp}  O {want.open:.2f}  H {want.high:.2f}  L {want.low:.2f}  "
                    f"C {want.close:.2f}  V {want.volume:,.0f}")
    bar = chart.bar_at(i - 0.4)
    assert bar is not None and (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        want.open, want.high, want.low, want.close, want.volume)
    assert bar.start == want.name.to_pydatetime() and bar.minutes == 5
    assert chart.bar_at(-3) is None


def test_opening_range_is_the_first_minutes_of_each_session(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    chart.set_overlays(ema=(5, 13), opening_range_minutes=30)
    chart.show_series("SYN", s.frame)
    chart.set_timeframe(5)
    f = s.frame
    first = f[f.index.strftime("%H:%M") < "09:45"].groupby(f.index[f.index.strftime("%H:%M") < "09:45"].date)
    want_high, want_low = first["high"].max().to_numpy(), first["low"].min().to_numpy()
    np.testing.assert_array_equal(chart.model.ranges.high, want_high)
    np.testing.assert_array_equal(chart.model.ranges.low, want_low)
    boxes = chart.or_item.boxes
    assert len(boxes) == 5
    days = candles_frame(chart).index.date
    for day, box in enumerate(boxes):
        in_day = np.flatnonzero(days == s.days[day])
        assert (box.x0, box.x1, box.x_or) == (in_day[0], in_day[-1], in_day[0] + 6)  # 30 min = 6 candles
        assert (box.high, box.low) == (want_high[day], want_low[day])
    np.testing.assert_array_equal(chart.model.ema_fast.a, ema(resample(s, 5).frame["close"].to_numpy(), 5))


def test_markers_land_on_their_candle_and_price(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    f = s.frame
    chart.show_series("SYN", f)
    chart.set_timeframe(5)
    five = resample(s, 5).frame
    entry_at = f.index[100].to_pydatetime() + dt.timedelta(seconds=30)  # inside minute 100
    exit_at = f.index[-1].to_pydatetime()
    chart.set_markers([
        TradeMarker(entry_at, 1001.25, "entry_long", "L 1"),
        TradeMarker(exit_at, 990.5, "exit", "exit"),
        TradeMarker(f.index[0].to_pydatetime() - dt.timedelta(days=3), 900.0, "entry_short", "before data"),
    ])
    entry_index = int(np.searchsorted(five.index, f.index[100], side="right")) - 1
    assert chart.marker_positions() == [(entry_index, 1001.25), (len(five) - 1, 990.5)]
    chart.set_timeframe(1)
    assert chart.marker_positions() == [(100, 1001.25), (len(f) - 1, 990.5)]
    with pytest.raises(ValueError):
        TradeMarker(entry_at, 1.0, "entry", "bad")  # type: ignore[arg-type]


def test_levels_draw_labelled_stop_and_target(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame)
    chart.set_levels(101.35, 110.0, "trail")
    assert chart.stop_line.isVisible() and chart.stop_line.value() == 101.35
    assert chart.stop_line.label.toPlainText() == "trail 101.35"
    assert chart.stop_line.pen.style() == Qt.PenStyle.DashLine
    assert chart.stop_line.pen.color().name() == DARK["stop"]
    assert chart.target_line.label.toPlainText() == "target 110.00"
    chart.set_levels(None, 111.5, "stop")
    assert not chart.stop_line.isVisible() and chart.target_line.value() == 111.5


def test_focus_range_shows_the_trade_window(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    f = s.frame
    chart.show_series("SYN", f)
    chart.focus_range(f.index[400].to_pydatetime(), f.index[460].to_pydatetime())
    lo, hi = chart.x_range()
    assert lo <= 400 and hi >= 460 and hi - lo < 120
    low, high = f["low"].iloc[int(np.ceil(lo)):int(hi) + 1].min(), f["high"].iloc[int(np.ceil(lo)):int(hi) + 1].max()
    ylo, yhi = chart.price_plot.getViewBox().viewRange()[1]
    assert ylo < low and yhi > high and (yhi - ylo) < 1.5 * (high - low)  # y fits the window


def test_initial_view_is_the_last_candles_and_follows_new_ones(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame.iloc[:-1])
    n = len(chart.model.candles)
    lo, hi = chart.x_range()
    assert n - 1 <= hi <= n + 5 and 115 <= hi - lo <= 130
    chart.append_bar(bars_of(s.frame.iloc[-1:])[0])
    assert chart.x_range() == pytest.approx((lo + 1, hi + 1))


def test_months_of_bars_draw_a_bounded_number_of_primitives(chart: ChartWidget) -> None:
    s = synthetic("BIG", sessions=126, seed=5)
    assert len(s.frame) > 47_000
    chart.show_series("BIG", s.frame)
    n = len(chart.model.candles)
    assert chart.candle_item.bucket == 1 and chart.candle_item.drawn <= 2 * 125
    chart.price_plot.setXRange(-0.5, n, padding=0)  # zoomed out on everything
    assert chart.candle_item.bucket > 1
    assert chart.candle_item.drawn <= 1.5 * TARGET_BUCKETS + 2
    assert chart.volume_item.drawn <= 1.5 * TARGET_BUCKETS + 2
    assert not chart.ema_fast_curve.isVisible() and not chart.or_item.isVisible()  # overlays: full detail only
    _, ys = chart.ema_fast_curve.getData()
    # peak-downsampled to about 5 samples per pixel (two values per bucket), not the 47k bars
    assert len(ys) <= 3 * 5 * chart.price_plot.getViewBox().width() and len(ys) < len(s.frame) / 3
    ylo, yhi = chart.price_plot.getViewBox().viewRange()[1]
    assert ylo < s.frame["low"].min() and yhi > s.frame["high"].max()

    chart.price_plot.setXRange(20_000, 21_400, padding=0)  # 1,400 candles: full detail
    assert chart.candle_item.bucket == 1 and chart.candle_item.drawn <= 2 * 1_400 + 2
    assert chart.ema_fast_curve.isVisible()
    low = s.frame["low"].iloc[20_000:21_401].min()
    high = s.frame["high"].iloc[20_000:21_401].max()
    ylo, yhi = chart.price_plot.getViewBox().viewRange()[1]
    assert low - 0.07 * (high - low) <= ylo < low and high < yhi <= high + 0.07 * (high - low)
    builds = chart.candle_item.builds
    chart.price_plot.setXRange(20_100, 21_500, padding=0)  # a small pan stays in the cached window
    assert chart.candle_item.builds == builds
    assert MAX_CANDLES >= 1_400


def test_axis_labels_dates_at_session_starts_and_ist_times_within(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame)
    chart.set_timeframe(5)
    chart.price_plot.setXRange(60, 110, padding=0)  # across the first night
    levels = chart.axis.tickValues(60, 110, 1300)
    values = [v for _, vs in levels for v in vs]
    labels = dict(zip(values, chart.axis.tickStrings(values, 1.0, 1.0)))
    assert labels[75] == s.days[1].strftime("%d %b")  # 75 five-minute candles per session
    assert labels[75 + 3] == "09:30" and labels[75 + 9] == "10:00"  # 26 px a candle: every 30 min
    times = [text for v, text in labels.items() if v != 75]
    assert times and all(text[-2:] in ("00", "30") for text in times)
    assert all(v == int(v) for v in values)


def test_theme_switch_recolours_the_chart(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=5, seed=3)
    chart.show_series("SYN", s.frame)
    chart.set_theme(False)
    assert chart.graphics.backgroundBrush().color().name() == LIGHT["background"]
    assert chart.ema_fast_curve.opts["pen"].color().name() == LIGHT["ema_fast"]
    builds = chart.candle_item.builds
    chart.set_theme(True)
    assert chart.graphics.backgroundBrush().color().name() == DARK["background"]
    assert chart.candle_item.builds == builds + 1  # candles re-recorded in the new colours



def test_a_new_candle_leaves_the_markers_alone_and_new_markers_redraw_them(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=2, seed=3)
    bars = bars_of(s.frame)
    chart.show_series("SYN", s.frame.iloc[:-5])
    f = s.frame
    chart.set_markers([TradeMarker(f.index[100].to_pydatetime(), 1000.0, "entry_long", "L 1"),
                       TradeMarker(f.index[120].to_pydatetime(), 1002.0, "exit", "exit")])
    rebuilt: list[bool] = []
    chart.marker_item.sigPlotChanged.connect(lambda *_: rebuilt.append(True))
    labels = dict(chart._marker_labels)
    for bar in bars[-5:]:
        chart.append_bar(bar)  # the view follows: every candle keeps its index, so the markers stay
    assert rebuilt == [] and chart._marker_labels == labels
    assert chart.marker_positions() == [(100, 1000.0), (120, 1002.0)]
    chart.set_markers([TradeMarker(f.index[130].to_pydatetime(), 999.0, "entry_short", "S 1")])
    assert rebuilt and chart.marker_positions() == [(130, 999.0)]


def test_the_grid_lies_on_the_axes_ticks_in_an_opaque_blend_of_the_axis_colour(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=2, seed=3)
    chart.show_series("SYN", s.frame)
    chart.price_plot.setXRange(40, 160, padding=0)
    chart.price_plot.setYRange(990.0, 1010.0, padding=0)
    box = chart.price_plot.getViewBox()
    y_ticks = chart.price_plot.getAxis("right").tickValues(990.0, 1010.0, box.height())
    assert chart.price_grid.ys == sorted({v for _, vs in y_ticks for v in vs}) and chart.price_grid.ys
    x_ticks = chart.axis.tickValues(*box.viewRange()[0], box.width())
    assert chart.price_grid.xs == sorted({float(v) for _, vs in x_ticks for v in vs})
    assert chart.volume_grid.xs == chart.price_grid.xs and chart.volume_grid.ys == []
    assert blend(QColor("#ffffff"), QColor("#000000"), 0.12).getRgb() == (31, 31, 31, 255)
    assert blend(QColor(200, 100, 0), QColor(0, 0, 100), 0.5).getRgb() == (100, 50, 50, 255)


def test_axis_labels_are_drawn_aligned_from_their_cached_texts(chart: ChartWidget) -> None:
    text = QStaticText("09:30")
    size = text.size()
    rect = QRectF(100.0, 20.0, 60.0, 30.0)
    centre = StaticTextAxis.text_origin(rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), text)
    assert centre == QPointF(130.0 - size.width() / 2, 20.0)
    right = StaticTextAxis.text_origin(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
    assert right == QPointF(160.0 - size.width(), 35.0 - size.height() / 2)
    s = synthetic("SYN", sessions=2, seed=3)
    chart.show_series("SYN", s.frame)
    axis = chart.price_plot.getAxis("right")
    image = QImage(int(axis.width()), int(axis.height()), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    axis.paint(painter)
    painter.end()
    inked = sum(1 for x in range(image.width()) for y in range(0, image.height(), 2) if image.pixelColor(x, y).alpha())
    assert inked > 200  # the price labels are there
    assert axis._texts  # laid out once, kept


def test_a_closed_bar_and_the_next_minutes_price_move_the_view_once(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=2, seed=3)
    bars = bars_of(s.frame)
    chart.show_series("SYN", s.frame.iloc[:-1])
    lo, hi = chart.x_range()
    moves: list[bool] = []
    chart.price_plot.getViewBox().sigXRangeChanged.connect(lambda *_: moves.append(True))
    last = bars[-1]
    next_minute = last.start + dt.timedelta(minutes=1, seconds=5)
    chart.apply_live([last, (next_minute, last.close + 0.5)])
    assert len(moves) == 1  # one scroll for the closed candle and the forming one together
    assert chart.x_range() == pytest.approx((lo + 2, hi + 2))
    n = chart.model.display_count
    assert chart.bar_at(n - 1).close == last.close + 0.5 and chart.bar_at(n - 2).close == last.close


def test_only_the_newest_markers_carry_labels(chart: ChartWidget) -> None:
    s = synthetic("SYN", sessions=2, seed=3)
    f = s.frame
    chart.show_series("SYN", f)
    markers = [TradeMarker(f.index[10 + 5 * k].to_pydatetime(), 1000.0 + k, "entry_long" if k % 2 else "exit", f"M{k}")
               for k in range(MAX_MARKER_LABELS + 8)]
    chart.set_markers(markers)
    assert len(chart.marker_positions()) == len(markers)  # every marker is drawn
    labels = sorted(label.textItem.toPlainText() for label in chart._marker_labels.values())
    assert labels == sorted(f"M{k}" for k in range(8, MAX_MARKER_LABELS + 8))  # the newest carry text
