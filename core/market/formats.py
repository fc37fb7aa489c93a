"""Reading bar files: detect the layout and parse it into one raw table, nothing more.

Layouts: canonical CSV with a header (``timestamp``/``datetime``/``date`` or ``date`` + ``time``,
``open``, ``high``, ``low``, ``close``, optional ``volume`` and ``symbol``; any order and case),
Parquet with the same columns, headerless vendor files (``SYMBOL,YYYYMMDD,HH:MM,O,H,L,C,V,OI``),
yfinance multi-row headers (``Price``/``Ticker``/``Datetime`` lines), and Kite historical
candles as JSON or headerless CSV (``ts,o,h,l,c,v[,oi]``).

The result is a :class:`RawTable`: one row per data line with its line number, the timestamp as
written (converted to UTC ns, labels untouched), prices as float64 (NaN when empty) and a
``problem`` text for rows that could not be parsed ("" when fine). Deciding what the rows mean (labels,
sessions, quality) is the loader's job.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.clock import IST
from core.errors import DataError

PRICES = ("open", "high", "low", "close")
NAT = np.iinfo(np.int64).min

_TS_NAMES = ("timestamp", "datetime", "date_time", "time_stamp")
_ALIASES = {
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume", "vol"),
    "symbol": ("symbol", "ticker", "tradingsymbol", "instrument"),
}
_NAN_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none", "-"})
_OFFSET_RE = r"(?:[zZ]|[+-]\d\d:?\d\d)$"
_VENDOR_DATE = re.compile(r"^\d{8}$")
_VENDOR_TIME = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}")
_INTERVAL_TAG = re.compile(r"[_\- ](\d+)\s*(min|minute|minutes|m)$", re.IGNORECASE)
_EXCHANGE_SUFFIX = re.compile(r"\.(NS|BO)$", re.IGNORECASE)
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%b-%Y", "%d %b %Y")


@dataclass
class RawTable:
    """The rows of one file as written: see the module docstring."""

    path: Path
    layout: str
    frame: pd.DataFrame  # line, symbol, ts, open, high, low, close, volume, problem
    notes: list[str] = field(default_factory=list)
    unit: str = ""  # "" for text lines ("file:12"), "row " for Parquet, "candle " for JSON

    def where(self, line: int) -> str:
        """The place of a row, e.g. ``data.csv:12``."""
        return f"{self.path}:{self.unit}{line}"


def read_table(path: str | Path, symbol: str | None = None) -> RawTable:
    """Read ``path`` in whatever supported layout it has (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", where=str(path))
    if path.is_dir():
        raise DataError("is a directory, not a bar file", where=str(path))
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path, symbol)
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise DataError("empty file", where=str(path))
    if suffix == ".json" or raw.lstrip()[:1] in (b"{", b"["):
        return _read_kite_json(path, raw, symbol)
    return _read_text(path, raw, symbol)


# ---------------------------------------------------------------------------------- text layouts


def _read_text(path: Path, raw: bytes, symbol: str | None) -> RawTable:
    head = raw[:4096].decode("utf-8", errors="replace").splitlines()
    first = [f.strip() for f in head[0].split(",")]
    lower = [f.lower() for f in first]
    if len(head) >= 3 and lower[0] == "price" and head[1].lower().startswith("ticker,"):
        return _read_yfinance(path, raw, head, symbol)
    if len(first) >= 7 and _VENDOR_DATE.match(first[1]) and _VENDOR_TIME.match(first[2]):
        return _read_vendor(path, raw, symbol)
    if _ISO_START.match(first[0]) and 5 <= len(first) <= 7:
        return _read_headerless_candles(path, raw, symbol)
    return _read_header_csv(path, raw, first, symbol)


def _split_lines(
    path: Path, raw: bytes, skip: int, text_cols: tuple[int, ...]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """All lines after ``skip`` header lines, plus each line's field count and blank flag.

    ``text_cols`` are read as strings (empty -> ""); the other columns are left to the C parser,
    which yields float64 for clean numeric columns (fast) and strings where a value is not a
    number (then :func:`_assemble` finds the line).
    """
    buf = np.frombuffer(raw, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    n_lines = len(newlines) + (0 if raw.endswith(b"\n") else 1)
    ends = np.append(newlines, len(raw))[:n_lines]
    starts = np.concatenate(([0], newlines + 1))[:n_lines]
    lengths = ends - starts
    cr = (lengths > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
    blank = (lengths - cr) == 0
    commas_before = np.concatenate(([0], np.cumsum(buf == 44)))
    counts = commas_before[ends] - commas_before[starts] + 1
    counts, blank = counts[skip:], blank[skip:]
    width = int(counts.max()) if len(counts) else 1
    if len(counts) == 0 or blank.all():
        raise DataError("no data rows (only a header?)", where=str(path))
    nan_text = sorted(_NAN_TEXT | {t.upper() for t in _NAN_TEXT} | {"NaN", "N/A", "Null", "None"})
    frame = pd.read_csv(
        io.BytesIO(raw),
        header=None,
        names=range(width),
        skiprows=skip,
        dtype={i: object for i in text_cols if i < width},
        skip_blank_lines=False,
        engine="c",
        keep_default_na=False,
        na_values={i: nan_text for i in range(width) if i not in text_cols},
    )
    if len(frame) != len(counts):  # e.g. a quoted field spanning lines: line numbers would lie
        raise DataError(
            f"could not split the file into lines ({len(frame)} rows parsed, {len(counts)} lines)",
            where=str(path),
        )
    return frame, counts, blank


def _read_vendor(path: Path, raw: bytes, symbol: str | None) -> RawTable:
    frame, counts, blank = _split_lines(path, raw, 0, (0, 1, 2))
    expected = int(np.bincount(counts[~blank]).argmax())
    cols = {
        "symbol": frame[0],
        "open": frame[3],
        "high": frame[4],
        "low": frame[5],
        "close": frame[6],
    }
    if frame.shape[1] > 7:
        cols["volume"] = frame[7]
    ts, stamp = _vendor_times(frame[1], frame[2])
    tail = {7: "", 8: ",V"}.get(expected, ",V,OI")
    layout = f"headerless vendor file (SYMBOL,YYYYMMDD,HH:MM,O,H,L,C{tail})"
    notes = [f"layout: {layout}", "timezone: naive wall-clock times, read as Asia/Kolkata"]
    table = _assemble(
        path,
        layout,
        frame.index + 1,
        cols,
        ts,
        counts,
        blank,
        expected,
        symbol,
        notes,
        ts_text=stamp,
    )
    return table


def _vendor_times(dates: pd.Series, times: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``YYYYMMDD`` + ``HH:MM[:SS]`` columns to UTC ns, parsing each distinct value once."""
    d_codes, d_uniq = pd.factorize(dates, use_na_sentinel=False)
    t_codes, t_uniq = pd.factorize(times, use_na_sentinel=False)
    day = pd.to_datetime(
        pd.Series(d_uniq, dtype=object).astype(str).str.strip(), format="%Y%m%d", errors="coerce"
    )
    clock = pd.Series(t_uniq, dtype=object).astype(str).str.strip()
    clock = clock.where(clock.str.count(":") == 2, clock + ":00")
    tod = pd.to_datetime("1970-01-01 " + clock, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    day_ns, tod_ns = _naive_ist(day), _naive_ist(tod) + 19_800_000_000_000
    ts = day_ns[d_codes] + tod_ns[t_codes]
    ts[(day_ns[d_codes] == NAT) | (tod_ns[t_codes] == NAT + 19_800_000_000_000)] = NAT
    return ts, lambda: dates.astype(str) + " " + times.astype(str)


def _read_headerless_candles(path: Path, raw: bytes, symbol: str | None) -> RawTable:
    frame, counts, blank = _split_lines(path, raw, 0, (0,))
    expected = int(np.bincount(counts[~blank]).argmax())
    cols = {"open": frame[1], "high": frame[2], "low": frame[3], "close": frame[4]}
    if frame.shape[1] > 5:
        cols["volume"] = frame[5]
    ts_ns, tz_note = parse_timestamps(frame[0])
    layout = "headerless candle CSV (timestamp,open,high,low,close[,volume[,oi]], Kite style)"
    notes = [f"layout: {layout}", f"timezone: {tz_note}"]
    return _assemble(
        path,
        layout,
        frame.index + 1,
        cols,
        ts_ns,
        counts,
        blank,
        expected,
        symbol,
        notes,
        ts_text=frame[0],
    )


def _read_yfinance(path: Path, raw: bytes, head: list[str], symbol: str | None) -> RawTable:
    fields = [f.strip() for f in head[0].split(",")]
    tickers = [f.strip() for f in head[1].split(",")]
    ts_name = head[2].split(",")[0].strip() or "Datetime"
    frame, counts, blank = _split_lines(path, raw, 3, (0,))
    expected = len(fields)
    ts_ns, tz_note = parse_timestamps(frame[0])
    by_ticker: dict[str, dict[str, int]] = {}
    for pos, (name, ticker) in enumerate(zip(fields[1:], tickers[1:]), start=1):
        key = name.lower()
        if key in ("open", "high", "low", "close", "volume"):
            by_ticker.setdefault(ticker, {})[key] = pos
    parts = []
    for ticker, positions in by_ticker.items():
        missing = [c for c in PRICES if c not in positions]
        if missing:
            raise DataError(
                f"no {', '.join(missing)} columns for {ticker} in the yfinance header; found: "
                f"{', '.join(fields)}",
                where=f"{path}:1",
            )
        cols = {c: frame[p] for c, p in positions.items()}
        cols["symbol"] = pd.Series(_EXCHANGE_SUFFIX.sub("", ticker).upper(), index=frame.index)
        parts.append(
            _assemble(
                path,
                "",
                frame.index + 4,
                cols,
                ts_ns,
                counts,
                blank,
                expected,
                symbol,
                [],
                ts_text=frame[0],
            ).frame
        )
    order = ",".join(f[0].upper() for f in fields[1:])
    layout = f"yfinance multi-row header (3 header lines, {ts_name} + columns {order})"
    names = ", ".join(sorted(by_ticker))
    notes = [
        f"layout: {layout}",
        f"timezone: {tz_note}",
        f"symbol: from the Ticker header row ({names}), exchange suffix .NS/.BO removed",
    ]
    merged = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return RawTable(path, layout, merged, notes)


def _find(names: list[str], wanted: tuple[str, ...]) -> int | None:
    for alias in wanted:
        if alias in names:
            return names.index(alias)
    return None


def _read_header_csv(path: Path, raw: bytes, header: list[str], symbol: str | None) -> RawTable:
    names = [h.strip().strip('"').lower() for h in header]
    found = {key: _find(names, aliases) for key, aliases in _ALIASES.items()}
    missing = [c for c in PRICES if found[c] is None]
    if missing:
        what = "open/high/low/close" if len(missing) == 4 else "/".join(missing)
        shown = ", ".join(h.strip() for h in header) or "(nothing)"
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
            hint = " (the file is not comma-separated: save it as CSV with commas)"
        raise DataError(f"no {what} columns in {path.name}; found: {shown}{hint}", where=str(path))
    ts_pos = _find(names, _TS_NAMES)
    date_pos, time_pos = _find(names, ("date",)), _find(names, ("time",))
    if ts_pos is None and date_pos is None:
        raise DataError(
            f"no timestamp column (timestamp, datetime or date [+ time]) in {path.name}; "
            f"found: {', '.join(h.strip() for h in header)}",
            where=str(path),
        )
    text_cols = tuple(p for p in (ts_pos, date_pos, time_pos, found["symbol"]) if p is not None)
    frame, counts, blank = _split_lines(path, raw, 1, text_cols)
    if ts_pos is not None:
        ts_text = frame[ts_pos]
        ts_desc = f"'{header[ts_pos].strip()}' column"
    elif time_pos is not None:
        ts_text = frame[date_pos].str.strip() + " " + frame[time_pos].str.strip()
        ts_desc = f"'{header[date_pos].strip()}' + '{header[time_pos].strip()}' columns"
    else:
        ts_text = frame[date_pos]
        ts_desc = f"'{header[date_pos].strip()}' column"
    ts_ns, tz_note = parse_timestamps(ts_text)
    cols = {key: frame[pos] for key, pos in found.items() if pos is not None}
    layout = f"CSV with a header (timestamp from the {ts_desc})"
    notes = [f"layout: {layout}", f"timezone: {tz_note}"]
    return _assemble(
        path,
        layout,
        frame.index + 2,
        cols,
        ts_ns,
        counts,
        blank,
        len(header),
        symbol,
        notes,
        ts_text=ts_text,
    )


# ------------------------------------------------------------------------------ other containers


def _read_kite_json(path: Path, raw: bytes, symbol: str | None) -> RawTable:
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise DataError(f"not valid JSON: {exc}", where=str(path)) from exc
    candles = doc.get("data", {}).get("candles") if isinstance(doc, dict) else None
    if candles is None and isinstance(doc, dict) and "candles" in doc:
        candles = doc["candles"]
    if not isinstance(candles, list):
        keys = ", ".join(doc) if isinstance(doc, dict) else type(doc).__name__
        raise DataError(f"no data.candles list in the JSON; found: {keys}", where=str(path))
    if isinstance(doc, dict) and doc.get("status") not in (None, "success"):
        raise DataError(f"Kite response status is {doc.get('status')!r}", where=str(path))
    width = max((len(c) for c in candles if isinstance(c, list)), default=6)
    rows = [
        (c + [None] * (width - len(c))) if isinstance(c, list) else [None] * width for c in candles
    ]
    frame = pd.DataFrame(rows, columns=range(width), dtype=object)
    counts = np.array([len(c) if isinstance(c, list) else 0 for c in candles], dtype=np.int64)
    blank = np.zeros(len(candles), dtype=bool)
    cols = {"open": frame[1], "high": frame[2], "low": frame[3], "close": frame[4]}
    if width > 5:
        cols["volume"] = frame[5]
    stamps = frame[0].fillna("").astype(str)
    ts_ns, tz_note = parse_timestamps(stamps) if len(frame) else (np.array([], np.int64), "-")
    expected = 7 if width >= 7 and (counts == 7).sum() > (counts == 6).sum() else 6
    counts = np.where((counts == 6) | (counts == 7), expected, counts)
    layout = "Kite historical candles JSON (data.candles: [timestamp, o, h, l, c, v(, oi)])"
    notes = [f"layout: {layout}", f"timezone: {tz_note}"]
    table = _assemble(
        path,
        layout,
        frame.index + 1,
        cols,
        ts_ns,
        counts,
        blank,
        expected,
        symbol,
        notes,
        ts_text=stamps,
    )
    table.unit = "candle "
    return table


def _read_parquet(path: Path, symbol: str | None) -> RawTable:
    try:
        src = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise DataError(f"cannot read Parquet: {exc}", where=str(path)) from exc
    if len(src) == 0:
        raise DataError("empty file (no rows)", where=str(path))
    if isinstance(src.index, pd.DatetimeIndex):  # e.g. df.to_parquet() of a time-indexed frame
        src = src.rename_axis(src.index.name or "timestamp").reset_index()
    names = [str(c).strip().lower() for c in src.columns]
    found = {key: _find(names, aliases) for key, aliases in _ALIASES.items()}
    missing = [c for c in PRICES if found[c] is None]
    if missing:
        what = "open/high/low/close" if len(missing) == 4 else "/".join(missing)
        raise DataError(
            f"no {what} columns in {path.name}; found: {', '.join(map(str, src.columns))}",
            where=str(path),
        )
    ts_pos = _find(names, _TS_NAMES)
    date_pos, time_pos = _find(names, ("date",)), _find(names, ("time",))
    if ts_pos is None and date_pos is None:
        raise DataError(
            f"no timestamp column in {path.name}; found: {', '.join(map(str, src.columns))}",
            where=str(path),
        )
    column = src.iloc[:, ts_pos if ts_pos is not None else date_pos]
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        if column.dt.tz is None:
            ts_ns = _naive_ist(column)
            tz_note = "naive datetime column, read as Asia/Kolkata"
        else:
            ts_ns = _to_ns(column.dt.tz_convert("UTC"))
            tz_note = f"timezone-aware column ({column.dt.tz}), converted to Asia/Kolkata"
        ts_text = column.astype(str)
    else:
        ts_text = column.astype(str)
        if ts_pos is None and time_pos is not None:
            ts_text = ts_text.str.strip() + " " + src.iloc[:, time_pos].astype(str).str.strip()
        ts_ns, tz_note = parse_timestamps(ts_text)
    cols = {key: src.iloc[:, pos] for key, pos in found.items() if pos is not None}
    if "symbol" in cols:
        cols["symbol"] = cols["symbol"].fillna("").astype(str)
    n = len(src)
    layout = "Parquet with named columns"
    notes = [f"layout: {layout}", f"timezone: {tz_note}"]
    table = _assemble(
        path,
        layout,
        pd.RangeIndex(n) + 1,
        cols,
        ts_ns,
        np.ones(n, np.int64),
        np.zeros(n, bool),
        1,
        symbol,
        notes,
        ts_text=ts_text,
    )
    table.unit = "row "
    return table


# ------------------------------------------------------------------------------------- assembling


def _assemble(
    path: Path,
    layout: str,
    lines,
    cols: dict[str, pd.Series],
    ts_ns: np.ndarray,
    counts: np.ndarray,
    blank: np.ndarray,
    expected: int,
    symbol: str | None,
    notes: list[str],
    ts_text: pd.Series | Callable[[], pd.Series],
) -> RawTable:
    """Numbers, symbols and per-row problems for one layout's string columns."""
    n = len(ts_ns)
    problem = np.full(n, "", dtype=object)
    flagged = np.zeros(n, dtype=bool)

    def flag(mask: np.ndarray, messages) -> None:
        rows = np.flatnonzero(mask & ~flagged & ~blank)
        if len(rows):
            problem[rows] = [messages(i) for i in rows]
            flagged[rows] = True

    flag(counts != expected, lambda i: f"expected {expected} fields, found {counts[i]}")
    out: dict[str, object] = {"line": np.asarray(lines, dtype=np.int64)}
    for name in (*PRICES, "volume"):
        text = cols.get(name)
        if text is None:
            out[name] = np.zeros(n) if name == "volume" else np.full(n, np.nan)
            continue
        if text.dtype.kind in "fiub":
            values = text.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            empty = np.isnan(values)
        else:
            values = pd.to_numeric(text, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan, copy=True
            )
            empty = (
                text.isna().to_numpy()
                | text.astype(str).str.strip().str.lower().isin(_NAN_TEXT).to_numpy()
            )
            garbage = np.isnan(values) & ~empty
            flag(garbage, lambda i, t=text, c=name: f"{c} is not a number: {str(t.iloc[i])[:30]!r}")
        values[np.isinf(values)] = np.nan
        if name == "volume":
            values[empty] = 0.0  # an empty volume field is no volume, not an error
        out[name] = values
    bad_ts = ts_ns == NAT
    if bad_ts.any():
        shown = ts_text() if callable(ts_text) else ts_text
        flag(bad_ts, lambda i: f"unreadable timestamp {str(shown.iloc[i])[:30]!r}")
    out["ts"] = ts_ns
    sym, sym_note = _symbols(path, cols.get("symbol"), symbol, n)
    out["symbol"] = sym
    out["problem"] = problem
    frame = pd.DataFrame(out)
    frame = frame[~blank].reset_index(drop=True)
    if "volume" not in cols:
        notes.append("volume: no volume column; volume set to 0")
    if sym_note:
        notes.append(sym_note)
    return RawTable(path, layout, frame, notes)


def _symbols(
    path: Path, column: pd.Series | None, given: str | None, n: int
) -> tuple[np.ndarray, str]:
    fallback = given.strip().upper() if given else None
    source = "the symbol argument"
    if fallback is None:
        stem = path.stem.strip()
        fallback = _INTERVAL_TAG.sub("", stem).strip().upper().replace(" ", "_")
        source = f"the file name ({path.name})"
    if column is None:
        return np.full(n, fallback, dtype=object), f"symbol: {fallback}, from {source}"
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    cleaned = pd.Series(uniques, dtype=object).fillna("").astype(str).str.strip().str.upper()
    cleaned = cleaned.to_numpy(dtype=object)
    values = cleaned[codes]
    empty = values == ""
    if empty.all():
        return np.full(
            n, fallback, dtype=object
        ), f"symbol: {fallback}, from {source} (symbol column empty)"
    values[empty] = fallback
    names = sorted(set(values))
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    note = f"symbol: from the symbol column ({shown})"
    if given and given.strip().upper() not in names:
        note += f"; the symbol argument {given!r} was not used"
    return values, note


# ------------------------------------------------------------------------------------- timestamps


def _to_ns(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]").view(np.int64)
    return pd.DatetimeIndex(values).as_unit("ns").asi8


def _naive_ist(ts: pd.Series) -> np.ndarray:
    """Naive IST wall-clock datetimes to UTC ns (NaT -> ``NAT``)."""
    naive = ts.to_numpy().astype("datetime64[ns]").view(np.int64)
    out = naive - 19_800_000_000_000
    return np.where(naive == NAT, NAT, out)


def parse_timestamps(text: pd.Series) -> tuple[np.ndarray, str]:
    """Timestamp strings to UTC ns plus a note on how the timezone was read.

    Strings with an offset (``Z``, ``+00:00``, ``+0530``) are converted; naive ones are
    Asia/Kolkata wall-clock. Unreadable values become ``NAT``.
    """
    text = text.astype(str).str.strip()
    out = np.full(len(text), NAT, dtype=np.int64)
    aware = text.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool)
    notes = []
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        out[aware] = _to_ns(parsed)
        offsets = text[aware].str.extract(r"([zZ]|[+-]\d\d:?\d\d)$", expand=False).str.upper()
        shown = ", ".join(sorted(set(offsets.dropna().head(2000))))
        notes.append(f"timestamps carry a UTC offset ({shown}); converted to Asia/Kolkata")
    naive = ~aware
    if naive.any():
        sub = text[naive]
        fmt = _guess_format(sub)
        parsed = pd.to_datetime(sub, format=fmt, errors="coerce", dayfirst=True)
        out[naive] = _naive_ist(parsed)
        note = "naive wall-clock times, read as Asia/Kolkata"
        if fmt not in ("ISO8601",):
            note += f" (format {fmt})"
        notes.append(note)
    return out, "; ".join(notes) if notes else "no timestamps"


def _guess_format(text: pd.Series) -> str:
    """ISO 8601 when the first values read as such, else the first known day-first format that does."""
    sample = text[text != ""].head(20)
    if sample.empty:
        return "ISO8601"
    if pd.to_datetime(sample, format="ISO8601", errors="coerce").notna().all():
        return "ISO8601"
    for date_fmt in _DATE_FORMATS:
        for time_fmt in ("", " %H:%M", " %H:%M:%S"):
            fmt = date_fmt + time_fmt
            if pd.to_datetime(sample, format=fmt, errors="coerce").notna().all():
                return fmt
    return "ISO8601"


def ist_text(ns: int) -> str:
    """``YYYY-MM-DD HH:MM`` in Asia/Kolkata for a UTC ns instant."""
    if ns == NAT:
        return "?"
    return pd.Timestamp(int(ns), tz="UTC").tz_convert(IST).strftime("%Y-%m-%d %H:%M")
