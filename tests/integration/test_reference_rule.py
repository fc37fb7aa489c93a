"""The EMA-cross reference rule (DESIGN.md §4), re-implemented here from its text, trade for trade.

The implementation below shares no code with the simulator: it computes EMAs with TA-Lib and
walks the bars in a plain loop, doing exactly what the rule's sentences say. ``atw sim`` must
produce the same trades on synthetic data and on the real NIFTY 1-minute files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.clock import IST, nse_calendar
from tests.conftest import nifty_files, synthetic

talib = pytest.importorskip("talib", reason="TA-Lib is a test dependency (dev extra)")

CUTOFF = dt.time(15, 0)
ONE_MINUTE = pd.Timedelta(minutes=1)


def reference_trades(bars: pd.DataFrame, fast: int, slow: int) -> list[tuple]:
    """(side, entry_time, entry_price, exit_time, exit_price) per the rule's text."""
    close = bars["close"].to_numpy(dtype=float)
    opens = bars["open"].to_numpy(dtype=float)
    times = list(bars.index)
    f, s = talib.EMA(close, fast), talib.EMA(close, slow)
    trades: list[tuple] = []
    pos, entry_time, entry_price = 0, None, None
    pending = 0  # side decided at the previous close, to fill at this bar's open

    def close_position(when: pd.Timestamp, price: float) -> None:
        nonlocal pos
        trades.append(("LONG" if pos > 0 else "SHORT", entry_time, entry_price, when, price))
        pos = 0

    for t, when in enumerate(times):
        new_session = t > 0 and when.date() != times[t - 1].date()
        at_or_after_cutoff = when.time() >= CUTOFF
        # "At the first bar that starts at or after 15:00 an open position exits at that bar's open"
        if pos != 0 and at_or_after_cutoff:
            close_position(when, opens[t])
        # "filled at the open of bar t+1, only when t+1 is in the same session and starts before 15:00"
        if pending and not new_session and not at_or_after_cutoff:
            if pos == -pending:  # "it reverses an opposite position"
                close_position(when, opens[t])
            if pos == 0:
                pos, entry_time, entry_price = pending, when, opens[t]
        pending = 0
        # "a session that ends before 15:00 exits at its last bar's close" (stamped at the bar's end)
        last_of_session = t + 1 == len(times) or times[t + 1].date() != when.date()
        if pos != 0 and last_of_session:
            close_position(when + ONE_MINUTE, close[t])
        # "a cross up at bar t ... or a cross down is decided at t's close"
        if t > 0:
            if f[t] > s[t] and f[t - 1] <= s[t - 1]:
                pending = 1
            elif f[t] < s[t] and f[t - 1] >= s[t - 1]:
                pending = -1
            if pending == pos:
                pending = 0
    return trades


def atw_sim_trades(files: list[Path], tmp_path: Path, fast: int, slow: int) -> list[tuple]:
    argv = ["sim", *[x for f in files for x in ("--data", str(f))], "--strategy", "ema_cross",
            "--set", f"fast={fast}", "--set", f"slow={slow}", "--set", "stop=none", "--set", "trail=none",
            "--set", "target=none", "--qty", "1", "--costs", "none", "--out", str(tmp_path), "--json"]
    assert main(argv) == 0
    got = pd.read_csv(tmp_path / "trades.csv")
    assert set(got["charges"]) <= {0.0} and set(got["qty"]) <= {1}
    return [
        (r.side, pd.Timestamp(r.entry_time), r.entry_price, pd.Timestamp(r.exit_time), r.exit_price)
        for r in got.itertuples()
    ]


def assert_same_trades(ours: list[tuple], ref: list[tuple]) -> None:
    assert len(ref) > 0
    for k, (a, b) in enumerate(zip(ours, ref)):
        assert a[0] == b[0] and a[1] == b[1] and a[3] == b[3], f"trade {k}: {a} != {b}"
        assert a[2] == pytest.approx(b[2], abs=1e-9) and a[4] == pytest.approx(b[4], abs=1e-9), f"trade {k}"
    assert len(ours) == len(ref)


def _sorted(trades: list[tuple]) -> list[tuple]:
    return sorted(trades, key=lambda x: (x[3], x[1]))


@pytest.mark.parametrize(("fast", "slow"), [(9, 21), (5, 34)])
def test_reference_rule_on_synthetic_data(tmp_path: Path, fast: int, slow: int) -> None:
    series = synthetic("SYN", sessions=40, seed=3)
    path = tmp_path / "SYN.csv"
    frame = series.frame.copy()
    frame.index = [t.isoformat() for t in frame.index]
    frame.rename_axis("timestamp").to_csv(path)
    ours = atw_sim_trades([path], tmp_path / "out", fast, slow)
    ref = reference_trades(series.frame, fast, slow)
    assert_same_trades(ours, _sorted(ref))


def test_reference_rule_on_a_session_that_ends_before_the_cutoff(tmp_path: Path) -> None:
    frame = synthetic("SYN", sessions=3, seed=5).frame
    day2 = sorted(set(frame.index.date))[1]
    cut = frame[~((frame.index.date == day2) & (frame.index.time >= dt.time(11, 0)))]
    path = tmp_path / "SYN.csv"
    out = cut.copy()
    out.index = [t.isoformat() for t in out.index]
    out.rename_axis("timestamp").to_csv(path)
    ours = atw_sim_trades([path], tmp_path / "out", 5, 13)
    ref = reference_trades(cut, 5, 13)
    assert_same_trades(ours, _sorted(ref))
    day2_exits = [t for t in ref if t[3].date() == day2]
    assert day2_exits and max(t[3] for t in day2_exits).time() <= dt.time(11, 0)


def independent_nifty_bars(files: list[Path]) -> pd.DataFrame:
    """The vendor files read with plain pandas: end labels shifted to starts, session rows kept."""
    raw = pd.concat(
        pd.read_csv(f, header=None, names=["sym", "date", "time", "open", "high", "low", "close", "v", "oi"],
                    dtype={"date": str, "time": str})
        for f in files
    )
    end = pd.to_datetime(raw["date"] + " " + raw["time"], format="%Y%m%d %H:%M").dt.tz_localize(IST)
    raw.index = pd.DatetimeIndex(end - ONE_MINUTE)
    raw = raw.sort_index()
    cal = nse_calendar()
    table = cal.table(raw.index[0].date(), raw.index[-1].date())
    opens = pd.Series(pd.to_datetime(table["open_ns"].to_numpy(), utc=True), index=table.index)
    closes = pd.Series(pd.to_datetime(table["close_ns"].to_numpy(), utc=True), index=table.index)
    days = pd.Index(raw.index.date)
    o = opens.reindex(days).to_numpy()
    c = closes.reindex(days).to_numpy()
    keep = (raw.index >= o) & (raw.index < c)
    return raw.loc[keep, ["open", "high", "low", "close"]]


@pytest.mark.realdata
def test_reference_rule_on_real_nifty_one_minute_files(tmp_path: Path) -> None:
    files = nifty_files()
    bars = independent_nifty_bars(files)
    assert len(bars) > 190_000
    assert bars.index[0] == pd.Timestamp("2021-01-01 09:15", tz=IST)
    ours = atw_sim_trades(files, tmp_path, 9, 21)
    ref = _sorted(reference_trades(bars, 9, 21))
    assert len(ref) > 5_000
    assert_same_trades(ours, ref)
    # nothing carried overnight, no entry at or after 15:00
    assert all(t[1].date() == t[3].date() for t in ours)
    assert all(t[1].time() < CUTOFF for t in ours)
    assert np.isfinite([t[4] for t in ours]).all()
