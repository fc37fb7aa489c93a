"""Loading bar files into start-labelled :class:`BarSeries`, with a quality report.

``load_bars(path)`` reads one file, ``load_many(paths)`` several (e.g. one file per month) and
merges each symbol's bars. Both read every layout :mod:`core.market.formats` knows, detect the
bar interval and whether bars are labelled by their start or end, keep only bars that start
inside an NSE session, and run the checks of :mod:`core.market.quality`.

Policies (DESIGN.md §4): ``strict`` (default) never alters or invents a price and refuses, with
a :class:`DataError` naming ``file:line``, rows that cannot be traded on (unparseable lines,
NaN or non-positive prices, invalid OHLC, out-of-order rows, conflicting duplicates).
``repair`` sorts, drops what it must and snaps off-tick prices; it fills gaps and drops
outliers only when asked. Both policies exclude rows outside sessions (not a price change),
drop exact duplicates and read float32 renderings such as 1399.9000244140625 as the grid price
they stand for; the report lists all of it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from core.clock import NseCalendar, nse_calendar
from core.errors import CalendarError, ConfigError, DataError
from core.market.bars import COLUMNS, NS_PER_MINUTE, BarSeries
from core.market.formats import RawTable, ist_text, read_table
from core.market.instruments import InstrumentMaster, default_master
from core.market.quality import (
    MAX_EXAMPLES,
    ROW_KINDS,
    QualityIssue,
    QualityReport,
    check_outliers,
    check_overnight,
    check_sessions,
    check_stale,
    check_ticks,
    check_volume,
    describe_row,
    row_problems,
)
from core.market.sessions import (
    IN_SESSION,
    NON_TRADING_DAY,
    OUTSIDE_HOURS,
    POST_CLOSE,
    PRE_OPEN,
    SessionTable,
    day_to_date,
    ist_day,
)

Label = Literal["auto", "start", "end"]
Policy = Literal["strict", "repair"]

_ROW_TITLES = {
    "unparseable": "unparseable line",
    "nan_price": "missing price",
    "nonpositive_price": "non-positive price",
    "invalid_ohlc": "invalid OHLC",
}
_OUTSIDE = {
    PRE_OPEN: (
        "pre_open",
        "info",
        (
            "pre-open rows excluded (start before the session open, e.g. the vendor's 09:08 "
            "opening-auction row)"
        ),
    ),
    POST_CLOSE: (
        "post_close",
        "info",
        (
            "post-close rows excluded (start at or after the session close, within 30 minutes, "
            "e.g. closing-price rows at 15:31-15:33)"
        ),
    ),
    OUTSIDE_HOURS: (
        "outside_hours",
        "warning",
        (
            "rows excluded that lie outside session hours on a trading day (extended/outage or "
            "mislabelled rows)"
        ),
    ),
    NON_TRADING_DAY: (
        "non_trading_day",
        "warning",
        "rows excluded that fall on days the NSE does not trade (weekends, holidays)",
    ),
}


@dataclass
class LoadResult:
    """What a load produced: one series per symbol (sorted by symbol) and the quality report."""

    series: list[BarSeries]
    report: QualityReport

    @property
    def symbols(self) -> list[str]:
        return [s.symbol for s in self.series]

    def get(self, symbol: str) -> BarSeries:
        """The series of ``symbol`` (KeyError naming the symbols present otherwise)."""
        for s in self.series:
            if s.symbol == symbol.upper():
                return s
        raise KeyError(f"{symbol} not loaded; have {', '.join(self.symbols) or 'nothing'}")


def load_bars(
    path: str | Path,
    *,
    label: Label = "auto",
    policy: Policy = "strict",
    symbol: str | None = None,
    calendar: NseCalendar | None = None,
    master: InstrumentMaster | None = None,
    fill_gaps: bool = False,
    drop_outliers: bool = False,
) -> LoadResult:
    """Load one bar file (see the module docstring for layouts, labels and policies)."""
    return load_many(
        [path],
        label=label,
        policy=policy,
        symbol=symbol,
        calendar=calendar,
        master=master,
        fill_gaps=fill_gaps,
        drop_outliers=drop_outliers,
    )


def load_many(
    paths: Iterable[str | Path],
    *,
    label: Label = "auto",
    policy: Policy = "strict",
    symbol: str | None = None,
    calendar: NseCalendar | None = None,
    master: InstrumentMaster | None = None,
    fill_gaps: bool = False,
    drop_outliers: bool = False,
) -> LoadResult:
    """Load several bar files and merge each symbol's bars into one series.

    Bars of the same symbol and start in two files must agree (identical ones are merged and
    reported); conflicting ones are refused under ``strict``.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("no bar files given", where="load_many")
    if label not in ("auto", "start", "end"):
        raise ConfigError(f"label must be auto, start or end, not {label!r}", where="label")
    if policy not in ("strict", "repair"):
        raise ConfigError(f"policy must be strict or repair, not {policy!r}", where="policy")
    if policy == "strict" and (fill_gaps or drop_outliers):
        asked = "fill_gaps" if fill_gaps else "drop_outliers"
        raise ConfigError(f"{asked}=True changes the data; use policy='repair'", where=asked)
    tables = [read_table(p, symbol) for p in paths]
    for t in tables:
        if len(t.frame) == 0:
            raise DataError("no data rows (only a header?)", where=str(t.path))
    run = _Load(
        tables,
        label,
        policy,
        calendar or nse_calendar(),
        master or default_master(),
        fill_gaps,
        drop_outliers,
    )
    return run.run()


class _Load:
    """One load: the steps in order, sharing the concatenated rows of every file."""

    def __init__(
        self,
        tables: list[RawTable],
        label: Label,
        policy: Policy,
        calendar: NseCalendar,
        master: InstrumentMaster,
        fill_gaps: bool,
        drop_outliers: bool,
    ) -> None:
        self.tables, self.label, self.policy = tables, label, policy
        self.calendar, self.master = calendar, master
        self.fill_gaps, self.drop_outliers = fill_gaps, drop_outliers
        names = [t.path.name for t in tables]
        self.short = names if len(set(names)) == len(names) else [str(t.path) for t in tables]
        source = (
            str(tables[0].path)
            if len(tables) == 1
            else (f"{len(tables)} files ({self.short[0]} … {self.short[-1]})")
        )
        self.report = QualityReport(source=source)
        # (file, line, what) of the first few untradeable rows of each kind, for the refusal
        self.errors: list[tuple[int, int, str]] = []
        self.file_notes: list[list[str]] = [list(t.notes) for t in tables]

    # ------------------------------------------------------------------------------- helpers
    def place(self, file: int, line: int) -> str:
        return f"{self.short[file]}:{self.tables[file].unit}{line}"

    def where(self, file: int, line: int) -> str:
        return self.tables[file].where(line)

    def files_tag(self, count: int) -> str:
        n = len(self.tables)
        if n == 1:
            return ""
        return f" [all {n} files]" if count == n else f" [{count} of {n} files]"

    def sessions_for(self, ts: np.ndarray) -> SessionTable:
        try:
            return SessionTable.covering(ts, self.calendar)
        except CalendarError as exc:
            raise DataError(
                f"cannot check sessions: {exc.message}", where=self.report.source
            ) from exc

    # ---------------------------------------------------------------------------------- steps
    def run(self) -> LoadResult:
        frames = [t.frame.assign(file=i) for i, t in enumerate(self.tables)]
        rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        self.report.rows_read = len(rows)
        rows = self.drop_bad_rows(rows)
        if len(rows) == 0:
            self.refuse_or_record()
            raise DataError("no usable rows: every row was dropped", where=self.report.source)
        rows = self.put_in_order(rows)
        self.sessions = self.sessions_for(rows["ts"].to_numpy())
        rows = self.label_bars(rows)
        rows = self.keep_sessions(rows)
        self.check_intervals(rows)
        rows = self.drop_duplicates(rows)
        self.refuse_or_record()
        series = [self.finish_symbol(sym, grp) for sym, grp in rows.groupby("symbol", sort=True)]
        self.report.bars_kept = sum(len(s) for s in series)
        self.report.notes = self.merged_notes() + self.report.notes
        return LoadResult(series, self.report)

    def drop_bad_rows(self, rows: pd.DataFrame) -> pd.DataFrame:
        o, h, low, c = (rows[k].to_numpy() for k in ("open", "high", "low", "close"))
        problem = rows["problem"].to_numpy()
        kind = row_problems(o, h, low, c, problem)
        bad = np.flatnonzero(kind >= 0)
        if len(bad) == 0:
            return rows
        files, lines, ts = rows["file"].to_numpy(), rows["line"].to_numpy(), rows["ts"].to_numpy()
        for k, name in enumerate(ROW_KINDS):
            sel = bad[kind[bad] == k]
            if len(sel) == 0:
                continue
            sel_shown = sel[:MAX_EXAMPLES]
            texts = [
                f"{_ROW_TITLES[name]}: {describe_row(k, o[i], h[i], low[i], c[i], problem[i])}"
                for i in sel_shown
            ]
            self.errors += [(int(files[i]), int(lines[i]), t) for i, t in zip(sel_shown, texts)]
            examples = [
                " ".join(
                    x
                    for x in (
                        self.place(files[i], lines[i]),
                        "" if name == "unparseable" else ist_text(ts[i]),
                        t,
                    )
                    if x
                )
                for i, t in zip(sel_shown, texts)
            ]
            self.report.add(
                QualityIssue(
                    name, "error", len(sel), f"{len(sel)} rows: {_ROW_TITLES[name]}", examples
                )
            )
        if self.policy == "repair":
            shown = ", ".join(self.place(files[i], lines[i]) for i in bad[:10])
            more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
            self.report.repairs.append(
                f"dropped {len(bad)} rows that cannot be traded on: {shown}{more}"
            )
        return rows.drop(index=rows.index[bad]).reset_index(drop=True)

    def put_in_order(self, rows: pd.DataFrame) -> pd.DataFrame:
        sym_code = pd.factorize(rows["symbol"])[0]
        group = rows["file"].to_numpy() * (sym_code.max() + 1) + sym_code
        ts = rows["ts"].to_numpy()
        order = np.lexsort((rows["line"].to_numpy(), group))
        g, t = group[order], ts[order]
        back = np.r_[False, (g[1:] == g[:-1]) & (t[1:] < t[:-1])]
        if back.any():
            files, lines = rows["file"].to_numpy(), rows["line"].to_numpy()
            sel, prev = order[back], order[np.flatnonzero(back) - 1]
            first = np.lexsort((lines[sel], files[sel]))[:MAX_EXAMPLES]
            texts = [
                f"out of order: {ist_text(ts[i])} comes after {ist_text(ts[j])} (line {lines[j]})"
                for i, j in zip(sel[first], prev[first])
            ]
            self.errors += [(int(files[i]), int(lines[i]), x) for i, x in zip(sel[first], texts)]
            hint = " (the file looks newest-first)" if len(sel) > 0.9 * len(rows) else ""
            self.report.add(
                QualityIssue(
                    "out_of_order",
                    "error",
                    len(sel),
                    f"{len(sel)} rows go back in time{hint}",
                    [f"{self.place(files[i], lines[i])} {x}" for i, x in zip(sel[first], texts)],
                )
            )
            if self.policy == "repair":
                self.report.repairs.append(
                    f"sorted the rows by time ({len(sel)} were out of order)"
                )
        order = np.lexsort((rows["line"].to_numpy(), ts, group))
        return rows.iloc[order].reset_index(drop=True)

    def label_bars(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Detect (or apply the forced) labels and interval per file; add the ``start`` column."""
        ts = rows["ts"].to_numpy()
        files = rows["file"].to_numpy()
        sym = pd.factorize(rows["symbol"])[0]
        day = ist_day(ts)
        idx = self.sessions.index_of(ts)
        safe = np.maximum(idx, 0)
        at_open = (idx >= 0) & (ts == self.sessions.open_ns[safe])
        at_close = (idx >= 0) & (ts == self.sessions.close_ns[safe])
        start = ts.copy()
        self.intervals: dict[int, int] = {}
        label_notes: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        self.interval_seen: dict[int, tuple[int, int, int]] = {}
        for f in range(len(self.tables)):
            sel = np.flatnonzero(files == f)
            if len(sel) == 0:
                self.intervals[f] = 1
                continue
            iv = self.detect_interval(f, ts[sel], sym[sel], day[sel])
            self.intervals[f] = iv
            n_open, n_close = int(at_open[sel].sum()), int(at_close[sel].sum())
            decided = (
                self.label if self.label != "auto" else ("end" if n_close > n_open else "start")
            )
            key = (decided, iv)
            label_notes[key][0] += n_open
            label_notes[key][1] += n_close
            label_notes[key][2] += 1
            if decided == "end":
                t = ts[sel]
                same = np.r_[
                    False, (sym[sel][1:] == sym[sel][:-1]) & (day[sel][1:] == day[sel][:-1])
                ]
                prev = np.r_[t[0], t[:-1]]
                shifted = t - iv * NS_PER_MINUTE
                # a bar shorter than the interval (the day's last, partial bar) starts where the previous ended
                start[sel] = np.where(same & (prev < t), np.maximum(shifted, prev), shifted)
        self.note_intervals()
        for (decided, iv), (n_open, n_close, n_files) in label_notes.items():
            how = "forced by label=" + repr(self.label) if self.label != "auto" else "detected"
            evidence = f"{n_open:,} rows at the session open, {n_close:,} at the session close"
            if decided == "end":
                act = f"shifted back by {iv} minute{'s' if iv > 1 else ''} to start labels"
            else:
                act = "used as bar starts"
            if self.label == "auto" and n_open == 0 and n_close == 0:
                evidence += " (no evidence either way; assumed start-labelled)"
            self.report.notes.append(
                f"bar labels: {decided}-labelled ({how}: {evidence}) — {act}{self.files_tag(n_files)}"
            )
        return rows.assign(start=start)

    def note_intervals(self) -> None:
        by_minutes: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        for minutes, modal, total in self.interval_seen.values():
            agg = by_minutes[minutes]
            agg[0], agg[1], agg[2] = agg[0] + modal, agg[1] + total, agg[2] + 1
        for minutes, (modal, total, n_files) in sorted(by_minutes.items()):
            plural = "s" if minutes > 1 else ""
            if total == 0:
                text = f"interval: assumed {minutes} minute{plural} (too few rows to detect it)"
            else:
                text = (
                    f"interval: {minutes} minute{plural} (modal spacing between rows within a day, "
                    f"{modal / total:.1%} of steps)"
                )
                if minutes not in (1, 2, 3, 5, 10, 15, 30, 60):
                    text += " — an unusual interval"
            self.report.notes.append(text + self.files_tag(n_files))

    def detect_interval(self, f: int, ts: np.ndarray, sym: np.ndarray, day: np.ndarray) -> int:
        same = (sym[1:] == sym[:-1]) & (day[1:] == day[:-1])
        steps = np.diff(ts)[same]
        steps = steps[steps > 0]
        if len(steps) == 0:
            if len(np.unique(day)) > 1:
                raise DataError(
                    "one row per day: daily bars are not supported (need intraday bars)",
                    where=str(self.tables[f].path),
                )
            self.interval_seen[f] = (1, 0, 0)
            return 1
        values, counts = np.unique(steps, return_counts=True)
        mode = int(values[np.argmax(counts)])
        if mode % NS_PER_MINUTE:
            raise DataError(
                f"bars are {mode / 1e9:g} seconds apart; only whole-minute bars are supported",
                where=str(self.tables[f].path),
            )
        minutes = mode // NS_PER_MINUTE
        self.interval_seen[f] = (minutes, int(counts.max()), len(steps))
        return minutes

    def keep_sessions(self, rows: pd.DataFrame) -> pd.DataFrame:
        start = rows["start"].to_numpy()
        self.sessions = self.sessions_for(np.r_[start, rows["ts"].to_numpy()])
        _, kind = self.sessions.classify(start)
        files, lines, ts = rows["file"].to_numpy(), rows["line"].to_numpy(), rows["ts"].to_numpy()
        for code, (name, severity, text) in _OUTSIDE.items():
            sel = np.flatnonzero(kind == code)
            if len(sel) == 0:
                continue
            days = len(np.unique(ist_day(start[sel])))
            self.report.add(
                QualityIssue(
                    name,
                    severity,
                    len(sel),
                    f"{len(sel):,} {text}; on {days} day(s)",
                    [
                        f"{self.place(files[i], lines[i])} {ist_text(ts[i])} (as labelled)"
                        for i in sel[:MAX_EXAMPLES]
                    ],
                )
            )
        self.report.notes.append(
            "sessions: kept bars whose start lies in [open, close) of an NSE session "
            "(pandas_market_calendars NSE, special sessions included); other rows excluded, not altered"
        )
        return rows[kind == IN_SESSION].reset_index(drop=True)

    def check_intervals(self, rows: pd.DataFrame) -> None:
        """Refuse to merge one symbol's bars of different intervals (before comparing bars)."""
        pairs = rows[["symbol", "file"]].drop_duplicates()
        self.symbol_interval: dict[str, int] = {}
        for symbol, grp in pairs.groupby("symbol"):
            ivs = sorted({self.intervals[int(f)] for f in grp["file"]})
            if len(ivs) > 1:
                raise DataError(
                    f"cannot merge {symbol} bars of different intervals "
                    f"({', '.join(f'{i} min' for i in ivs)})",
                    where=self.report.source,
                )
            self.symbol_interval[str(symbol)] = ivs[0]

    def drop_duplicates(self, rows: pd.DataFrame) -> pd.DataFrame:
        sym = pd.factorize(rows["symbol"])[0]
        start, files, lines = (
            rows["start"].to_numpy(),
            rows["file"].to_numpy(),
            rows["line"].to_numpy(),
        )
        order = np.lexsort((lines, files, start, sym))
        rows = rows.iloc[order].reset_index(drop=True)
        sym, start, files, lines = sym[order], start[order], files[order], lines[order]
        dup = np.r_[False, (sym[1:] == sym[:-1]) & (start[1:] == start[:-1])]
        if not dup.any():
            return rows
        values = rows[list(COLUMNS)].to_numpy()
        first = np.maximum.accumulate(np.where(dup, 0, np.arange(len(rows))))
        same = (values == values[first]).all(axis=1)
        identical, conflict = np.flatnonzero(dup & same), np.flatnonzero(dup & ~same)
        if len(identical):
            self.report.add(
                QualityIssue(
                    "duplicate",
                    "warning",
                    len(identical),
                    f"{len(identical)} rows repeat an earlier row exactly (same start and OHLCV); dropped, "
                    "the first kept",
                    [
                        f"{self.place(files[i], lines[i])} {ist_text(start[i])} = {self.place(files[first[i]], lines[first[i]])}"
                        for i in identical[:MAX_EXAMPLES]
                    ],
                )
            )
            self.report.repairs.append(
                f"dropped {len(identical)} exact duplicate rows (kept the first)"
            )
        if len(conflict):
            conflict = conflict[np.lexsort((lines[conflict], files[conflict]))]
            texts = []
            for i in conflict[:MAX_EXAMPLES]:
                j = first[i]
                diff = ", ".join(
                    f"{c} {values[i, k]:g} vs {values[j, k]:g}"
                    for k, c in enumerate(COLUMNS)
                    if values[i, k] != values[j, k]
                )
                texts.append(
                    f"conflicting duplicate of {self.place(files[j], lines[j])} at "
                    f"{ist_text(start[i])} (bar start): {diff}"
                )
            self.errors += [(int(files[i]), int(lines[i]), t) for i, t in zip(conflict, texts)]
            self.report.add(
                QualityIssue(
                    "conflicting_duplicate",
                    "error",
                    len(conflict),
                    f"{len(conflict)} rows share a bar start with an earlier row but differ",
                    [
                        f"{self.place(files[i], lines[i])} {t}"
                        for i, t in zip(conflict[:MAX_EXAMPLES], texts)
                    ],
                )
            )
            if self.policy == "repair":
                self.report.repairs.append(
                    f"dropped {len(conflict)} conflicting duplicate rows (kept the first in load order)"
                )
        return rows[~dup].reset_index(drop=True)

    def refuse_or_record(self) -> None:
        if self.policy != "strict" or not self.errors:
            return
        self.errors.sort(key=lambda e: (e[0], e[1]))
        f, line, what = self.errors[0]
        counts: Counter[str] = Counter()
        for issue in self.report.errors:
            counts[issue.kind] += issue.count
        titles = {
            **_ROW_TITLES,
            "out_of_order": "out of order",
            "conflicting_duplicate": "conflicting duplicate",
        }
        summary = ", ".join(f"{n} {titles.get(k, k)}" for k, n in counts.items())
        others = ", ".join(
            f"{self.place(ef, el)} {ew.split(':')[0]}" for ef, el, ew in self.errors[1:MAX_EXAMPLES]
        )
        more = f"; also {others}" if others else ""
        n = sum(counts.values())
        exc = DataError(
            f"{what} — refusing to load ({n} untradeable row{'s' if n > 1 else ''}: {summary}{more}); "
            "policy='repair' drops them",
            where=self.where(f, line),
        )
        exc.report = self.report  # type: ignore[attr-defined]
        raise exc

    # ------------------------------------------------------------------------------ per symbol
    def finish_symbol(self, symbol: str, rows: pd.DataFrame) -> BarSeries:
        files = rows["file"].to_numpy()
        iv = self.symbol_interval[symbol]
        ts = rows["start"].to_numpy()
        ohlc = rows[["open", "high", "low", "close"]].to_numpy(dtype=np.float64, copy=True)
        volume = rows["volume"].to_numpy(dtype=np.float64, copy=True)
        lines = rows["line"].to_numpy()
        sessions = self.sessions_for(ts)

        def where(i: int) -> str:
            return self.place(int(files[i]), int(lines[i]))

        issues, _ = check_sessions(symbol, ts, iv, sessions)
        median = float(np.median(ohlc[:, 3]))
        inst = self.master.for_prices(symbol, ohlc[:, 3])
        tick = inst.tick_size
        if inst.known:
            self.report.notes.append(f"tick size: {symbol} {tick:g} (instrument master)")
        else:
            self.report.notes.append(
                f"tick size: {symbol} {tick:g} ASSUMED — not in the instrument master; NSE equity rule "
                f"for a median price of {median:g}"
            )
        tick_issues, grid, artefact, off = check_ticks(symbol, ts, ohlc, tick, where)
        issues += tick_issues
        if artefact.any():
            ohlc = np.where(artefact, grid, ohlc)
        if off.any() and self.policy == "repair":
            change = np.abs(grid - ohlc)[off].max()
            ohlc = np.where(off, grid, ohlc)
            self.report.repairs.append(
                f"{symbol}: snapped {int(off.sum())} off-tick prices to the {tick:g} grid "
                f"(largest change {change:.4g})"
            )
        out_issues, outliers = check_outliers(symbol, ts, ohlc, iv, sessions, where)
        issues += out_issues
        issues += [
            i
            for i in (
                check_overnight(symbol, ts, ohlc, sessions),
                check_stale(symbol, ts, ohlc, sessions),
                check_volume(symbol, ts, volume, sessions),
            )
            if i is not None
        ]
        for issue in issues:
            self.report.add(issue)
        if self.drop_outliers and outliers.any():
            keep = ~outliers
            self.report.repairs.append(
                f"{symbol}: dropped {int(outliers.sum())} outlier bars: "
                + ", ".join(ist_text(t) for t in ts[outliers][:10])
            )
            ts, ohlc, volume = ts[keep], ohlc[keep], volume[keep]
        if self.fill_gaps:
            ts, ohlc, volume = self.fill(symbol, ts, ohlc, volume, iv)
        days = np.unique(ist_day(ts))
        self.report.notes.append(
            f"{symbol}: {len(ts):,} bars of {iv} min in {len(days)} sessions "
            f"{day_to_date(days[0])} → {day_to_date(days[-1])}"
        )
        index = pd.DatetimeIndex(ts.astype("datetime64[ns]"), name="timestamp").tz_localize("UTC")
        frame = pd.DataFrame(
            {
                "open": ohlc[:, 0],
                "high": ohlc[:, 1],
                "low": ohlc[:, 2],
                "close": ohlc[:, 3],
                "volume": volume,
            },
            index=index,
        )
        source = ", ".join(sorted({str(self.tables[int(f)].path) for f in np.unique(files)}))
        return BarSeries(symbol, frame, iv, source)

    def fill(
        self, symbol: str, ts: np.ndarray, ohlc: np.ndarray, volume: np.ndarray, iv: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat bars at the previous close (volume 0) for missing bars between two bars of a session."""
        sessions = self.sessions_for(ts)
        _, missing = check_sessions(symbol, ts, iv, sessions)
        if len(missing) == 0:
            return ts, ohlc, volume
        pos = np.searchsorted(ts, missing)  # the bar after each missing slot
        sess_m = sessions.index_of(missing)
        inside = (pos > 0) & (pos < len(ts))
        inside[inside] &= (sessions.index_of(ts[pos[inside] - 1]) == sess_m[inside]) & (
            sessions.index_of(ts[pos[inside]]) == sess_m[inside]
        )
        add = missing[inside]
        prev_close = ohlc[pos[inside] - 1, 3]
        left = len(missing) - len(add)
        if len(add):
            ts = np.r_[ts, add]
            ohlc = np.vstack([ohlc, np.repeat(prev_close[:, None], 4, axis=1)])
            volume = np.r_[volume, np.zeros(len(add))]
            order = np.argsort(ts, kind="stable")
            ts, ohlc, volume = ts[order], ohlc[order], volume[order]
        note = f"; {left} missing at a session's start or end left empty" if left else ""
        self.report.repairs.append(
            f"{symbol}: filled {len(add)} missing bars with flat bars at the previous close, volume 0{note}"
        )
        return ts, ohlc, volume

    # ---------------------------------------------------------------------------------- notes
    def merged_notes(self) -> list[str]:
        """Each file's reading notes, said once when files agree."""
        n = len(self.tables)
        seen: dict[str, list[int]] = {}
        for f, notes in enumerate(self.file_notes):
            for note in notes:
                seen.setdefault(note, []).append(f)
        out = []
        for note, files in seen.items():
            if len(files) == 1 and n > 1:
                out.append(f"{note} [{self.short[files[0]]}]")
            else:
                out.append(note + self.files_tag(len(files)))
        return out
