"""A deterministic synthetic market: plausible NSE-like 1-minute bars for demos, tests and benchmarks.

Bars sit on real NSE sessions (from the calendar, so holidays are skipped and special sessions
have their real hours), on the tick grid, with valid OHLC. The log-price is built from:

- regimes: ``trend`` (a drift per stretch, persistent direction, modest noise), ``chop``
  (a mean-reverting component: lots of range, little net move), ``high_vol`` (about 3x the
  noise with fat, clipped tails); ``mixed`` switches between them in stretches of about half a
  session, so regimes change both within and between days;
- an intraday U-shape in volatility (high at the open, low at midday, rising into the close);
- overnight gaps: usually small, occasionally 1.5-4.5%;
- volume following the same U-shape, larger on big moves and in ``high_vol``.

Everything is vectorized numpy; the same arguments (seed included) give identical bars.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from core.clock import NseCalendar, nse_calendar
from core.market.bars import NS_PER_MINUTE, BarSeries
from core.market.resample import resample
from core.market.sessions import SessionTable

Regime = Literal["trend", "chop", "high_vol", "mixed"]
REGIMES = ("trend", "chop", "high_vol")
TREND, CHOP, HIGH_VOL = range(3)

# per-minute parameters (log-price units)
_SIGMA = np.array([0.00045, 0.00010, 0.00140])  # random-walk noise per regime
_DRIFT = np.array([0.012, 0.0, 0.002]) / 375  # |drift| per minute per regime (trend: 1.2%/day)
_CHOP_PHI, _CHOP_SIGMA = 0.96, 0.00060  # mean-reverting component (chop only)
_VOLUME_MULT = np.array([1.0, 0.8, 2.2])
_MEAN_BLOCK = 180  # mean length of a regime stretch in "mixed", in minutes

# The bundled demo set (resources/demo): symbol, regime, seed, start price.
DEMO_START = dt.date(2025, 1, 1)
DEMO_SESSIONS = 20
DEMO_SPECS = (
    ("DEMO_TREND", "trend", 101, 1500.0),
    ("DEMO_CHOP", "chop", 202, 800.0),
    ("DEMO_VOL", "high_vol", 303, 2400.0),
)


def first_sessions(start: dt.date, count: int, calendar: NseCalendar | None = None) -> SessionTable:
    """The first ``count`` NSE sessions on or after ``start``."""
    cal = calendar or nse_calendar()
    if count <= 0:
        raise ValueError(f"sessions must be positive, not {count}")
    last_year = getattr(cal, "last_year", start.year + 100)
    end = min(start + dt.timedelta(days=int(count * 1.6) + 20), dt.date(last_year, 12, 31))
    table = SessionTable.between(start, end, cal)
    if len(table) < count:
        raise ValueError(
            f"the NSE calendar has only {len(table)} sessions from {start} to {end}; "
            f"asked for {count}"
        )
    return SessionTable(table.day[:count], table.open_ns[:count], table.close_ns[:count])


def generate_series(
    symbol: str,
    start: dt.date,
    sessions: int,
    *,
    seed: int,
    regime: Regime = "mixed",
    start_price: float = 1000.0,
    tick: float = 0.05,
    interval_minutes: int = 1,
    calendar: NseCalendar | None = None,
) -> BarSeries:
    """``sessions`` NSE sessions of synthetic bars for ``symbol`` from ``start`` (see module doc)."""
    if regime not in (*REGIMES, "mixed"):
        raise ValueError(f"regime must be one of {', '.join((*REGIMES, 'mixed'))}, not {regime!r}")
    if start_price <= 0 or tick <= 0:
        raise ValueError("start_price and tick must be positive")
    table = first_sessions(start, sessions, calendar)
    rng = np.random.default_rng(seed)
    per = ((table.close_ns - table.open_ns) // NS_PER_MINUTE).astype(np.int64)
    n = int(per.sum())
    sess = np.repeat(np.arange(len(per)), per)
    first = np.r_[0, np.cumsum(per)[:-1]]
    pos = np.arange(n) - first[sess]
    ts = table.open_ns[sess] + pos * NS_PER_MINUTE

    tau = (pos + 0.5) / per[sess]
    shape = 0.75 + 1.6 * np.exp(-tau / 0.05) + 0.6 * np.exp(-(1.0 - tau) / 0.08)
    shape /= shape.mean()

    reg = _regimes(rng, regime, n)
    blocks = np.r_[True, (reg[1:] != reg[:-1]) | (pos[1:] == 0)]
    block_id = np.cumsum(blocks) - 1
    direction = _directions(rng, int(block_id[-1]) + 1)
    z = rng.standard_normal(n)
    tails = np.clip(rng.standard_t(4, n) / np.sqrt(2.0), -6.0, 6.0)
    z = np.where(reg == HIGH_VOL, tails, z)
    sigma = _SIGMA[reg] * shape
    r = direction[block_id] * _DRIFT[reg] + sigma * z
    r += np.where(reg == CHOP, _mean_reverting(rng, pos, first, sess, n), 0.0)

    jitter = rng.standard_normal(n) * 0.15 * sigma
    gaps = rng.normal(0.0, 0.004, len(per))
    big = rng.random(len(per)) < 0.06
    gaps = np.where(
        big, rng.choice([-1.0, 1.0], len(per)) * rng.uniform(0.015, 0.045, len(per)), gaps
    )
    gaps[0] = 0.0
    step_open = np.where(pos == 0, gaps[sess], jitter)
    log_close = np.log(start_price) + np.cumsum(step_open + r)
    close = np.exp(log_close)
    open_ = np.exp(log_close - r)

    wick = np.abs(rng.standard_normal((2, n))) * 0.6 * np.maximum(sigma, _SIGMA[TREND] * shape)
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    o, h, lo, c = _on_grid(open_, high, low, close, tick)

    move = np.abs(r) / (_SIGMA[TREND] * shape)
    volume = 20_000 * shape**1.5 * _VOLUME_MULT[reg] * rng.lognormal(0.0, 0.5, n) * (1 + 0.3 * move)
    volume = np.round(volume)

    index = pd.DatetimeIndex(ts.astype("datetime64[ns]"), name="timestamp").tz_localize("UTC")
    frame = pd.DataFrame(
        {"open": o, "high": h, "low": lo, "close": c, "volume": volume}, index=index
    )
    series = BarSeries(symbol.upper(), frame, 1, f"synthetic:{regime}:seed={seed}")
    if interval_minutes != 1:
        series = resample(series, interval_minutes, calendar=calendar)
    return series


def _regimes(rng: np.random.Generator, regime: str, n: int) -> np.ndarray:
    if regime != "mixed":
        return np.full(n, REGIMES.index(regime), dtype=np.int64)
    count = n // 20 + 10
    lengths = rng.geometric(1.0 / _MEAN_BLOCK, count)
    steps = rng.integers(1, 3, count)  # never the same regime twice in a row
    labels = (rng.integers(0, 3) + np.cumsum(steps)) % 3
    reg = np.repeat(labels, lengths)
    while len(reg) < n:  # practically never: the draws above cover n many times over
        reg = np.r_[reg, reg]
    return reg[:n]


def _directions(rng: np.random.Generator, blocks: int) -> np.ndarray:
    """+1/-1 per stretch; a trend keeps its direction with probability 0.7."""
    flips = rng.random(blocks) < 0.3
    start = rng.choice([-1.0, 1.0])
    return start * np.where(np.cumsum(flips) % 2 == 0, 1.0, -1.0)


def _mean_reverting(
    rng: np.random.Generator, pos: np.ndarray, first: np.ndarray, sess: np.ndarray, n: int
) -> np.ndarray:
    """Increments of an AR(1) deviation restarting each session, vectorized per session.

    x_t = phi * x_{t-1} + e_t equals phi^t * cumsum(e_k * phi^-k); sessions are at most a few
    hundred minutes long, so phi^-k stays well inside float64.
    """
    e = rng.standard_normal(n) * _CHOP_SIGMA
    scale = _CHOP_PHI ** -pos.astype(np.float64)
    acc = np.cumsum(e * scale)
    base = np.r_[0.0, acc][first]  # cumsum before each session's first bar
    x = (acc - base[sess]) / scale
    return np.diff(np.r_[0.0, x]) * (pos > 0) + x * (pos == 0)


def _on_grid(
    o: np.ndarray, h: np.ndarray, low: np.ndarray, c: np.ndarray, tick: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Snap to the tick grid keeping low <= open, close <= high and prices positive."""
    decimals = max(0, int(np.ceil(-np.log10(tick) - 1e-9)) + 1)

    def snap(x: np.ndarray) -> np.ndarray:
        return np.round(np.round(x / tick) * tick, decimals)

    o, c = snap(o), snap(c)
    h = np.maximum(snap(h), np.maximum(o, c))
    low = np.minimum(snap(low), np.minimum(o, c))
    floor = np.round(tick, decimals)
    return np.maximum(o, floor), np.maximum(h, floor), np.maximum(low, floor), np.maximum(c, floor)


def write_demo_data(out_dir: str | Path, calendar: NseCalendar | None = None) -> list[Path]:
    """Write the bundled demo set (``DEMO_SPECS``) as canonical CSVs into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for symbol, regime, seed, price in DEMO_SPECS:
        series = generate_series(
            symbol,
            DEMO_START,
            DEMO_SESSIONS,
            seed=seed,
            regime=regime,
            start_price=price,
            calendar=calendar,
        )
        path = out / f"{symbol}.csv"
        write_csv(series, path)
        written.append(path)
    return written


def write_csv(series: BarSeries, path: str | Path, decimals: int = 2) -> None:
    """Write ``series`` in the canonical layout: timestamp (+05:30), open, high, low, close, volume, symbol."""
    f = series.frame
    stamps = f.index.strftime("%Y-%m-%dT%H:%M:%S") + "+05:30"
    frame = pd.DataFrame(
        {
            "timestamp": stamps,
            **{k: f[k].map(f"{{:.{decimals}f}}".format) for k in ("open", "high", "low", "close")},
            "volume": f["volume"].astype(np.int64),
            "symbol": series.symbol,
        }
    )
    frame.to_csv(path, index=False, lineterminator="\n")
