"""Day summaries agree with core.simulator.metrics on the same trades, number for number."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pandas as pd
import pytest

from core.clock import IST
from core.ledger import ALL, Ledger
from core.paths import atw_home
from core.simulator.costs import COMPONENTS, to_paisa
from core.simulator.metrics import TRADE_COLUMNS, compute_metrics
from core.simulator.trades import DETAIL_COLUMNS

DAYS = [dt.date(2024, 3, 4), dt.date(2024, 3, 5), dt.date(2024, 3, 6)]
STRATEGIES = ["ema_cross", "atr_reversal", "range_breakout"]


def make_trades(seed: int, days: list[dt.date] = DAYS, positions_per_day: int = 60) -> pd.DataFrame:
    """Random but consistent legs: scale-outs (2-3 legs), ties in exit and entry times, both sides,
    wins, losses and flat trades, prices on the 0.05 grid, charges itemised to the paisa."""
    rng = random.Random(seed)
    rows = []
    for day in days:
        open_ = dt.datetime.combine(day, dt.time(9, 15), IST)
        for _ in range(positions_per_day):
            side = rng.choice(["LONG", "SHORT"])
            sign = 1 if side == "LONG" else -1
            entry_t = open_ + dt.timedelta(minutes=5 * rng.randrange(0, 60))
            entry_px = Decimal(rng.randrange(2000, 40000)) * Decimal("0.05")
            n_legs = rng.choice([1, 1, 1, 2, 3])
            qtys = [rng.randrange(1, 40) for _ in range(n_legs)]
            exit_t = entry_t
            symbol, strategy = rng.choice(["AAA", "BBB", "CCC"]), rng.choice(STRATEGIES)
            for q in qtys:
                exit_t = exit_t + dt.timedelta(minutes=5 * rng.randrange(0, 6))
                exit_px = entry_px + Decimal(rng.randrange(-60, 61)) * Decimal("0.05")
                pts = (exit_px - entry_px) * sign
                gross = to_paisa(pts * q)
                parts = {c: Decimal(rng.randrange(0, 2500)) / 100 for c in COMPONENTS}
                charges = sum(parts.values(), Decimal(0))
                rows.append({
                    "symbol": symbol, "strategy": strategy, "side": side, "qty": q,
                    "entry_time": pd.Timestamp(entry_t), "entry_price": float(entry_px),
                    "exit_time": pd.Timestamp(exit_t), "exit_price": float(exit_px),
                    "points": float(pts), "gross_pnl": float(gross), "charges": float(charges),
                    "net_pnl": float(gross - charges), "exit_reason": rng.choice(["stop", "target", "signal"]),
                    "initial_stop": float(entry_px - sign * Decimal("2.5")), "confidence": rng.random(),
                    "signal_time": pd.Timestamp(entry_t - dt.timedelta(minutes=1)),
                    **{c: float(v) for c, v in parts.items()},
                })
    frame = pd.DataFrame(rows, columns=[*TRADE_COLUMNS, *DETAIL_COLUMNS])
    for c in ("entry_time", "exit_time", "signal_time"):
        frame[c] = pd.to_datetime(frame[c]).dt.tz_convert(IST)
    return frame


def expected(frame: pd.DataFrame) -> dict[str, object]:
    m = compute_metrics(frame.loc[:, list(TRADE_COLUMNS)], 1_000_000.0, DAYS)
    return {
        "trades": m["trades"], "legs": m["legs"], "wins": m["wins"], "losses": m["losses"],
        "win_rate": m["win_rate"], "points": m["total_points"], "gross": m["gross_pnl"],
        "charges": m["charges"], "net": m["net_pnl"], "best": m["best"], "worst": m["worst"],
        "max_drawdown": m["max_drawdown_rupees"],
    }


def actual(row: dict[str, object]) -> dict[str, object]:
    out = {k: row[k] for k in ("trades", "legs", "wins", "losses", "win_rate")}
    for k in ("points", "gross", "charges", "net", "best", "worst", "max_drawdown"):
        v = row[k]
        out[k] = None if v is None else float(v)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_day_summary_equals_metrics_per_day_and_strategy(seed: int) -> None:
    frame = make_trades(seed)
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", pd.Timestamp("2024-03-04 09:00", tz=IST))
        ledger.record_trades(sid, frame)
        for day in DAYS:
            rows = {r["strategy"]: r for r in ledger.day_summary(day, "paper")}
            on_day = frame[frame["exit_time"].dt.date == day]
            assert set(rows) == set(on_day["strategy"]) | {ALL}
            for strategy, row in rows.items():
                part = on_day if strategy == ALL else on_day[on_day["strategy"] == strategy]
                assert actual(row) == expected(part), (day, strategy)
                assert row["gross"] - row["charges"] == row["net"]


def test_scale_outs_count_once_and_legs_are_rows() -> None:
    frame = make_trades(4)
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", pd.Timestamp("2024-03-04 09:00", tz=IST))
        ledger.record_trades(sid, frame)
        total = [r for day in DAYS for r in ledger.day_summary(day, "paper") if r["strategy"] == ALL]
    assert sum(r["legs"] for r in total) == len(frame)
    positions = frame.groupby(["symbol", "strategy", "side", "entry_time"]).ngroups
    assert sum(r["trades"] for r in total) == positions < len(frame)


def test_recording_day_by_day_equals_recording_at_once() -> None:
    frame = make_trades(5)
    started = pd.Timestamp("2024-03-04 09:00", tz=IST)
    with Ledger.open() as ledger:
        for day in DAYS:
            sid = ledger.start_session(day, "paper", "cfg", "0.1.0", started)
            part = frame[frame["exit_time"].dt.date == day]
            ledger.record_trades(sid, part.iloc[: len(part) // 2])
            ledger.record_trades(sid, part.iloc[len(part) // 2:])
        piecewise = [ledger.day_summary(d, "paper") for d in DAYS]
        ledger.rebuild_day_summaries()
        assert [ledger.day_summary(d, "paper") for d in DAYS] == piecewise
    with Ledger.open(atw_home() / "other.sqlite") as other:
        sid = other.start_session(DAYS[0], "paper", "cfg", "0.1.0", started)
        other.record_trades(sid, frame)
        assert [other.day_summary(d, "paper") for d in DAYS] == piecewise


def test_rule_breaks_and_empty_sessions_have_rows() -> None:
    started = pd.Timestamp("2024-03-04 09:00", tz=IST)
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", started)
        assert [(r["strategy"], r["trades"], r["win_rate"], r["rule_breaks"]) for r in ledger.day_summary(DAYS[0])] == [
            (ALL, 0, None, 0)
        ]
        ledger.record_rule_break(sid, started + pd.Timedelta(hours=6), "entry_after_cutoff", strategy="ema_cross")
        ledger.record_rule_break(sid, started + pd.Timedelta(hours=6), "daily_loss_limit")
        rows = {r["strategy"]: r for r in ledger.day_summary(DAYS[0])}
        assert rows["ema_cross"]["rule_breaks"] == 1 and rows["ema_cross"]["trades"] == 0
        assert rows[ALL]["rule_breaks"] == 2
        ledger.record_trades(sid, make_trades(6, days=[DAYS[0]], positions_per_day=5))
        rows = {r["strategy"]: r for r in ledger.day_summary(DAYS[0])}
        assert rows[ALL]["rule_breaks"] == 2 and rows[ALL]["trades"] > 0


def test_equity_drawdown_is_intraday_from_zero() -> None:
    """Net legs +10, -30, +5, -20 in exit order: peak 10, trough -35 => drawdown 45."""
    frame = _flat_legs([10, -30, 5, -20], [10, 11, 12, 13])
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", pd.Timestamp("2024-03-04 09:00", tz=IST))
        ledger.record_trades(sid, frame)
        (row,) = [r for r in ledger.day_summary(DAYS[0]) if r["strategy"] == ALL]
    assert row["max_drawdown"] == Decimal("45.00") and row["net"] == Decimal("-35.00")
    assert (row["best"], row["worst"]) == (Decimal("10.00"), Decimal("-30.00"))


def _flat_legs(nets: list[int], exit_minutes: list[int], entry_minute: int = 0) -> pd.DataFrame:
    """Legs with zero points whose net is set through charges (one symbol each)."""
    base = make_trades(7, days=[DAYS[0]], positions_per_day=1).iloc[0]
    legs = []
    for i, (net, minute) in enumerate(zip(nets, exit_minutes)):
        row = base.copy()
        row["symbol"] = f"S{i}"
        row["entry_time"] = pd.Timestamp("2024-03-04 09:20", tz=IST) + pd.Timedelta(minutes=entry_minute)
        row["exit_time"] = row["entry_time"] + pd.Timedelta(minutes=minute)
        row["points"], row["exit_price"], row["gross_pnl"] = 0.0, row["entry_price"], 0.0
        for c in COMPONENTS:
            row[c] = 0.0
        row["brokerage"], row["charges"], row["net_pnl"] = float(-net), float(-net), float(net)
        legs.append(row)
    return pd.DataFrame(legs)


@pytest.mark.parametrize(("tie_order", "drawdown"), [((10, -5), "100.00"), ((-5, 10), "105.00")])
def test_simultaneous_exits_keep_recording_order_like_metrics(tie_order: tuple[int, int], drawdown: str) -> None:
    """+100, -100, then two exits at one instant: the order they were recorded in decides
    whether the drawdown is 100 or 105, in the ledger exactly as in metrics."""
    frame = _flat_legs([100, -100, *tie_order], [1, 2, 3, 3])
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", pd.Timestamp("2024-03-04 09:00", tz=IST))
        ledger.record_trades(sid, frame)
        (row,) = [r for r in ledger.day_summary(DAYS[0]) if r["strategy"] == ALL]
    assert row["max_drawdown"] == Decimal(drawdown)
    assert float(row["max_drawdown"]) == expected(frame)["max_drawdown"]
