"""The ledger repository: exact money, orders and fills, simulator runs, export and snapshots."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from core.clock import IST
from core.errors import LedgerError
from core.ledger import ALL, Ledger
from core.ledger.types import to_paise, to_units
from core.simulator.costs import cost_model
from core.simulator.metrics import TRADE_COLUMNS
from core.simulator.output import write_trades_csv
from core.simulator.run import SimResult, simulate
from core.simulator.trades import DETAIL_COLUMNS
from core.strategies import REGISTRY, create
from tests.conftest import synthetic
from tests.unit.test_ledger_summaries import DAYS, make_trades

T0 = pd.Timestamp("2024-03-04 09:00", tz=IST)
CREATED = pd.Timestamp("2026-11-22 18:00", tz=IST)


@lru_cache(maxsize=2)
def sim(seed: int = 21) -> SimResult:
    """A real simulator run: two synthetic instruments, all four strategies, Zerodha charges."""
    series = [synthetic("ALPHA", sessions=12, seed=seed), synthetic("BETA", sessions=12, seed=seed + 1, regime="trend")]
    strategies = [create(name, qty="25", **({"partial": "1r:0.5", "stop": "1.5atr"} if name == "ema_cross" else {}))
                  for name in sorted(REGISTRY)]
    return simulate(series, strategies, costs=cost_model("zerodha"), priority="all")


def record(ledger: Ledger, result: SimResult, fingerprint: str = "fp-1") -> int:
    return ledger.record_sim_run(
        result.report, result.trades, engine="fast", costs="zerodha", strategies=sorted(REGISTRY),
        parameters={"qty": 25}, data_fingerprint=fingerprint, created_at=CREATED,
    )


def no_negative_zero(frame: pd.DataFrame) -> pd.DataFrame:
    """The simulator writes a zero-P&L short's points/gross as -0.0; the ledger stores integers (0)."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c] + 0.0
    return out


# -- money -----------------------------------------------------------------------------------------


def test_ten_thousand_random_amounts_sum_exactly_to_the_paisa() -> None:
    rng = random.Random(3)
    frame = make_trades(8, days=[DAYS[0]], positions_per_day=1).iloc[[0] * 10_000].reset_index(drop=True)
    charges = [Decimal(rng.randrange(0, 10**7)) / 100 for _ in range(10_000)]
    nets = [Decimal(rng.randrange(-10**8, 10**8)) / 100 for _ in range(10_000)]
    frame["symbol"] = [f"S{i}" for i in range(10_000)]  # every row its own position
    frame["gross_pnl"] = [float(n + c) for n, c in zip(nets, charges)]
    frame["charges"] = [float(c) for c in charges]
    frame["net_pnl"] = [float(n) for n in nets]
    frame["brokerage"] = frame["charges"]
    for c in ("stt", "exchange_txn", "sebi_fee", "stamp_duty", "gst"):
        frame[c] = 0.0
    frame["points"], frame["exit_price"] = 0.0, frame["entry_price"]
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", T0)
        ledger.record_trades(sid, frame)
        (row,) = [r for r in ledger.day_summary(DAYS[0]) if r["strategy"] == ALL]
        back = ledger.trades_frame()
    assert row["net"] == sum(nets, Decimal(0))
    assert row["charges"] == sum(charges, Decimal(0))
    assert row["gross"] == sum(nets, Decimal(0)) + sum(charges, Decimal(0))
    assert [Decimal(repr(v)) for v in back["net_pnl"]] == nets  # each amount back as the same decimal


def test_conversions_are_exact_or_refuse() -> None:
    assert to_paise(0.1 + 0.2 - 0.3 + 1399.9) == 139990
    assert to_paise("12.30") == 1230 and to_paise(Decimal("-0.01")) == -1 and to_paise(7) == 700
    assert to_units(1399.9) == 13_999_000 and to_units("0.0025") == 25
    assert to_paise(-2.73 - 0.01) == -274  # -2.7399999999999998: float noise, not a sub-paisa amount
    with pytest.raises(LedgerError, match="whole number of paise"):
        to_paise(Decimal("0.005"))
    with pytest.raises(LedgerError, match="whole number of paise"):
        to_paise(2.745)
    with pytest.raises(LedgerError, match="4 decimals"):
        to_units(1.00001)
    with pytest.raises(LedgerError, match="finite"):
        to_paise(float("nan"))


def test_inconsistent_trades_are_refused_whole() -> None:
    frame = make_trades(9, days=[DAYS[0]], positions_per_day=5)
    bad = frame.copy()
    bad.loc[3, "net_pnl"] = bad.loc[3, "net_pnl"] + 0.01
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", T0)
        with pytest.raises(LedgerError, match=r"gross_pnl .* != net_pnl"):
            ledger.record_trades(sid, bad)
        bad = frame.copy()
        bad.loc[2, "points"] = 99.0
        with pytest.raises(LedgerError, match="points"):
            ledger.record_trades(sid, bad)
        bad = frame.copy()
        bad.loc[1, "strategy"] = ALL
        with pytest.raises(LedgerError, match="reserved"):
            ledger.record_trades(sid, bad)
        assert len(ledger.trades_frame()) == 0
        with pytest.raises(LedgerError, match="no session"):
            ledger.record_trades(sid + 1, frame)


def test_trades_round_trip_with_detail_columns() -> None:
    frame = make_trades(10)
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", T0)
        ledger.record_trades(sid, frame)
        back = ledger.trades_frame()
    cols = [*TRADE_COLUMNS, *DETAIL_COLUMNS]
    assert list(back.columns[: len(cols)]) == cols
    by_day = frame["exit_time"].dt.date.sort_values(kind="stable").index  # listed by exit day, then as recorded
    expect = no_negative_zero(frame.loc[by_day].reset_index(drop=True))
    pd.testing.assert_frame_equal(no_negative_zero(back[cols]), expect[cols], check_dtype=False)
    assert str(back["entry_time"].dt.tz) == "Asia/Kolkata"


# -- sessions, orders, fills ------------------------------------------------------------------------


def test_orders_fills_and_idempotent_fill_redelivery() -> None:
    with Ledger.open() as ledger:
        sid = ledger.start_session(DAYS[0], "paper", "cfg", "0.1.0", T0)
        ledger.record_order(sid, "atw-1", symbol="INFY", strategy="ema_cross", side="BUY", qty=10, order_type="MARKET",
                            purpose="entry", status="PENDING", created_at=T0, trace_id="t1")
        ledger.update_order("atw-1", updated_at=T0 + pd.Timedelta(seconds=1), status="OPEN", broker_order_id="B1")
        first = ledger.record_fill("atw-1", "F1", 6, "1399.90", T0 + pd.Timedelta(seconds=2), trace_id="t1")
        assert ledger.record_fill("atw-1", "F1", 6, 1399.9, T0 + pd.Timedelta(seconds=2)) == first
        with pytest.raises(LedgerError, match="different fill"):
            ledger.record_fill("atw-1", "F1", 5, 1399.9, T0 + pd.Timedelta(seconds=2))
        with pytest.raises(LedgerError, match="would take order"):
            ledger.record_fill("atw-1", "F2", 5, 1400, T0 + pd.Timedelta(seconds=3))
        ledger.record_fill("atw-1", "F2", 4, 1400, T0 + pd.Timedelta(seconds=3))
        with pytest.raises(LedgerError, match="already recorded"):
            ledger.record_order(sid, "atw-1", symbol="INFY", strategy="ema_cross", side="BUY", qty=10,
                                order_type="MARKET", purpose="entry", status="PENDING", created_at=T0)
        with pytest.raises(LedgerError, match="BUY or SELL"):
            ledger.record_order(sid, "atw-2", symbol="INFY", strategy="x", side="LONG", qty=1, order_type="MARKET",
                                purpose="entry", status="PENDING", created_at=T0)
        with pytest.raises(LedgerError, match="does not have"):
            ledger.record_fill("nope", "F9", 1, 1, T0)
        ledger.end_session(sid, T0 + pd.Timedelta(hours=7))
        snap = ledger.snapshot()
    assert snap.counts()["orders"] == 1 and snap.counts()["fills"] == 2
    (order,) = snap.orders
    assert ("status", "OPEN") in order and ("broker_order_id", "B1") in order


def test_unknown_mode_and_bad_day_are_refused() -> None:
    with Ledger.open() as ledger:
        with pytest.raises(LedgerError, match="unknown mode"):
            ledger.start_session(DAYS[0], "backtest", "cfg", "0.1.0", T0)
        with pytest.raises(LedgerError, match="YYYY-MM-DD"):
            ledger.day_summary("4 March")


# -- simulator runs ---------------------------------------------------------------------------------


def test_sim_run_totals_equal_the_report_to_the_paisa() -> None:
    result = sim()
    report = result.report
    with Ledger.open() as ledger:
        run = record(ledger, result)
        days = ledger.days("sim")
        assert len(days) == report["days"] and {d.sim_run_id for d in days} == {run}
        rows = [r for d in days for r in ledger.day_summary(d.day, "sim")]
    alls = [r for r in rows if r["strategy"] == ALL]
    assert sum(r["trades"] for r in alls) == report["trades"] and sum(r["legs"] for r in alls) == report["legs"]
    assert report["legs"] > report["trades"]  # the run has scale-outs
    for key, field in (("gross_pnl", "gross"), ("charges", "charges"), ("net_pnl", "net")):
        assert sum((r[field] for r in alls), Decimal(0)) == Decimal(repr(report[key])).quantize(Decimal("0.01"))
    assert sum(r["wins"] for r in alls) == report["wins"] and sum(r["losses"] for r in alls) == report["losses"]
    assert max(r["best"] for r in alls if r["best"] is not None) == Decimal(repr(report["best"])).quantize(Decimal("0.01"))
    for name, m in report["per_strategy"].items():
        mine = [r for r in rows if r["strategy"] == name]
        assert sum(r["trades"] for r in mine) == m["trades"]
        assert sum((r["net"] for r in mine), Decimal(0)) == Decimal(repr(m["net_pnl"])).quantize(Decimal("0.01"))


def test_sim_run_export_is_the_simulators_trades_csv() -> None:
    result = sim()
    with Ledger.open() as ledger:
        record(ledger, result)
        exported = ledger.export_trades(result.report["first_day"], result.report["last_day"])
        full = ledger.trades_frame(mode="sim")
        runs = ledger.sim_runs()
    assert tuple(exported.columns) == TRADE_COLUMNS
    mine, theirs = io.StringIO(), io.StringIO()
    write_trades_csv(exported, mine)
    write_trades_csv(no_negative_zero(result.trades), theirs)
    assert mine.getvalue() == theirs.getvalue()
    cols = [*TRADE_COLUMNS, *DETAIL_COLUMNS]
    pd.testing.assert_frame_equal(no_negative_zero(full[cols]), no_negative_zero(result.trades[cols]), check_dtype=False)
    assert runs[0]["engine"] == "fast" and runs[0]["strategies"] == sorted(REGISTRY)


def test_a_later_run_over_the_same_days_does_not_add_up() -> None:
    first, second = sim(21), sim(31)
    with Ledger.open() as ledger:
        run1 = record(ledger, first, "fp-a")
        run2 = record(ledger, second, "fp-b")
        latest = ledger.days("sim")
        older = ledger.days("sim", sim_run_id=run1)
        day = latest[0].day
        assert {r["sim_run_id"] for r in ledger.day_summary(day)} == {run2}
        assert {r["sim_run_id"] for r in ledger.day_summary(day, sim_run_id=run1)} == {run1}
        assert len(ledger.export_trades(day, latest[-1].day)) == len(second.trades)
        assert len(ledger.export_trades(day, latest[-1].day, sim_run_id=run1)) == len(first.trades)
    assert {d.sim_run_id for d in latest} == {run2} and {d.sim_run_id for d in older} == {run1}
    assert sum(d.trades for d in latest) == second.report["trades"]
    assert sum(d.trades for d in older) == first.report["trades"]


def test_report_that_disagrees_with_its_trades_is_refused() -> None:
    result = sim()
    report = dict(result.report, net_pnl=result.report["net_pnl"] + 0.01)
    with Ledger.open() as ledger:
        with pytest.raises(LedgerError, match="net_pnl"):
            ledger.record_sim_run(report, result.trades, engine="fast", costs="zerodha", strategies=["x"],
                                  parameters={}, data_fingerprint="fp", created_at=CREATED)
        assert ledger.sim_runs() == [] and ledger.days() == []


def test_sim_and_paper_days_are_reviewed_with_the_same_queries() -> None:
    result = sim()
    day = dt.date.fromisoformat(result.report["first_day"])
    paper = result.trades[result.trades["exit_time"].dt.date == day]
    with Ledger.open() as ledger:
        record(ledger, result)
        sid = ledger.start_session(day, "paper", "cfg", "0.1.0", T0)
        ledger.record_trades(sid, paper)
        both = ledger.day_summary(day)
        per_mode = {(r["mode"], r["strategy"]): r for r in both}
        assert {m for m, _ in per_mode} == {"paper", "sim"}
        for (mode, strategy), row in per_mode.items():
            if mode == "paper":
                other = per_mode[("sim", strategy)]
                assert {k: v for k, v in row.items() if k not in ("mode", "sim_run_id")} == {
                    k: v for k, v in other.items() if k not in ("mode", "sim_run_id")
                }
        assert [d.mode for d in ledger.days() if d.day == day] == ["paper", "sim"]


# -- snapshots -----------------------------------------------------------------------------------------


def _build(path: Path, clock_offset: pd.Timedelta, nudge: bool = False) -> Ledger:
    frame = make_trades(11)
    if nudge:
        frame.loc[5, "charges"] += 0.01
        frame.loc[5, "brokerage"] += 0.01
        frame.loc[5, "net_pnl"] -= 0.01
    ledger = Ledger.open(path)
    for day in DAYS:
        sid = ledger.start_session(day, "paper", "cfg", "0.1.0", T0 + clock_offset)
        ledger.record_order(sid, f"atw-{day}", symbol="AAA", strategy="ema_cross", side="SELL", qty=3,
                            order_type="LIMIT", limit_price=101.05, purpose="exit", status="PENDING",
                            created_at=T0 + clock_offset)
        ledger.update_order(f"atw-{day}", updated_at=T0 + 2 * clock_offset, status="COMPLETE")
        ledger.record_fill(f"atw-{day}", f"fill-{day}", 3, 101.05, pd.Timestamp(f"{day} 10:00", tz=IST))
        ledger.record_rule_break(sid, pd.Timestamp(f"{day} 15:01", tz=IST), "entry_after_cutoff", strategy="ema_cross")
        ledger.record_trades(sid, frame[frame["exit_time"].dt.date == day])
        ledger.end_session(sid, T0 + 3 * clock_offset)
    return ledger


def test_snapshot_equality_ignores_ids_and_wall_clock_but_not_a_paisa(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "pad.sqlite") as pad:  # different surrogate ids in the second ledger
        pad.start_session(DAYS[0], "live", "x", "0", T0)
    with _build(tmp_path / "live.sqlite", pd.Timedelta(seconds=1)) as live, \
            _build(tmp_path / "rebuilt.sqlite", pd.Timedelta(minutes=7)) as rebuilt, \
            _build(tmp_path / "off.sqlite", pd.Timedelta(seconds=1), nudge=True) as off:
        a, b, c = live.snapshot(), rebuilt.snapshot(), off.snapshot()
    assert a == b and a.diff(b) == []
    assert a != c
    changed = {line.split(":")[0] for line in a.diff(c)}
    assert changed == {"trades", "day_summaries"}
