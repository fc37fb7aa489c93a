"""The engine's safety behaviour: kill switch, cutoff, pre-arm checks, isolation, determinism."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.automation.engine import Engine
from core.automation.events import Kill, ResetLock
from core.automation.replay import run_replay
from core.clock import IST, SimClock
from core.execution.paper import PaperBroker
from core.journal.records import RecordType
from core.market.bars import BarSeries
from core.market.events import BarClosed, Tick
from core.market.feed import ReplayFeed
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.risk.state import TradingState
from core.strategies import create
from tests.conftest import synthetic

Sink = list[tuple[str, dict[str, Any], str]]


def demo_series(sessions: int = 3, seed: int = 31, symbol: str = "DEMO_TREND") -> BarSeries:
    s = synthetic("SYN", sessions=sessions, seed=seed)
    return BarSeries(symbol, s.frame, 1, s.source)


def make_engine(series: list[BarSeries], names: list[str], **settings_: str) -> tuple[Engine, Sink]:
    first = min(s.frame.index[0] for s in series).to_pydatetime()
    clock = SimClock(first - dt.timedelta(minutes=1))
    limits = RiskLimits()
    risk = RiskEngine(limits, PaperRms(limits.capital, _master()), clock)
    records: Sink = []
    engine = Engine(clock, PaperBroker(), risk, {n: create(n, **settings_) for n in names},
                    record=lambda t, p, tr: records.append((str(t), dict(p), tr)))
    engine.standing_arms = [(s.symbol, n) for s in series for n in names]
    return engine, records


def _master():  # type: ignore[no-untyped-def]
    from core.market.instruments import default_master

    return default_master()


def fills(records: Sink, purpose: str | None = None) -> list[dict[str, Any]]:
    return [p for t, p, _ in records if t == RecordType.FILL and (purpose is None or p["purpose"] == purpose)]


def when(fill: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(fill["time"].replace("Z", "+00:00")).astimezone(IST)


def open_positions(engine: Engine) -> int:
    return sum(1 for s in engine.slots.values() if s.manager.position is not None)


def test_kill_switch_flattens_and_halts_within_one_cycle_and_stays_locked() -> None:
    series = [demo_series(3)]
    engine, records = make_engine(series, ["ema_cross"])
    events: Iterator[Any] = iter(ReplayFeed(series).events())
    for event in events:
        engine.handle(event)
        if open_positions(engine):
            break
    assert open_positions(engine) == 1
    killed_at = engine.clock.now()
    engine.post(Kill("test"))
    engine.handle(next(e for e in events if isinstance(e, Tick)))  # one engine cycle: the next price
    assert open_positions(engine) == 0
    assert engine.risk.state is TradingState.HALTED
    assert not engine.orders.working()
    kill_exits = [p for p in fills(records, "exit") if p.get("reason") == "kill"]
    assert len(kill_exits) == 1
    types = [t for t, _, _ in records]
    assert RecordType.COMMAND in types and RecordType.STATE in types
    for event in events:  # the rest of the data, next sessions included: still halted, no entry
        engine.handle(event)
    assert engine.risk.state is TradingState.HALTED
    assert not [p for p in fills(records, "entry") if when(p) > killed_at]
    check = engine.arm("DEMO_TREND", "ema_cross")
    assert not check.ok and any("kill switch" in f for f in check.failures)
    engine.post(ResetLock("tester"))
    engine.drain_commands()
    # lifted, but the data ended past the day's cutoff: no entries until the next session
    assert engine.locked == "" and engine.halt_reason == "cutoff"
    assert engine.risk.state is TradingState.HALTED


def test_no_entry_at_or_after_the_cutoff_and_flat_at_the_cutoff_bar() -> None:
    series = [demo_series(5)]
    engine, records = make_engine(series, ["ema_cross", "range_breakout"])
    engine.run(ReplayFeed(series).events())
    entries = fills(records, "entry")
    assert entries
    for p in entries:
        assert when(p).time() < dt.time(15, 0), p
    cutoff_exits = [p for p in fills(records, "exit") if p.get("reason") == "cutoff"]
    for p in cutoff_exits:
        assert when(p).time() == dt.time(15, 0)
    assert open_positions(engine) == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arm_minute=st.integers(min_value=0, max_value=340),
    drop=st.lists(st.integers(min_value=0, max_value=374), max_size=40),
    late_timer=st.booleans(),
    seed=st.integers(min_value=1, max_value=50),
)
def test_cutoff_holds_for_any_arm_time_data_gaps_and_late_timers(
    arm_minute: int, drop: list[int], late_timer: bool, seed: int,
) -> None:
    """Random arm times, bars missing around the cutoff (the clock jumps), a cutoff timer that
    never fires: no entry reaches the broker at or after 15:00, and every position is flat at the
    first price at or after it."""
    base = demo_series(1, seed=seed)
    frame = base.frame.drop(base.frame.index[sorted(set(drop))])
    series = [BarSeries(base.symbol, frame, 1, base.source)]
    engine, records = make_engine(series, ["ema_cross"], cutoff="15:00")
    engine.standing_arms = []
    session_open = frame.index[0].to_pydatetime().replace(hour=9, minute=15)
    arm_at = session_open + dt.timedelta(minutes=arm_minute)
    armed = False
    sent_after_cutoff = []
    for event in ReplayFeed(series).events():
        if late_timer:
            engine._timers = [t for t in engine._timers if t.name != "cutoff"]  # the timer never fires
        if not armed and event.time >= arm_at and isinstance(event, Tick):
            engine.handle(event)
            engine.arm(base.symbol, "ema_cross")
            armed = True
            continue
        before = len(records)
        engine.handle(event)
        for t, p, _ in records[before:]:
            if t == RecordType.ORDER_INTENT and p["purpose"] == "entry" and engine.clock.now().time() >= dt.time(15, 0):
                sent_after_cutoff.append(p)
        if isinstance(event, BarClosed) and event.bar.start.time() >= dt.time(15, 0):
            assert open_positions(engine) == 0  # the first bar at/after the cutoff has been traded: flat
    assert not sent_after_cutoff
    for p in fills(records, "entry"):
        assert when(p).time() < dt.time(15, 0)


def test_a_failing_strategy_is_isolated_and_the_engine_runs_on() -> None:
    series = [demo_series(2), demo_series(2, seed=32, symbol="DEMO_VOL")]
    engine, records = make_engine(series, ["ema_cross"])
    events = iter(ReplayFeed(series).events())
    for event in events:
        engine.handle(event)
        if ("DEMO_VOL", "ema_cross") in engine.slots and isinstance(event, BarClosed):
            break
    broken = engine.slots[("DEMO_VOL", "ema_cross")]

    def boom(bar: Any) -> Any:
        raise ZeroDivisionError("division by zero in the strategy")

    broken.stream.update = boom  # type: ignore[method-assign]
    failed_at = engine.clock.now()
    engine.run(events)
    assert not broken.armed and "ZeroDivisionError" in broken.failed
    assert any(a.level == "error" and "DEMO_VOL:ema_cross" in a.text for a in engine.alerts)
    later = [p for p in fills(records, "entry") if p["symbol"] == "DEMO_TREND" and when(p) > failed_at]
    assert later, "the healthy slot kept trading"
    assert not [p for p in fills(records, "entry") if p["symbol"] == "DEMO_VOL" and when(p) > failed_at]


def test_pre_arm_checks_say_what_failed() -> None:
    series = [demo_series(1)]
    engine, _ = make_engine(series, ["ema_cross"])
    early = engine.arm("DEMO_TREND", "ema_cross")  # 09:14, before the open, no price yet
    assert not early.ok
    assert any("not open" in f for f in early.failures)
    assert any("no price of DEMO_TREND" in f for f in early.failures)
    unknown = engine.arm("NOSUCH", "nosuch")
    assert any("not in the instrument master" in f for f in unknown.failures)
    assert any("no strategy 'nosuch'" in f for f in unknown.failures)


def test_same_inputs_give_the_same_journal_byte_for_byte(tmp_path: Path) -> None:
    series = [demo_series(3)]
    strategies = [create("range_breakout"), create("ema_cross")]
    arms = [("DEMO_TREND", "range_breakout"), ("DEMO_TREND", "ema_cross")]
    a = run_replay(series, strategies, arms, ledger=False, run=("r1", tmp_path / "a"))
    b = run_replay(series, strategies, arms, ledger=False, run=("r1", tmp_path / "b"))
    files_a = sorted(a.journal_dir.glob("*.jsonl"))
    files_b = sorted(b.journal_dir.glob("*.jsonl"))
    assert [f.name for f in files_a] == [f.name for f in files_b] and len(files_a) == 3
    for fa, fb in zip(files_a, files_b):
        assert fa.read_bytes() == fb.read_bytes()


class RacingBroker(PaperBroker):
    """A broker without one-cancels-other: the first exit fill of each position comes twice (the
    stop and a market exit both filled at the broker)."""

    def __init__(self) -> None:
        super().__init__()
        self.doubled: set[str] = set()

    def _twice(self, events):  # type: ignore[no-untyped-def]
        from core.execution.broker import FillEvent

        out = []
        for event in events:
            out.append(event)
            fill = getattr(event, "fill", None)
            position = fill.client_order_id.rsplit("|", 1)[0] if fill is not None else ""
            if fill is not None and not fill.client_order_id.endswith("|E") and position not in self.doubled:
                self.doubled.add(position)
                out.append(FillEvent(type(fill)(fill.client_order_id, fill.fill_id + "-race", fill.symbol, fill.side,
                                                fill.qty, fill.price, fill.time)))
        return out

    def on_tick(self, tick):  # type: ignore[no-untyped-def]
        return self._twice(super().on_tick(tick))

    def on_bar_close(self, bar):  # type: ignore[no-untyped-def]
        return self._twice(super().on_bar_close(bar))

    def place(self, request, now):  # type: ignore[no-untyped-def]
        return self._twice(super().place(request, now))


def test_an_exit_that_fills_after_its_position_closed_is_journaled_and_alerted_never_a_crash() -> None:
    from core.journal.records import Record
    from core.journal.replay import ReplayState

    series = [demo_series(sessions=1)]
    engine, records = make_engine(series, ["ema_cross"], stop="1.5atr")
    engine.broker = engine.orders.broker = RacingBroker()
    engine.run(ReplayFeed(series).events())
    engine.finish()
    overfills = [p for t, p, _ in records if t == RecordType.NOTE and p.get("event") == "overfill"]
    assert overfills and all(p["qty"] > 0 for p in overfills)
    assert any(a.level == "critical" and "flatten it there" in a.text for a in engine.alerts)
    assert "flatten it there" in engine.entry_hold  # entries held until the books agree again
    state = ReplayState()  # the journal's own arithmetic: no exit ever exceeds its position
    for seq, (rtype, payload, trace) in enumerate(records, start=1):
        state.apply(Record(seq, "", "paper", trace, rtype, payload, ""))
    assert state.closed_positions
