"""The pre-order risk gate: what an entry or an exit gets told, and why, on a real NSE day."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from core.clock import IST, SimClock
from core.execution.orders import OrderRequest, OrderType, Purpose, Side
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.risk.state import TradingState

D = Decimal
DAY = dt.date(2026, 11, 20)  # a Friday the NSE trades (checked against the calendar below)
_ids = itertools.count(1)


def at(hms: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hms), IST)


def order(purpose: Purpose = Purpose.ENTRY, *, symbol: str = "RELIANCE", side: Side = Side.BUY,
          qty: int = 10) -> OrderRequest:
    return OrderRequest(f"c{next(_ids)}", symbol, "ema_cross", side, qty, OrderType.MARKET, purpose, "p1")


def engine(start: str = "10:00:00", **limits: str) -> RiskEngine:
    risk_limits = RiskLimits.from_mapping(limits)
    clock = SimClock(at(start))
    return RiskEngine(risk_limits, PaperRms(risk_limits.capital, default_master()), clock)


def entry(eng: RiskEngine, *, price: float = 1234.55, stop: float | None = None, qty: int = 10,
          day_pnl: str = "0", open_positions: int = 0, symbol: str = "RELIANCE"):  # type: ignore[no-untyped-def]
    return eng.check(order(symbol=symbol, qty=qty), price=price, stop=stop,
                     open_positions=open_positions, day_pnl=D(day_pnl))


def exit_(eng: RiskEngine, *, day_pnl: str = "0"):  # type: ignore[no-untyped-def]
    return eng.check(order(Purpose.EXIT, side=Side.SELL), price=1234.55, stop=None,
                     open_positions=1, day_pnl=D(day_pnl))


def test_the_test_day_is_a_regular_nse_session() -> None:
    session = SimClock(at("10:00:00")).session()
    assert session is not None and (session.open, session.close) == (at("09:15:00"), at("15:30:00"))


def test_an_accepted_entry_has_its_margin_blocked_in_the_same_call() -> None:
    eng = engine()
    decision = entry(eng)  # 10 x 1,234.55 = 12,345.50, / 5
    assert (decision.accepted, decision.code, decision.margin) == (True, "ok", D("2469.10"))
    assert eng.rms.snapshot().blocked == D("2469.10")


def test_cutoff_refuses_an_entry_at_15_00_00_exactly_and_accepts_at_14_59_59() -> None:
    eng = engine("14:59:59")
    assert entry(eng).accepted
    eng.clock.set(at("15:00:00"))  # type: ignore[attr-defined]
    decision = entry(eng)
    assert (decision.accepted, decision.code) == (False, "cutoff")
    assert decision.reason == "past the 15:00 cutoff: no new entries today, exits only"


def test_the_cutoff_holds_without_any_timer_and_exits_still_go_out() -> None:
    eng = engine("15:29:00")  # nobody fired a cutoff event; the engine is still ACTIVE
    assert eng.state is TradingState.ACTIVE
    assert entry(eng).code == "cutoff"
    assert exit_(eng).accepted
    eng.clock.set(at("15:45:00"))  # type: ignore[attr-defined]
    assert entry(eng).code == "cutoff"
    assert exit_(eng).accepted


def test_no_entries_before_the_open_or_on_a_day_the_nse_is_shut() -> None:
    decision = entry(engine("09:14:59"))
    assert (decision.code, decision.reason) == ("closed", "the market opens at 09:15; no entries before it")
    saturday = RiskEngine(RiskLimits(), PaperRms(D("1000000"), default_master()),
                          SimClock(at("10:00:00", dt.date(2026, 11, 21))))
    assert entry(saturday).reason == "the NSE does not trade on Sat 21 Nov 2026"


def test_halted_and_reducing_refuse_entries_but_accept_exits() -> None:
    eng = engine()
    change = eng.set_state(TradingState.HALTED, "kill switch")
    assert change is not None and (change.old, change.new, change.why) == (
        TradingState.ACTIVE, TradingState.HALTED, "kill switch")
    assert change.at == at("10:00:00")
    assert eng.set_state(TradingState.HALTED, "again") is None
    decision = entry(eng)
    assert (decision.code, decision.reason) == ("halted", "trading is HALTED: entries are refused, exits allowed")
    assert exit_(eng).accepted
    eng.set_state(TradingState.REDUCING, "trader: exits only")
    assert entry(eng).code == "reducing"
    assert exit_(eng).accepted
    eng.set_state(TradingState.ACTIVE, "trader")
    assert entry(eng).accepted


def test_ten_orders_a_second_then_the_eleventh_waits_for_the_next_second() -> None:
    eng = engine()
    for i in range(10):
        eng.clock.set(at("10:00:00") + dt.timedelta(milliseconds=50 * i))  # type: ignore[attr-defined]
        assert entry(eng, qty=1).accepted, i
    eng.clock.set(at("10:00:00.900"))  # type: ignore[attr-defined]
    refused = entry(eng, qty=1)
    assert (refused.accepted, refused.code) == (False, "rate_second")
    assert eng.rms.snapshot().blocked == D("2469.10")  # 10 x 246.91: the refused one blocked nothing
    held = exit_(eng)
    assert (held.accepted, held.code) == (False, "rate_second")  # exits count too, and are handed back
    assert held.reason.startswith("exit held back, retry it: ")
    eng.clock.set(at("10:00:01"))  # type: ignore[attr-defined]
    assert exit_(eng).accepted
    assert entry(eng, qty=1).accepted


def test_the_per_minute_limit_holds_across_seconds() -> None:
    eng = engine(orders_per_minute="15")
    for i in range(15):
        eng.clock.set(at("10:00:00") + dt.timedelta(seconds=2 * i))  # type: ignore[attr-defined]
        assert entry(eng, qty=1).accepted
    eng.clock.set(at("10:00:59.999"))  # type: ignore[attr-defined]
    assert entry(eng, qty=1).code == "rate_minute"
    eng.clock.set(at("10:01:00"))  # type: ignore[attr-defined]
    assert entry(eng, qty=1).accepted


def test_open_position_limit() -> None:
    eng = engine(max_open_positions="3")
    assert entry(eng, open_positions=2).accepted
    decision = entry(eng, open_positions=3)
    assert (decision.code, decision.reason) == ("max_positions", "3 positions open (limit 3)")


def test_max_loss_per_trade_weighs_the_distance_to_the_stop() -> None:
    eng = engine(max_loss_per_trade="5k")
    assert entry(eng, price=500.0, stop=450.0, qty=100).accepted  # exactly 5,000 at risk
    decision = entry(eng, price=500.0, stop=449.95, qty=100)
    assert (decision.code, decision.reason) == (
        "max_loss_trade", "risk to stop Rs 5,005.00 exceeds max loss per trade Rs 5,000.00")
    no_stop = entry(eng, price=500.0, stop=None, qty=1)
    assert (no_stop.code, no_stop.reason) == ("max_loss_trade", "no stop: max loss per trade Rs 5,000.00 needs one")


def test_a_stop_on_the_wrong_side_is_refused() -> None:
    decision = entry(engine(), price=500.0, stop=510.0)
    assert (decision.code, decision.reason) == ("invalid", "stop 510.0 is not below the BUY entry at 500.0")


def test_order_value_limit() -> None:
    eng = engine(max_order_value="1L")
    assert entry(eng, price=1000.0, qty=100).accepted
    decision = entry(eng, price=1000.05, qty=100)
    assert (decision.code, decision.reason) == ("order_value", "order value Rs 1,00,005.00 exceeds Rs 1,00,000.00")


def test_margin_shortfall_is_refused_with_the_brokers_words() -> None:
    eng = engine(capital="1L")
    decision = entry(eng, symbol="NIFTY", price=24117.35, qty=75)
    assert (decision.accepted, decision.code) == (False, "margin")
    assert decision.reason == (
        "Insufficient funds. Required margin is 204394.55 but available margin is 100000.00. "
        "Check the orderbook for open orders."
    )


def test_daily_loss_locks_the_engine_in_reducing_until_a_human_lifts_it() -> None:
    eng = engine(daily_loss_limit="10k")
    assert entry(eng, day_pnl="-9999.99").accepted
    decision = entry(eng, day_pnl="-10000.00")
    assert (decision.accepted, decision.code) == (False, "daily_loss")
    lock = decision.transition
    assert lock is not None and (lock.old, lock.new) == (TradingState.ACTIVE, TradingState.REDUCING)
    assert lock.why == "day P&L -Rs 10,000.00 reached the daily loss limit -Rs 10,000.00"
    assert eng.state is TradingState.REDUCING
    # The P&L recovering does not unlock it; exits still go out.
    assert entry(eng, day_pnl="500").code == "reducing"
    assert exit_(eng, day_pnl="500").accepted
    assert eng.set_state(TradingState.ACTIVE, "trader lifted the lock") is not None
    assert entry(eng, day_pnl="500").accepted


def test_an_exit_that_breaches_the_daily_loss_goes_out_and_reports_the_lock() -> None:
    eng = engine(daily_loss_limit="10k")
    decision = exit_(eng, day_pnl="-12000")
    assert decision.accepted and decision.transition is not None
    assert eng.state is TradingState.REDUCING


def test_a_failing_check_is_a_refusal_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    eng = engine()

    def boom(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(eng.rms, "block", boom)
    decision = entry(eng)
    assert (decision.accepted, decision.code) == (False, "error")
    assert decision.reason == "risk check failed: RuntimeError: disk on fire"
    nan = entry(engine(), price=float("nan"))
    assert (nan.accepted, nan.code) == (False, "invalid")
