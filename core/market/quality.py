"""The data-quality report and the checks that fill it.

A :class:`QualityReport` says how a bar file was read (``notes``), what is wrong or notable in
it (``issues``, each with a severity and the first few places), and what was changed
(``repairs``). The check functions below are pure and vectorized: they take numpy arrays of
one symbol's start-labelled bars and return issues (plus masks where the loader needs them).
The loader decides what to refuse, drop or repair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from core.market.bars import NS_PER_MINUTE
from core.market.formats import ist_text
from core.market.sessions import SessionTable, day_to_date, ist_day

Severity = Literal["error", "warning", "info"]
MAX_EXAMPLES = 5

# Outlier rule: a bar is an outlier when its close-to-close log return, scaled to one bar
# (divided by sqrt of the bars elapsed), or one of its wicks exceeds
# max(OUTLIER_K * robust sigma, OUTLIER_FLOOR * sqrt(interval minutes)). Robust sigma is
# 1.4826 * MAD of the scaled intraday returns. Real 1-minute NIFTY/BANKNIFTY moves reach ~30
# sigma (0.62% / 1.2%); bad prints are typically several percent away, hence K=40 and 2%.
OUTLIER_K = 40.0
OUTLIER_FLOOR = 0.02


@dataclass
class QualityIssue:
    """One kind of problem found in the data, with how many and where (first few places)."""

    kind: str
    severity: Severity
    count: int
    message: str
    examples: list[str] = field(default_factory=list)
    symbol: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class QualityReport:
    """How a file (or set of files) was read, what is wrong with it and what was repaired."""

    source: str
    notes: list[str] = field(default_factory=list)
    issues: list[QualityIssue] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    rows_read: int = 0
    bars_kept: int = 0

    @property
    def errors(self) -> list[QualityIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[QualityIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def infos(self) -> list[QualityIssue]:
        return [i for i in self.issues if i.severity == "info"]

    def find(self, kind: str, symbol: str | None = None) -> list[QualityIssue]:
        """The issues of ``kind`` (for one symbol when given)."""
        return [i for i in self.issues if i.kind == kind and (symbol is None or i.symbol == symbol)]

    def kinds(self) -> set[str]:
        return {i.kind for i in self.issues}

    def add(self, issue: QualityIssue | None) -> None:
        if issue is not None and issue.count > 0:
            self.issues.append(issue)

    def format(self) -> str:
        """The report as text a trader can read."""
        lines = [f"Data quality: {self.source}", "How it was read:"]
        lines += [f"  - {n}" for n in self.notes] or ["  - (nothing)"]
        lines.append(f"Rows read: {self.rows_read:,}   bars kept: {self.bars_kept:,}")
        for title, group in (
            ("Errors", self.errors),
            ("Warnings", self.warnings),
            ("Info", self.infos),
        ):
            if not group:
                lines.append(f"{title}: none")
                continue
            lines.append(f"{title} ({len(group)}):")
            for issue in group:
                who = f" [{issue.symbol}]" if issue.symbol else ""
                lines.append(f"  - {issue.kind}{who}: {issue.message}")
                lines += [f"      {e}" for e in issue.examples[:MAX_EXAMPLES]]
                if (
                    issue.count > len(issue.examples)
                    and issue.examples
                    and issue.kind not in _NO_MORE
                ):
                    lines.append(f"      ... {issue.count - len(issue.examples):,} more")
        if self.repairs:
            lines.append(f"Repairs ({len(self.repairs)}):")
            lines += [f"  - {r}" for r in self.repairs]
        else:
            lines.append("Repairs: none (no price was altered or invented)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "notes": list(self.notes),
            "issues": [i.to_dict() for i in self.issues],
            "repairs": list(self.repairs),
            "rows_read": self.rows_read,
            "bars_kept": self.bars_kept,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }

    def __str__(self) -> str:
        return self.format()


# issue kinds whose examples are not one per counted item (so "... N more" would mislead)
_NO_MORE = frozenset(
    {"gap", "overnight_gap", "largest_moves", "special_session", "zero_volume", "stale", "float32"}
)


# ------------------------------------------------------------------------------------ row checks

ROW_KINDS = ("unparseable", "nan_price", "nonpositive_price", "invalid_ohlc")


def row_problems(
    o: np.ndarray, h: np.ndarray, low: np.ndarray, c: np.ndarray, parse_problem: np.ndarray
) -> np.ndarray:
    """Per row, the index into ``ROW_KINDS`` of what makes it untradeable, or -1 when fine.

    ``parse_problem`` holds the reader's complaint about each row ("" when it parsed).
    """
    kind = np.full(len(o), -1, dtype=np.int8)
    prices = np.column_stack([o, h, low, c])
    bad_ohlc = (h < np.maximum(o, c)) | (low > np.minimum(o, c)) | (h < low)
    kind[bad_ohlc] = 3
    kind[(prices <= 0).any(axis=1)] = 2
    kind[np.isnan(prices).any(axis=1)] = 1
    kind[np.asarray(parse_problem, dtype=object) != ""] = 0
    return kind


def describe_row(kind: int, o: float, h: float, low: float, c: float, parse_problem: str) -> str:
    """What is wrong with one row, in a few words."""
    if kind == 0:
        return str(parse_problem)
    names = ("open", "high", "low", "close")
    values = (o, h, low, c)
    if kind == 1:
        return "empty/NaN " + ", ".join(n for n, v in zip(names, values) if np.isnan(v))
    if kind == 2:
        return ", ".join(f"{n} {v:g}" for n, v in zip(names, values) if v <= 0) + " (not positive)"
    if h < low:
        return f"high {h:g} < low {low:g}"
    if h < max(o, c):
        return f"high {h:g} < {'open' if o > c else 'close'} {max(o, c):g}"
    return f"low {low:g} > {'open' if o < c else 'close'} {min(o, c):g}"


# ----------------------------------------------------------------------------- series checks


def _hhmm(ns: int) -> str:
    return ist_text(ns)[11:]


def check_sessions(
    symbol: str, ts: np.ndarray, interval: int, sessions: SessionTable
) -> tuple[list[QualityIssue], np.ndarray]:
    """Missing bars inside sessions, whole missing trading days and off-grid bar starts.

    ``ts`` are sorted bar starts inside sessions; ``sessions`` covers their first to last day.
    Also reports the special sessions (Muhurat, extended days) the bars fall in. Returns the
    issues and the start instants of the missing bars.
    """
    issues: list[QualityIssue] = []
    iv = interval * NS_PER_MINUTE
    sess = sessions.index_of(ts)
    offset = ts - sessions.open_ns[sess]
    off_grid = offset % iv != 0
    if off_grid.any():
        rows = np.flatnonzero(off_grid)
        issues.append(
            QualityIssue(
                "off_grid",
                "warning",
                len(rows),
                f"{len(rows)} bars do not start on the {interval}-minute grid anchored at the session open",
                [ist_text(ts[i]) for i in rows[:MAX_EXAMPLES]],
                symbol,
            )
        )
    n_slots = -(-(sessions.close_ns - sessions.open_ns) // iv)
    has_bars = np.zeros(len(sessions), dtype=bool)
    has_bars[sess] = True
    first_slot = np.concatenate(([0], np.cumsum(n_slots)))
    present = np.zeros(int(first_slot[-1]), dtype=bool)
    present[first_slot[sess] + offset // iv] = True
    slot_session = np.repeat(np.arange(len(sessions)), n_slots)
    missing = ~present & has_bars[slot_session]
    miss_idx = np.flatnonzero(missing)
    miss_sess = slot_session[miss_idx]
    miss_start = sessions.open_ns[miss_sess] + (miss_idx - first_slot[miss_sess]) * iv
    if len(miss_idx):
        days = np.unique(miss_sess)
        examples = []
        for s in days[:MAX_EXAMPLES]:
            sel = miss_idx[miss_sess == s]
            runs = 1 + int(np.count_nonzero(np.diff(sel) > 1))
            start = sessions.open_ns[s] + (sel[0] - first_slot[s]) * iv
            end = min(
                sessions.open_ns[s] + (sel[-1] - first_slot[s] + 1) * iv, sessions.close_ns[s]
            )
            run_text = f", {runs} runs" if runs > 1 else ""
            examples.append(
                f"{ist_text(start)}–{_hhmm(end)} ({len(sel)} bar{'s' if len(sel) > 1 else ''}{run_text})"
            )
        issues.append(
            QualityIssue(
                "gap",
                "warning",
                len(miss_idx),
                f"{len(miss_idx)} bars missing inside {len(days)} session(s) "
                f"(times are bar starts; a span runs to the end of its last missing bar)",
                examples,
                symbol,
            )
        )
    lost = ~has_bars
    if lost.any():
        days = sessions.day[lost]
        issues.append(
            QualityIssue(
                "missing_day",
                "warning",
                len(days),
                f"{len(days)} NSE trading day(s) between the first and last day have no bars",
                [day_to_date(d).isoformat() for d in days[:MAX_EXAMPLES]],
                symbol,
            )
        )
    special = sessions.is_special() & has_bars
    if special.any():
        rows = np.flatnonzero(special)
        per_day = np.bincount(sess, minlength=len(sessions))
        examples = [
            f"{day_to_date(sessions.day[s])} {_hhmm(sessions.open_ns[s])}–{_hhmm(sessions.close_ns[s])} "
            f"({_special_kind(sessions, s)}; {per_day[s]} bars kept)"
            for s in rows[:MAX_EXAMPLES]
        ]
        issues.append(
            QualityIssue(
                "special_session",
                "info",
                len(rows),
                f"{len(rows)} session(s) with non-regular hours per the NSE calendar; bars kept as they fall "
                "inside those hours",
                examples,
                symbol,
            )
        )
    return issues, miss_start


def _special_kind(sessions: SessionTable, s: int) -> str:
    open_min = int((sessions.open_ns[s] // NS_PER_MINUTE + 330) % 1440)
    close_min = int((sessions.close_ns[s] // NS_PER_MINUTE + 330) % 1440)
    if open_min != 9 * 60 + 15 and close_min - open_min <= 90:
        return "Muhurat session"
    if close_min > 15 * 60 + 30:
        return f"extended session, {close_min - 930} min after 15:30"
    if close_min < 15 * 60 + 30:
        return "shortened session"
    return "special hours"


def tick_grid(prices: np.ndarray, tick: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest grid prices, and masks of float32 artefacts and genuinely off-tick prices.

    A price within one float32 ulp of a grid price (e.g. 1399.9000244140625 for 1399.9) is a
    representation artefact of that grid price; anything further away is off the grid.
    """
    decimals = max(0, int(np.ceil(-np.log10(tick) - 1e-9)) + 1)
    ticks = np.round(prices / tick)
    grid = np.round(ticks * tick, decimals)
    dist = np.abs(prices - grid)
    exact = dist <= np.maximum(1e-9, np.abs(grid) * 1e-12)
    ulp32 = np.spacing(np.abs(grid).astype(np.float32)).astype(np.float64)
    artefact = ~exact & (dist <= ulp32)
    off = ~exact & ~artefact & ~np.isnan(prices)
    return grid, artefact, off


def check_ticks(
    symbol: str, ts: np.ndarray, prices: np.ndarray, tick: float, where: Callable[[int], str]
) -> tuple[list[QualityIssue], np.ndarray, np.ndarray, np.ndarray]:
    """Off-tick prices and float32 artefacts in an (n, 4) OHLC array.

    Returns the issues, the grid prices, the artefact mask and the off-tick mask (n, 4).
    ``where(i)`` names bar i's place (file:line).
    """
    grid, artefact, off = tick_grid(prices, tick)
    issues = []
    names = ("open", "high", "low", "close")
    if artefact.any():
        rows, cols = np.nonzero(artefact)
        examples = [
            f"{where(r)} {ist_text(ts[r])} {names[k]} {float(prices[r, k])!r} -> {grid[r, k]:g}"
            for r, k in list(zip(rows, cols))[:3]
        ]
        issues.append(
            QualityIssue(
                "float32",
                "info",
                int(artefact.sum()),
                f"{int(artefact.sum()):,} prices are float32 renderings of tick-grid prices "
                f"(e.g. {float(prices[rows[0], cols[0]])!r} is {grid[rows[0], cols[0]]:g}); read as the grid price",
                examples,
                symbol,
            )
        )
    if off.any():
        rows, cols = np.nonzero(off)
        change = np.abs(prices - grid)[off]
        examples = [
            f"{where(r)} {ist_text(ts[r])} {names[k]} {prices[r, k]:g} (grid {grid[r, k]:g})"
            for r, k in list(zip(rows, cols))[:MAX_EXAMPLES]
        ]
        issues.append(
            QualityIssue(
                "off_tick",
                "warning",
                int(off.sum()),
                f"{int(off.sum()):,} prices in {len(np.unique(rows)):,} bars are off the {tick:g} tick grid "
                f"(largest distance {change.max():.4g})",
                examples,
                symbol,
            )
        )
    return issues, grid, artefact, off


def intraday_returns(
    ts: np.ndarray, close: np.ndarray, interval: int, sessions: SessionTable
) -> tuple[np.ndarray, np.ndarray]:
    """Close-to-close log returns inside sessions, scaled to one bar: (bar index, scaled return)."""
    sess = sessions.index_of(ts)
    same = sess[1:] == sess[:-1]
    bars = (ts[1:] - ts[:-1]) / (interval * NS_PER_MINUTE)
    r = np.log(close[1:] / close[:-1]) / np.sqrt(np.maximum(bars, 1.0))
    idx = np.flatnonzero(same) + 1
    return idx, r[same]


def check_outliers(
    symbol: str,
    ts: np.ndarray,
    ohlc: np.ndarray,
    interval: int,
    sessions: SessionTable,
    where: Callable[[int], str],
) -> tuple[list[QualityIssue], np.ndarray]:
    """Outlier moves and wicks (rule at the top of this module); also the largest moves as info.

    Returns the issues and a mask of outlier bars.
    """
    n = len(ts)
    mask = np.zeros(n, dtype=bool)
    idx, r = intraday_returns(ts, ohlc[:, 3], interval, sessions)
    if len(r) < 20:
        return [], mask
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    limit = max(OUTLIER_K * sigma, OUTLIER_FLOOR * np.sqrt(interval))
    o, h, low, c = ohlc.T
    upper = np.log(h / np.maximum(o, c))
    lower = np.log(np.minimum(o, c) / low)
    wick = np.maximum(upper, lower)
    big = np.abs(r) > limit
    # a bad print shows as a jump and a jump back: blame the first bar only
    back = big[1:] & big[:-1] & (idx[1:] == idx[:-1] + 1) & (np.sign(r[1:]) != np.sign(r[:-1]))
    big[1:] &= ~back
    mask[idx[big]] = True
    mask |= wick > limit
    issues = []
    top = np.argsort(-np.abs(r))[:3]
    sig = sigma if sigma > 0 else np.nan
    largest = [
        f"{ist_text(ts[idx[k]])} {np.expm1(r[k]) * 100:+.2f}% ({abs(r[k]) / sig:.0f} sigma)"
        for k in top
    ]
    issues.append(
        QualityIssue(
            "largest_moves",
            "info",
            len(largest),
            f"largest bar-to-bar close moves inside sessions (robust sigma {sigma * 100:.3f}% per bar; "
            f"outlier limit {limit * 100:.2f}%)",
            largest,
            symbol,
        )
    )
    if mask.any():
        rows = np.flatnonzero(mask)
        prev = np.r_[np.nan, ohlc[:-1, 3]]
        examples = []
        for b in rows[:MAX_EXAMPLES]:
            move = (c[b] / prev[b] - 1) * 100
            examples.append(
                f"{where(b)} {ist_text(ts[b])} close {c[b]:g} ({move:+.2f}% from {prev[b]:g}), "
                f"high {h[b]:g}, low {low[b]:g}"
            )
        issues.append(
            QualityIssue(
                "outlier",
                "warning",
                len(rows),
                f"{len(rows)} bars move more than {limit * 100:.2f}% in one bar (close-to-close or wick); "
                "check them against another source",
                examples,
                symbol,
            )
        )
    return issues, mask


def check_overnight(
    symbol: str, ts: np.ndarray, ohlc: np.ndarray, sessions: SessionTable
) -> QualityIssue | None:
    """The largest gaps between a session's first open and the previous session's last close (info)."""
    sess = sessions.index_of(ts)
    first = np.flatnonzero(np.r_[False, sess[1:] != sess[:-1]])
    if len(first) == 0:
        return None
    gap = ohlc[first, 0] / ohlc[first - 1, 3] - 1
    order = np.argsort(-np.abs(gap))[:MAX_EXAMPLES]
    examples = [
        f"{day_to_date(ist_day(ts[first[k]]))} open {ohlc[first[k], 0]:g} vs previous close "
        f"{ohlc[first[k] - 1, 3]:g} ({gap[k] * 100:+.2f}%)"
        for k in order
    ]
    return QualityIssue(
        "overnight_gap",
        "info",
        len(first),
        f"largest of {len(first)} overnight gaps (not outliers: prices may jump between sessions; "
        f"median |gap| {np.median(np.abs(gap)) * 100:.2f}%)",
        examples,
        symbol,
    )


def check_stale(
    symbol: str, ts: np.ndarray, ohlc: np.ndarray, sessions: SessionTable
) -> QualityIssue | None:
    """Flat bars (O=H=L=C) and bars repeating the previous bar's OHLC in the same session (info)."""
    flat = ohlc.max(axis=1) == ohlc.min(axis=1)
    sess = sessions.index_of(ts)
    repeat = np.r_[False, (ohlc[1:] == ohlc[:-1]).all(axis=1) & (sess[1:] == sess[:-1])]
    if not flat.any() and not repeat.any():
        return None
    rows = np.flatnonzero(flat | repeat)
    examples = [
        f"{ist_text(ts[b])} {'flat' if flat[b] else 'same as previous'} {ohlc[b, 3]:g}"
        for b in rows[:MAX_EXAMPLES]
    ]
    return QualityIssue(
        "stale",
        "info",
        len(rows),
        f"{int(flat.sum())} flat bar(s) (open=high=low=close), {int(repeat.sum())} bar(s) repeating "
        "the previous bar's OHLC",
        examples,
        symbol,
    )


def check_volume(
    symbol: str, ts: np.ndarray, volume: np.ndarray, sessions: SessionTable
) -> QualityIssue | None:
    """Bars with zero volume (info); says when every bar has none (index data)."""
    zero = volume == 0
    count = int(zero.sum())
    if count == 0:
        return None
    if count == len(volume):
        return QualityIssue(
            "zero_volume",
            "info",
            count,
            "volume is 0 on every bar (typical of index data): volume-based logic "
            "(VWAP, volume filters) cannot run on it",
            [],
            symbol,
        )
    sess = sessions.index_of(ts)
    at_open = zero & (ts == sessions.open_ns[sess])
    rows = np.flatnonzero(zero)
    return QualityIssue(
        "zero_volume",
        "info",
        count,
        f"{count} bars have volume 0, {int(at_open.sum())} of them the session's first bar "
        f"(of {len(np.unique(sess))} sessions)",
        [ist_text(ts[b]) for b in rows[:MAX_EXAMPLES]],
        symbol,
    )
