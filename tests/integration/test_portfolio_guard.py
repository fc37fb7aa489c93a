"""The portfolio guardrails inside the automation engine: sized entries, caps that refuse with
their reason, the drawdown levels acting at the right equity, and a lock that survives a restart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.automation.engine import Engine
from core.automation.events import ResetLock
from core.automation.recovery import latest_book
from core.clock import SimClock
from core.execution.paper import PaperBroker
from core.instants import parse_utc
from core.journal.reader import iter_records, journal_files
from core.journal.records import Record, RecordType
from core.journal.writer import JournalWriter
from core.market.bars import BarSeries
from core.market.events import BarClosed, Tick
from core.market.feed import ReplayFeed
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.risk.state import TradingState
from core.strategies import create
from tests.conftest import synthetic

MODE = "paper"
PAIR = ("DEMO_TREND", "ema_cross")


def events_of(sessions: int = 3, seed: int = 31) -> tuple[list[Any], dt.datetime]:
    s = synthetic("SYN", sessions=sessions, seed=seed)
    series = [BarSeries("DEMO_TREND", s.frame, 1, s.source)]
    return list(ReplayFeed(series).events()), series[0].frame.index[0].to_pydatetime() - dt.timedelta(minutes=1)


def start(home: Path, at: dt.datetime, limits: RiskLimits, costs: str = "none",
          **trade: str) -> tuple[Engine, JournalWriter]:
    clock = SimClock(at)
    master = default_master()
    writer = JournalWriter(clock, MODE, home=home, batch_ms=0)
    strategies = {"ema_cross": create("ema_cross", **{"stop": "1.5atr", "qty": "10", **trade})}
    engine = Engine(clock, PaperBroker(master), RiskEngine(limits, PaperRms(limits.capital, master), clock),
                    strategies, record=lambda t, p, tr: writer.append(t, p, tr), master=master, mode=MODE,
                    costs=costs)
    engine.standing_arms = [PAIR]
    return engine, writer


def records(home: Path) -> list[Record]:
    return [r for path in journal_files(home, mode=MODE) for r in iter_records(path)]


def test_a_risk_sized_entry_risks_the_configured_rupees_to_its_stop(tmp_path: Path) -> None:
    events, at = events_of(2)
    limits = RiskLimits.from_mapping({"capital": "1cr", "sizing": "risk", "risk_per_trade_pct": "0.01"})
    engine, writer = start(tmp_path, at, limits)
    with writer:
        engine.run(events)
        engine.finish()
    recs = records(tmp_path)
    checks = {r.payload["client_order_id"]: r.payload for r in recs if r.type == RecordType.RISK_CHECK}
    entries = [r.payload for r in recs if r.type == RecordType.ORDER_INTENT and r.payload["purpose"] == "entry"]
    assert entries, "the synthetic days made no entry"
    for intent in entries:
        check = checks[intent["client_order_id"]]
        assert check["accepted"] and check["sizing"].startswith("risk: Rs 1,000.00 /")
        distance = abs(float(check["price"]) - float(check["stop"]))
        qty = int(intent["qty"])
        assert qty == check["qty"] and qty != 10  # sized, not the strategy's fixed quantity
        assert qty * distance <= 1000.0 + 1e-6 < (qty + 1) * distance  # Rs 1,000 at risk, to the unit


def test_the_heat_cap_refuses_an_entry_with_its_reason_in_the_journal(tmp_path: Path) -> None:
    events, at = events_of(2)
    limits = RiskLimits.from_mapping({"capital": "1cr", "sizing": "risk", "risk_per_trade_pct": "0.02",
                                      "heat_cap_pct": "0.01"})  # a trade risks Rs 2,000: the Rs 1,000 cap holds none
    engine, writer = start(tmp_path, at, limits)
    with writer:
        engine.run(events)
        engine.finish()
    refused = [r.payload for r in records(tmp_path) if r.type == RecordType.RISK_CHECK and not r.payload["accepted"]]
    assert refused and all(p["code"] == "exposure" for p in refused)
    assert "portfolio heat Rs 0.00 of Rs 1,000.00 (0.01% of capital) at risk" in refused[0]["reason"]
    assert not [r for r in records(tmp_path) if r.type == RecordType.ORDER_INTENT and r.payload["purpose"] == "entry"]
    reduce = tmp_path / "reduce"
    engine, writer = start(reduce, at, RiskLimits.from_mapping({
        "capital": "1cr", "sizing": "risk", "risk_per_trade_pct": "0.02", "heat_cap_pct": "0.01",
        "cap_action": "reduce"}))
    with writer:
        engine.run(events)
        engine.finish()
    cut = [r.payload for r in records(reduce) if r.type == RecordType.RISK_CHECK and r.payload["accepted"]]
    assert cut and all("cut to" in p["sizing"] and "portfolio heat" in p["sizing"] for p in cut)
    for p in cut:  # none puts more than the whole cap (Rs 1,000) at risk
        assert p["qty"] * abs(float(p["price"]) - float(p["stop"])) <= 1000.0 + 1e-6


def test_the_hard_drawdown_level_flattens_halts_and_the_lock_survives_a_restart(tmp_path: Path) -> None:
    events, at = events_of(3)
    limits = RiskLimits.from_mapping({"capital": "1L", "dd_soft_pct": "0.05", "dd_hard_pct": "0.1"})
    first, writer = start(tmp_path, at, limits, costs="zerodha", qty="40")
    cut = None
    with writer:
        for i, event in enumerate(events):
            first.handle(event)
            if first.halt_reason == "drawdown" and first.risk.state is TradingState.HALTED:
                cut = i + 1
                break
    assert cut is not None, "the hard level was never reached"
    notes = [r for r in records(tmp_path) if r.type == RecordType.NOTE and r.payload.get("event") == "drawdown"]
    levels = [n.payload["level"] for n in notes]
    assert "soft" in levels and levels.index("soft") < levels.index("hard")
    hard = next(n.payload for n in notes if n.payload["level"] == "hard")
    peak, pnl = Decimal(hard["peak_pnl"]), Decimal(hard["day_pnl"])
    assert (peak - pnl) * 100 / (limits.capital + peak) >= Decimal("0.1")  # acted at (or past) the level...
    soft = next(n.payload for n in notes if n.payload["level"] == "soft")
    s_peak, s_pnl = Decimal(soft["peak_pnl"]), Decimal(soft["day_pnl"])
    assert Decimal("0.05") <= (s_peak - s_pnl) * 100 / (limits.capital + s_peak) < Decimal("0.1")
    assert all(s.manager.position is None for s in first.slots.values())  # flattened
    hard_at = parse_utc(next(n.ts for n in notes if n.payload["level"] == "hard"))
    exits = [r for r in records(tmp_path) if r.type == RecordType.ORDER_INTENT and r.payload.get("reason") == "risk"]
    assert all(parse_utc(r.ts) >= hard_at for r in exits)

    second, writer = start(tmp_path, at, limits, costs="zerodha", qty="40")
    with writer:
        second.restore(latest_book(tmp_path, MODE)[0], [e.bar for e in events[:cut] if isinstance(e, BarClosed)])
        assert second.halt_reason == "drawdown" and second.risk.state is TradingState.HALTED
        # the day's peak (journaled within 0.05 % of capital) and charges come back with it
        assert abs(second.guard.risk.drawdown.peak_pnl - first.guard.risk.drawdown.peak_pnl) <= limits.capital / 2000
        assert second.guard.day_charges == first.guard.day_charges > 0
        refused = second.arm(*PAIR)
        assert not refused.ok and any("hard drawdown level" in f for f in refused.failures)
        second.run(events[cut:])  # the next days too: no entry while the lock holds
        assert not [r for r in records(tmp_path) if r.type == RecordType.ORDER_INTENT
                    and r.payload["purpose"] == "entry" and parse_utc(r.ts) > hard_at]
        second.post(ResetLock("the risk desk"))
        second.drain_commands()
        assert second.halt_reason != "drawdown"
        second.finish()
    lifted = [r.payload for r in records(tmp_path) if r.type == RecordType.COMMAND and r.payload["command"] == "reset_lock"]
    assert lifted and lifted[-1]["lock"] == "drawdown"


def test_a_tick_moves_the_guard_only_when_a_drawdown_rule_is_set(tmp_path: Path) -> None:
    events, at = events_of(1)
    engine, writer = start(tmp_path, at, RiskLimits())
    with writer:
        engine.run([e for e in events if isinstance(e, Tick)][:50])
    assert engine.guard.risk.drawdown.peak_pnl == 0 and engine.guard.level == "ok"
