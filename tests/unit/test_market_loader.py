"""Loading bar files: every layout, label detection, sessions, policies and errors.

Fixture prices follow one formula (tests/fixtures/bars/make_fixtures.py): bar k has
open = base + 0.05*(k % 40), close = open + 0.10 (k even) / open - 0.05 (k odd),
high = max(open, close) + 0.05, low = min(open, close) - 0.05, volume = 1000 + k.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.clock import IST
from core.errors import ConfigError, DataError
from core.market.loader import load_bars, load_many

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bars"


def expected(n: int, base: float = 1000.0, k0: int = 0) -> pd.DataFrame:
    k = np.arange(k0, k0 + n)
    o = base + 0.05 * (k % 40)
    c = np.where(k % 2 == 0, o + 0.10, o - 0.05)
    return pd.DataFrame(
        {
            "open": o.round(2),
            "high": (np.maximum(o, c) + 0.05).round(2),
            "low": (np.minimum(o, c) - 0.05).round(2),
            "close": c.round(2),
            "volume": (1000 + k).astype(float),
        }
    )


def ist(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=IST)


def assert_prices(
    series, exp: pd.DataFrame, columns=("open", "high", "low", "close", "volume")
) -> None:
    got = series.frame.reset_index(drop=True)
    for col in columns:
        np.testing.assert_allclose(
            got[col].to_numpy(), exp[col].to_numpy(), rtol=0, atol=1e-9, err_msg=col
        )


def session_starts(
    day: str, minutes: int, first: str = "09:15", last: str = "15:30"
) -> pd.DatetimeIndex:
    return pd.date_range(
        ist(f"{day} {first}"), ist(f"{day} {last}"), freq=f"{minutes}min", inclusive="left"
    )


# ------------------------------------------------------------------------------------ layouts


def test_canonical_csv_with_columns_in_any_order_and_case_gives_one_series_per_symbol():
    result = load_bars(FIXTURES / "canonical_start_5min.csv")
    assert result.symbols == ["ACME", "BETA"]
    for symbol, base in (("ACME", 1000.0), ("BETA", 1500.0)):
        series = result.get(symbol)
        assert series.interval_minutes == 5
        want = session_starts("2024-03-07", 5).append(session_starts("2024-03-11", 5))
        assert series.frame.index.equals(want)
        assert_prices(series, expected(150, base))
    assert result.report.rows_read == 300
    assert result.report.bars_kept == 300
    assert any("start-labelled" in n and "detected" in n for n in result.report.notes)


def test_date_and_time_columns_and_symbol_from_the_file_name():
    result = load_bars(FIXTURES / "TESTCO_15min.csv")
    series = result.get("TESTCO")  # interval tag "_15min" dropped from the stem
    assert series.frame.index.equals(session_starts("2024-03-07", 15))
    assert_prices(series, expected(25))
    assert any("symbol: TESTCO, from the file name" in n for n in result.report.notes)
    assert any("'Date' + 'Time' columns" in n for n in result.report.notes)


def test_symbol_argument_names_a_file_without_symbol_column():
    result = load_bars(FIXTURES / "TESTCO_15min.csv", symbol="xyz")
    assert result.symbols == ["XYZ"]


def test_end_labelled_minute_bars_are_detected_shifted_and_session_filtered():
    result = load_bars(FIXTURES / "end_labelled_1min.csv")
    series = result.get("ACME")
    assert series.frame.index[0] == ist("2024-03-07 09:15")
    assert series.frame.index[-1] == ist("2024-03-07 15:29")
    assert series.frame.index.equals(session_starts("2024-03-07", 1))
    assert_prices(series, expected(375))  # the row labelled 09:16 is bar 0
    report = result.report
    label_note = next(n for n in report.notes if n.startswith("bar labels"))
    assert (
        "end-labelled (detected: 0 rows at the session open, 1 at the session close)" in label_note
    )
    assert "shifted back by 1 minute" in label_note
    (pre,) = report.find("pre_open")
    assert pre.count == 1 and pre.severity == "info"
    assert pre.examples[0].startswith("end_labelled_1min.csv:2 2024-03-07 09:08")
    (post,) = report.find("post_close")
    assert post.count == 2
    assert [e.split()[0] for e in post.examples] == [
        "end_labelled_1min.csv:378",
        "end_labelled_1min.csv:379",
    ]
    assert report.warnings == [] and report.errors == []


def test_forcing_start_labels_on_an_end_labelled_file_keeps_the_labels_as_written():
    result = load_bars(FIXTURES / "end_labelled_1min.csv", label="start")
    series = result.get("ACME")
    assert series.frame.index[0] == ist("2024-03-07 09:16")
    assert len(series) == 374  # 15:30 is now a post-close row
    assert result.report.find("post_close")[0].count == 3
    (gap,) = result.report.find("gap")
    assert gap.examples == ["2024-03-07 09:15–09:16 (1 bar)"]
    assert any("forced by label='start'" in n for n in result.report.notes)


def test_forcing_end_labels_shifts_start_labelled_bars():
    result = load_bars(FIXTURES / "TESTCO_15min.csv", label="end")
    series = result.get("TESTCO")
    assert series.frame.index[0] == ist("2024-03-07 09:15")  # the 09:30 row
    assert series.frame["open"].iloc[0] == pytest.approx(1000.05)
    assert result.report.find("pre_open")[0].count == 1  # the 09:15 row would start at 09:00
    assert any(
        "end-labelled (forced by label='end'" in n and "shifted back by 15 minutes" in n
        for n in result.report.notes
    )


def test_utc_timestamps_are_converted_to_ist():
    result = load_bars(FIXTURES / "utc_15min.csv")
    series = result.get("ACME")
    assert series.frame.index.equals(session_starts("2024-03-07", 15))
    assert str(series.frame.index.tz) == "Asia/Kolkata"
    assert_prices(series, expected(25))
    assert any("UTC offset (Z)" in n for n in result.report.notes)


def test_headerless_vendor_file_two_sessions_around_a_holiday():
    result = load_bars(FIXTURES / "vendor_ACME.txt")
    series = result.get("ACME")
    assert series.frame.index.equals(
        session_starts("2024-03-07", 1).append(session_starts("2024-03-11", 1))
    )
    assert_prices(series, expected(750))
    report = result.report
    assert any(
        "headerless vendor file (SYMBOL,YYYYMMDD,HH:MM,O,H,L,C,V,OI)" in n for n in report.notes
    )
    assert report.find("pre_open")[0].count == 2
    assert report.find("post_close")[0].count == 4
    assert report.find("missing_day") == []  # 2024-03-08 is an NSE holiday
    assert report.rows_read == 756 and report.bars_kept == 750


def test_yfinance_multi_row_header_utc_float32_and_column_order():
    result = load_bars(FIXTURES / "yfinance_5min.csv")
    assert result.symbols == ["ACME"]  # ".NS" removed
    series = result.get("ACME")
    assert series.frame.index.equals(
        session_starts("2024-03-07", 5).append(session_starts("2024-03-11", 5))
    )
    exp = expected(150)
    exp.loc[[0, 75], "volume"] = 0.0  # 09:15 bars have volume 0
    assert_prices(series, exp)  # exact grid prices: the float32 renderings were read as such
    prices = exp[["open", "high", "low", "close"]].to_numpy()
    renderings = int((prices.astype(np.float32).astype(np.float64) != prices).sum())
    (f32,) = result.report.find("float32")
    assert f32.count == renderings and f32.severity == "info"
    (zero,) = result.report.find("zero_volume")
    assert zero.count == 2 and "2 of them the session's first bar" in zero.message
    assert any("yfinance multi-row header" in n for n in result.report.notes)
    assert result.report.repairs == []


@pytest.mark.parametrize("name", ["kite_candles_15min.json", "kite_candles_15min.csv"])
def test_kite_candles_json_and_csv(name):
    result = load_bars(FIXTURES / name, symbol="ACME")
    series = result.get("ACME")
    assert series.frame.index.equals(session_starts("2024-03-07", 15))
    assert_prices(series, expected(25))
    assert any("+0530" in n for n in result.report.notes)


@pytest.mark.parametrize("aware", [True, False])
def test_parquet_with_aware_or_naive_timestamps(tmp_path, aware):
    exp = expected(25)
    stamps = session_starts("2024-03-07", 15)
    frame = exp.assign(
        Timestamp=stamps.tz_convert("UTC") if aware else stamps.tz_localize(None), Symbol="ACME"
    )
    path = tmp_path / "bars.parquet"
    frame.to_parquet(path)
    result = load_bars(path)
    series = result.get("ACME")
    assert series.frame.index.equals(stamps)
    assert_prices(series, exp)
    assert any("Parquet" in n for n in result.report.notes)


def test_muhurat_evening_session_is_a_session():
    result = load_bars(FIXTURES / "muhurat_1min.csv")
    series = result.get("ACME")
    assert series.frame.index.equals(session_starts("2024-11-01", 1, "18:00", "19:00"))
    report = result.report
    assert report.find("pre_open")[0].count == 1  # 17:45
    assert report.find("post_close")[0].count == 1  # 19:00
    (special,) = report.find("special_session")
    assert special.examples == ["2024-11-01 18:00–19:00 (Muhurat session; 60 bars kept)"]


def test_rows_outside_sessions_are_excluded_and_counted_by_kind():
    result = load_bars(FIXTURES / "outside_session.csv")
    assert len(result.get("ACME")) == 25
    report = result.report
    found = {i.kind: (i.severity, i.count) for i in report.issues}
    assert found["pre_open"] == ("info", 1)
    assert found["post_close"] == ("info", 1)
    assert found["outside_hours"] == ("warning", 2)
    assert found["non_trading_day"] == ("warning", 2)
    assert [e.split()[0] for e in report.find("non_trading_day")[0].examples] == [
        "outside_session.csv:31",
        "outside_session.csv:32",
    ]


# ------------------------------------------------------------------------------ strict refusals


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("bad_ohlc.csv", 7, "invalid OHLC: high 1000.15 < open 1000.25"),
        ("garbage_line.csv", 10, "unparseable line: expected 7 fields, found 1"),
        ("nan_price.csv", 6, "missing price: empty/NaN close"),
        ("nonpositive_price.csv", 6, "non-positive price: low 0"),
        ("dup_conflict.csv", 7, "conflicting duplicate of dup_conflict.csv:6 at 2024-03-07 10:15"),
        (
            "out_of_order.csv",
            6,
            "out of order: 2024-03-07 10:00 comes after 2024-03-07 10:15 (line 5)",
        ),
    ],
)
def test_strict_refuses_untradeable_rows_naming_file_and_line(name, line, words):
    with pytest.raises(DataError) as info:
        load_bars(FIXTURES / name)
    err = info.value
    assert err.where == f"{FIXTURES / name}:{line}"
    assert words in err.message
    assert "\n" not in str(err)
    assert err.report.errors  # the report travels with the error


def test_strict_lists_up_to_five_problems_in_one_line(tmp_path):
    lines = (FIXTURES / "TESTCO_15min.csv").read_text().splitlines()
    for i in (3, 5, 7, 9, 11, 13, 15):
        lines[i] = lines[i].replace("1000.", "-1000.", 1)
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_bars(path)
    message = info.value.message
    assert info.value.where.endswith("many.csv:4")
    assert "7 untradeable rows" in message
    assert "many.csv:6" in message and "many.csv:12" in message and "many.csv:14" not in message


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("empty.csv", "empty file"),
        ("header_only.csv", "no data rows"),
        ("no_ohlc.csv", "no open/high/low/close columns in no_ohlc.csv; found: when, price, size"),
    ],
)
def test_files_that_cannot_be_read_say_why(name, words):
    with pytest.raises(DataError) as info:
        load_bars(FIXTURES / name)
    assert info.value.message == words or words in info.value.message
    assert info.value.where == str(FIXTURES / name)


def test_missing_file():
    with pytest.raises(DataError, match="file not found"):
        load_bars(FIXTURES / "nope.csv")


def test_partial_columns_are_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("timestamp,open,close\n2024-03-07 09:15:00,1,1\n")
    with pytest.raises(
        DataError, match="no high/low columns in x.csv; found: timestamp, open, close"
    ):
        load_bars(path)


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError):
        load_bars(FIXTURES / "gap_5min.csv", fill_gaps=True)  # strict never invents prices
    with pytest.raises(ConfigError):
        load_bars(FIXTURES / "gap_5min.csv", policy="fix")
    with pytest.raises(ConfigError):
        load_bars(FIXTURES / "gap_5min.csv", label="middle")


# ------------------------------------------------------------------------------------ repairs


def test_repair_drops_invalid_rows_and_reports_each():
    result = load_bars(FIXTURES / "bad_ohlc.csv", policy="repair")
    series = result.get("ACME")
    assert len(series) == 24
    assert ist("2024-03-07 10:30") not in series.frame.index
    assert result.report.repairs == ["dropped 1 rows that cannot be traded on: bad_ohlc.csv:7"]
    assert result.report.find("invalid_ohlc")[0].examples == [
        "bad_ohlc.csv:7 2024-03-07 10:30 invalid OHLC: high 1000.15 < open 1000.25"
    ]
    assert result.report.find("gap")[0].examples == ["2024-03-07 10:30–10:45 (1 bar)"]


def test_repair_drops_a_garbage_line_and_keeps_the_rest():
    result = load_bars(FIXTURES / "garbage_line.csv", policy="repair")
    assert len(result.get("ACME")) == 25
    assert "garbage_line.csv:10" in result.report.repairs[0]


def test_repair_sorts_out_of_order_rows():
    result = load_bars(FIXTURES / "out_of_order.csv", policy="repair")
    series = result.get("ACME")
    assert series.frame.index.equals(session_starts("2024-03-07", 15))
    assert_prices(series, expected(25))
    assert result.report.repairs == ["sorted the rows by time (1 were out of order)"]


def test_repair_keeps_the_first_of_conflicting_duplicates():
    result = load_bars(FIXTURES / "dup_conflict.csv", policy="repair")
    series = result.get("ACME")
    assert len(series) == 25
    assert series.frame.loc[ist("2024-03-07 10:15"), "close"] == pytest.approx(1000.30)
    assert "conflicting duplicate" in result.report.repairs[0]


@pytest.mark.parametrize("policy", ["strict", "repair"])
def test_exact_duplicates_are_dropped_under_both_policies(policy):
    result = load_bars(FIXTURES / "dup_identical.csv", policy=policy)
    assert len(result.get("ACME")) == 25
    (dup,) = result.report.find("duplicate")
    assert dup.severity == "warning" and dup.count == 1
    assert dup.examples == ["dup_identical.csv:7 2024-03-07 10:15 = dup_identical.csv:6"]


def test_strict_reports_off_tick_prices_without_changing_them():
    result = load_bars(FIXTURES / "off_tick.csv")
    frame = result.get("ACME").frame
    assert frame.loc[ist("2024-03-07 09:45"), "open"] == 1000.13
    assert frame.loc[ist("2024-03-07 10:45"), "high"] == 1000.47
    assert frame.loc[ist("2024-03-07 10:00"), "close"] == 1000.1  # float32 rendering read as 1000.1
    (off,) = result.report.find("off_tick")
    assert off.count == 2 and off.severity == "warning"
    assert off.examples[0] == "off_tick.csv:4 2024-03-07 09:45 open 1000.13 (grid 1000.15)"
    (f32,) = result.report.find("float32")
    assert f32.count == 1 and "1000.0999755859375" in f32.message
    assert any("ACME 0.05 ASSUMED" in n for n in result.report.notes)  # ACME is not in the master
    assert result.report.repairs == []


def test_repair_snaps_off_tick_prices_to_the_grid():
    result = load_bars(FIXTURES / "off_tick.csv", policy="repair")
    frame = result.get("ACME").frame
    assert frame.loc[ist("2024-03-07 09:45"), "open"] == 1000.15
    assert frame.loc[ist("2024-03-07 10:45"), "high"] == 1000.45
    assert result.report.repairs == [
        "ACME: snapped 2 off-tick prices to the 0.05 grid (largest change 0.02)"
    ]


def test_gaps_stay_gaps_unless_filling_is_asked_for():
    plain = load_bars(FIXTURES / "gap_5min.csv", policy="repair")
    assert len(plain.get("ACME")) == 63
    filled = load_bars(FIXTURES / "gap_5min.csv", policy="repair", fill_gaps=True)
    frame = filled.get("ACME").frame
    assert frame.index.equals(session_starts("2024-03-07", 5))
    inside = frame.loc[ist("2024-03-07 11:00") : ist("2024-03-07 11:55")]
    before = frame.loc[ist("2024-03-07 10:55"), "close"]
    assert len(inside) == 12
    assert (inside[["open", "high", "low", "close"]] == before).all().all()
    assert (inside["volume"] == 0).all()
    assert (
        frame.loc[ist("2024-03-07 12:00"), "open"]
        == plain.get("ACME").frame.loc[ist("2024-03-07 12:00"), "open"]
    )
    assert filled.report.repairs == [
        "ACME: filled 12 missing bars with flat bars at the previous close, volume 0"
    ]


def test_outliers_are_reported_and_dropped_only_on_request():
    kept = load_bars(FIXTURES / "outlier.csv")
    (out,) = kept.report.find("outlier")
    assert out.count == 1  # the spike, not the bar that comes back down
    assert out.examples[0].startswith("outlier.csv:12 2024-03-07 11:45 close 1201")
    assert len(kept.get("ACME")) == 25
    dropped = load_bars(FIXTURES / "outlier.csv", policy="repair", drop_outliers=True)
    assert len(dropped.get("ACME")) == 24
    assert ist("2024-03-07 11:45") not in dropped.get("ACME").frame.index
    assert dropped.report.repairs == ["ACME: dropped 1 outlier bars: 2024-03-07 11:45"]


# -------------------------------------------------------------------------------- many files


def _split_vendor(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    lines = (FIXTURES / "vendor_ACME.txt").read_text().splitlines()
    first = [x for x in lines if ",20240307," in x]
    second = [x for x in lines if ",20240311," in x]
    a, b = tmp_path / "2024 MAR 07 ACME.txt", tmp_path / "2024 MAR 11 ACME.txt"
    a.write_text("\n".join(first) + "\n")
    b.write_text("\n".join(second) + "\n")
    return a, b, lines


def test_load_many_merges_a_symbol_across_files(tmp_path):
    a, b, _ = _split_vendor(tmp_path)
    merged = load_many([b, a])
    whole = load_bars(FIXTURES / "vendor_ACME.txt")
    pd.testing.assert_frame_equal(merged.get("ACME").frame, whole.get("ACME").frame)
    assert merged.report.rows_read == 756
    assert merged.report.source.startswith("2 files")
    assert any(
        n.endswith("[all 2 files]") and n.startswith("bar labels: end-labelled")
        for n in merged.report.notes
    )


def test_load_many_accepts_identical_overlap_and_refuses_conflicting_overlap(tmp_path):
    a, b, lines = _split_vendor(tmp_path)
    overlap = [x for x in lines if ",20240307,15:2" in x]  # 15:20-15:29 end labels
    b.write_text("\n".join(overlap + b.read_text().splitlines()) + "\n")
    merged = load_many([a, b])
    assert len(merged.get("ACME")) == 750
    assert merged.report.find("duplicate")[0].count == 10
    bad = overlap[0].split(",")
    bad[6] = f"{float(bad[6]) + 0.05:.2f}"
    bad[4] = f"{max(float(bad[4]), float(bad[6])):.2f}"
    b.write_text("\n".join([",".join(bad)] + b.read_text().splitlines()[1:]) + "\n")
    with pytest.raises(DataError) as info:
        load_many([a, b])
    assert info.value.where == f"{b}:1"
    assert "conflicting duplicate of 2024 MAR 07 ACME.txt:" in info.value.message


def test_load_many_refuses_to_merge_different_intervals():
    with pytest.raises(DataError, match="different intervals"):
        load_many([FIXTURES / "kite_candles_15min.csv", FIXTURES / "gap_5min.csv"], symbol="ACME")


def test_missing_trading_day_is_a_warning_but_a_holiday_is_not():
    result = load_bars(FIXTURES / "missing_day.csv")
    (missing,) = result.report.find("missing_day")
    assert missing.examples == ["2024-03-11"]
    assert len(result.get("ACME").days) == 2
    assert result.get("ACME").days == [dt.date(2024, 3, 7), dt.date(2024, 3, 12)]


def test_parquet_of_a_time_indexed_frame_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    idx = pd.date_range("2024-01-02 09:15", periods=30, freq="1min", tz="Asia/Kolkata")
    frame = pd.DataFrame({"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.5, "volume": 10.0}, index=idx)
    path = tmp_path / "IDX.parquet"
    frame.to_parquet(path)
    series = load_bars(path).series[0]
    assert series.symbol == "IDX" and len(series) == 30
    assert series.frame.index[0] == idx[0] and series.frame["close"].iloc[-1] == 100.5


def test_a_semicolon_file_gets_a_hint_about_the_separator(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "semi.csv"
    path.write_text("timestamp;open;high;low;close\n2024-01-02 09:15;1;2;0.5;1\n")
    with pytest.raises(DataError, match="not comma-separated"):
        load_bars(path)
