"""The quality checks: each fires on its fixture, none fires on clean data, and the report reads well."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from core.market.loader import load_bars
from core.market.quality import (
    OUTLIER_FLOOR,
    QualityIssue,
    QualityReport,
    check_outliers,
    row_problems,
    tick_grid,
)
from core.market.sessions import SessionTable
from core.market.synthetic import generate_series

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bars"

CLEAN = [
    "canonical_start_5min.csv",
    "TESTCO_15min.csv",
    "end_labelled_1min.csv",
    "utc_15min.csv",
    "vendor_ACME.txt",
    "yfinance_5min.csv",
    "kite_candles_15min.json",
    "kite_candles_15min.csv",
    "muhurat_1min.csv",
]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_files_raise_no_errors_or_warnings(name):
    report = load_bars(FIXTURES / name).report
    assert report.errors == []
    assert report.warnings == []
    assert report.repairs == []
    quiet = {"stale", "outlier", "gap", "off_tick", "missing_day", "duplicate", "off_grid"}
    assert not quiet & report.kinds()


@pytest.mark.parametrize(
    ("name", "kind", "severity", "count"),
    [
        ("bad_ohlc.csv", "invalid_ohlc", "error", 1),
        ("garbage_line.csv", "unparseable", "error", 1),
        ("nan_price.csv", "nan_price", "error", 1),
        ("nonpositive_price.csv", "nonpositive_price", "error", 1),
        ("dup_conflict.csv", "conflicting_duplicate", "error", 1),
        ("out_of_order.csv", "out_of_order", "error", 1),
        ("dup_identical.csv", "duplicate", "warning", 1),
        ("gap_5min.csv", "gap", "warning", 12),
        ("off_tick.csv", "off_tick", "warning", 2),
        ("off_tick.csv", "float32", "info", 1),
        ("outlier.csv", "outlier", "warning", 1),
        ("flat_bars.csv", "stale", "info", 3),
        ("flat_bars.csv", "zero_volume", "info", 3),
        ("missing_day.csv", "missing_day", "warning", 1),
        ("outside_session.csv", "non_trading_day", "warning", 2),
        ("end_labelled_1min.csv", "pre_open", "info", 1),
        ("end_labelled_1min.csv", "post_close", "info", 2),
        ("muhurat_1min.csv", "special_session", "info", 1),
    ],
)
def test_each_check_fires_on_its_fixture(name, kind, severity, count):
    report = load_bars(FIXTURES / name, policy="repair").report
    (issue,) = report.find(kind)
    assert (issue.severity, issue.count) == (severity, count)
    assert issue.examples or issue.kind == "zero_volume"


def test_gap_is_reported_as_a_time_span_with_the_bar_count():
    (gap,) = load_bars(FIXTURES / "gap_5min.csv").report.find("gap", "ACME")
    assert gap.examples == ["2024-03-07 11:00–12:00 (12 bars)"]
    assert "12 bars missing inside 1 session(s)" in gap.message


def test_stale_check_tells_flat_from_repeated_bars():
    (stale,) = load_bars(FIXTURES / "flat_bars.csv").report.find("stale")
    assert "3 flat bar(s)" in stale.message and "2 bar(s) repeating" in stale.message
    assert stale.examples[0] == "2024-03-07 11:00 flat 1000.5"


def test_overnight_gaps_are_info_and_not_outliers():
    report = load_bars(FIXTURES / "vendor_ACME.txt").report
    (gap,) = report.find("overnight_gap")
    assert gap.severity == "info" and gap.count == 1
    # the last 03-07 bar (k=374) closes at 1000.80; the first 03-11 bar (k=375) opens at 1000.75
    assert gap.examples == ["2024-03-11 open 1000.75 vs previous close 1000.8 (-0.00%)"]


def test_tick_grid_tells_float32_renderings_from_off_tick_prices():
    prices = np.array([1399.9000244140625, 1399.90, 1399.93, 1399.95, 101.01, 42.0])
    grid, artefact, off = tick_grid(prices, 0.05)
    np.testing.assert_allclose(grid, [1399.9, 1399.9, 1399.95, 1399.95, 101.0, 42.0])
    assert artefact.tolist() == [True, False, False, False, False, False]
    assert off.tolist() == [False, False, True, False, True, False]
    _, artefact, off = tick_grid(np.array([101.01, float(np.float32(101.01))]), 0.01)
    assert off.tolist() == [False, False]
    assert artefact.tolist() == [False, True]


def test_row_problems_classifies_what_cannot_be_traded_on():
    o = np.array([10.0, 10.0, 10.0, np.nan, 10.0, 10.0, 10.0])
    h = np.array([11.0, 9.0, 11.0, 11.0, 11.0, 11.0, 9.0])
    low = np.array([9.0, 9.0, 10.5, 9.0, 0.0, 9.0, 10.0])
    c = np.array([10.5, 10.0, 10.8, 10.0, 10.0, 10.0, 10.0])
    parse = np.array(["", "", "", "", "", "bad", ""], dtype=object)
    kinds = row_problems(o, h, low, c, parse).tolist()
    assert kinds == [-1, 3, 3, 1, 2, 0, 3]


def test_outlier_rule_ignores_fat_tailed_synthetic_markets():
    series = generate_series("X", dt.date(2024, 1, 1), 40, seed=11, regime="high_vol")
    a = series.arrays
    ohlc = np.column_stack([a.open, a.high, a.low, a.close])
    sessions = SessionTable.covering(a.ts)
    issues, mask = check_outliers("X", a.ts, ohlc, 1, sessions, lambda i: "")
    assert not mask.any()
    assert [i.kind for i in issues] == ["largest_moves"]


def test_outlier_rule_catches_a_bad_print_in_minute_data():
    series = generate_series("X", dt.date(2024, 1, 1), 5, seed=3, regime="trend")
    a = series.arrays
    ohlc = np.column_stack([a.open, a.high, a.low, a.close]).copy()
    bad = 900
    ohlc[bad, 3] *= 1 + 2 * OUTLIER_FLOOR
    ohlc[bad, 1] = max(ohlc[bad, 1], ohlc[bad, 3])
    issues, mask = check_outliers(
        "X", a.ts, ohlc, 1, SessionTable.covering(a.ts), lambda i: f"f:{i}"
    )
    assert np.flatnonzero(mask).tolist() == [bad]
    outlier = next(i for i in issues if i.kind == "outlier")
    assert outlier.examples[0].startswith(f"f:{bad} ")


def test_report_format_and_dict():
    result = load_bars(FIXTURES / "gap_5min.csv", policy="repair", fill_gaps=True)
    text = result.report.format()
    assert text.splitlines()[0] == f"Data quality: {FIXTURES / 'gap_5min.csv'}"
    assert "How it was read:" in text and "Warnings (1):" in text and "Repairs (1):" in text
    assert "      2024-03-07 11:00–12:00 (12 bars)" in text
    data = json.loads(json.dumps(result.report.to_dict()))
    assert data["bars_kept"] == 75 and data["rows_read"] == 63 and data["warnings"] == 1
    assert [i["kind"] for i in data["issues"] if i["severity"] == "warning"] == ["gap"]


def test_report_helpers():
    report = QualityReport("x")
    report.add(QualityIssue("gap", "warning", 0, "nothing"))  # zero counts are not issues
    report.add(QualityIssue("invalid_ohlc", "error", 2, "two", ["a:1", "a:2"], "ACME"))
    report.add(QualityIssue("zero_volume", "info", 5, "five"))
    assert [i.kind for i in report.errors] == ["invalid_ohlc"]
    assert report.warnings == [] and [i.kind for i in report.infos] == ["zero_volume"]
    assert report.find("invalid_ohlc", "ACME")[0].count == 2
    assert report.find("invalid_ohlc", "BETA") == []
    assert "Errors (1):" in report.format() and "Repairs: none" in report.format()
