"""The broker watch against the loopback Kite replica: the session's end and the books' differences
hold the automation (REDUCING, no arming) until they are cleared."""

from __future__ import annotations

import datetime as dt

from core.automation.broker_watch import RECONCILE_EVERY_S, SESSION_ENDED, UNRECONCILED, BrokerWatch
from core.automation.engine import Engine
from core.clock import IST, SimClock
from core.execution.kite_wire import kite_tag
from core.market.events import Tick
from core.market.instruments import default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.risk.state import TradingState
from core.strategies import create
from tests.integration.kite_fixtures import KiteRig, request

T0 = dt.datetime(2026, 12, 3, 10, 15, tzinfo=IST)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def armed_engine(rig: KiteRig) -> tuple[Engine, BrokerWatch, FakeMonotonic]:
    master = default_master()
    clock = SimClock(T0)
    limits = RiskLimits()
    records: list[tuple[str, dict, str]] = []  # type: ignore[type-arg]
    engine = Engine(clock, rig.broker, RiskEngine(limits, PaperRms(limits.capital, master), clock),
                    {"ema_cross": create("ema_cross")}, master=master, mode="live", build_bars=True,
                    record=lambda t, p, tr: records.append((str(t), dict(p), tr)))
    engine.records = records  # type: ignore[attr-defined]
    rig.book.set_price("NSE:INFY", 1500.0)
    engine.handle(Tick("INFY", T0, 1500.0))
    assert engine.arm("INFY", "ema_cross").ok
    mono = FakeMonotonic()
    return engine, BrokerWatch(engine, rig.broker, monotonic=mono), mono


def test_a_position_changed_at_the_broker_is_caught_within_a_minute_and_holds_arming(rig: KiteRig) -> None:
    engine, watch, mono = armed_engine(rig)
    watch.turn()
    assert watch.last is not None and watch.last.clean and watch.checks == 1
    rig.book.adjust_position("NSE:INFY", -5, 1500.0)  # sold from another terminal, just after a check
    mono.now += RECONCILE_EVERY_S - 0.1
    watch.turn()
    assert watch.checks == 1 and engine.entry_hold == ""  # not yet due
    mono.now += 0.1  # a minute after the last check
    watch.turn()
    assert engine.entry_hold == f"{UNRECONCILED}: INFY: ours +0, at the broker -5"
    assert engine.risk.state is TradingState.REDUCING
    refused = engine.arm("INFY", "ema_cross")
    assert not refused.ok and any("entries are held" in f for f in refused.failures)
    assert any(a.level == "critical" and "INFY: ours +0" in a.text for a in engine.alerts)
    notes = [p for t, p, _ in engine.records if t == "note" and p["event"] == "reconcile"]  # type: ignore[attr-defined]
    assert [n["clean"] for n in notes] == [True, False]
    rig.book.adjust_position("NSE:INFY", 5, 1500.0)  # the trader squared it off at the broker
    mono.now += RECONCILE_EVERY_S
    watch.turn()
    assert engine.entry_hold == "" and engine.risk.state is TradingState.ACTIVE
    assert engine.arm("INFY", "ema_cross").ok


def test_an_orphan_order_of_ours_at_the_broker_is_cancelled(rig: KiteRig) -> None:
    engine, watch, _mono = armed_engine(rig)
    leftover = "INFY-ema_cross-20261203T0930|S"  # a stop a crashed session left working
    rig.kite.place_order(variety="regular", exchange="NSE", tradingsymbol="INFY", transaction_type="SELL",
                         quantity=1, product="MIS", order_type="SL-M", trigger_price=1400.0, market_protection=-1,
                         tag=kite_tag(leftover))
    result = watch.reconcile()
    assert result is not None and [o["tag"] for o in result.orphans] == [kite_tag(leftover)]
    assert [o["status"] for o in rig.book.orders()] == ["CANCELLED"]


def test_an_ended_session_holds_the_automation_until_the_trader_logs_in_again(rig: KiteRig) -> None:
    engine, watch, _mono = armed_engine(rig)
    watch.turn()
    rig.replica.expire_tokens()  # 6 AM expiry, or a logout elsewhere
    engine.broker.place(request(), T0)
    watch.turn()
    assert engine.entry_hold == SESSION_ENDED and engine.risk.state is TradingState.REDUCING
    assert any("log in again" in f for f in engine.arm("INFY", "ema_cross").failures)
    rig.kite.set_access_token(rig.replica.issue_access_token())  # a new login
    watch.session_renewed()
    watch.turn()
    assert engine.entry_hold == "" and engine.risk.state is TradingState.ACTIVE
    assert engine.arm("INFY", "ema_cross").ok


def test_a_stale_feed_holds_entries_until_ticks_flow_again(rig: KiteRig) -> None:
    from core.automation.live import FEED_STALE, _watch_feed

    class Feed:
        stale, last_tick_age_s = True, 12.4

    engine, _watch, _mono = armed_engine(rig)
    feed = Feed()
    _watch_feed(engine, feed)  # type: ignore[arg-type]
    assert engine.entry_hold == f"{FEED_STALE}: no tick for 12 s" and engine.risk.state is TradingState.REDUCING
    assert any("the feed is stale" in f for f in engine.arm("INFY", "ema_cross").failures)
    feed.stale = False
    _watch_feed(engine, feed)  # type: ignore[arg-type]
    assert engine.entry_hold == "" and engine.risk.state is TradingState.ACTIVE


def test_arming_asks_kite_for_the_margin_of_every_armed_pair_entering_at_once(rig: KiteRig) -> None:
    engine, _watch, _mono = armed_engine(rig)
    engine.strategies["ema_cross"] = create("ema_cross", qty="50")
    engine.slots[("INFY", "ema_cross")].strategy = engine.strategies["ema_cross"]  # INFY waits to enter 50
    rig.book.set_price("NSE:RELIANCE", 2500.0)
    engine.handle(Tick("RELIANCE", T0, 2500.0))
    rig.book.cash = 30_000.0  # RELIANCE alone: 50 x 2500 / 5 = Rs 25,000; with INFY's 15,000: 40,000
    refused = engine.arm("RELIANCE", "ema_cross")
    assert not refused.ok
    assert ("Kite asks Rs 40,000.00 margin for 50 RELIANCE with the 1 armed pair(s) entering too; "
            "Rs 30,000.00 is available") in refused.failures
    rig.book.cash = 40_000.0
    assert engine.arm("RELIANCE", "ema_cross").ok


def test_the_basket_counts_the_open_positions_an_entry_would_reduce(rig: KiteRig) -> None:
    engine, _watch, _mono = armed_engine(rig)
    engine.strategies["ema_cross"] = create("ema_cross", qty="50")
    rig.book.set_price("NSE:RELIANCE", 2500.0)
    engine.handle(Tick("RELIANCE", T0, 2500.0))
    rig.book.cash = 45_000.0
    rig.book.adjust_position("NSE:INFY", -50, 1500.0)  # 50 INFY short at Kite: Rs 15,000 used, 30,000 free
    # INFY's buy of 50 would close the short: the basket needs RELIANCE's Rs 25,000 only (order by
    # order, Rs 40,000 would have refused the arm)
    assert engine.broker.arm_check("RELIANCE", 50, 2500.0, [("INFY", 50)]) is None  # type: ignore[attr-defined]
    rig.book.adjust_position("NSE:INFY", 50, 1500.0)  # squared off: INFY's entry needs its margin again
    rig.book.cash = 35_000.0
    verdict = engine.broker.arm_check("RELIANCE", 50, 2500.0, [("INFY", 50)])  # type: ignore[attr-defined]
    assert verdict is not None and "Rs 40,000.00" in verdict and "Rs 35,000.00 is available" in verdict


def test_arming_asks_kite_for_one_entrys_margin_against_the_accounts(rig: KiteRig) -> None:
    engine, _watch, _mono = armed_engine(rig)  # 1 share of INFY: Rs 300 of MIS margin, Rs 10 lakh free
    engine.strategies["ema_cross"] = create("ema_cross", qty="50")
    rig.book.cash = 10_000.0  # 50 x 1500 / 5 = Rs 15,000 needed
    refused = engine.arm("INFY", "ema_cross")
    assert not refused.ok
    assert "Kite asks Rs 15,000.00 margin for 50 INFY; Rs 10,000.00 is available" in refused.failures
    rig.book.cash = 20_000.0
    assert engine.arm("INFY", "ema_cross").ok


def test_a_refused_ticker_token_holds_a_paper_session_until_the_ticker_works_again(rig: KiteRig) -> None:
    from types import SimpleNamespace

    from core.automation.broker_watch import watch_session

    engine, _watch, _mono = armed_engine(rig)
    feed = SimpleNamespace(token_refused=True)  # Kite answered the ticker's handshake with 403
    paper = SimpleNamespace()  # a paper broker has no session of its own
    assert watch_session(engine, paper, feed)
    assert engine.entry_hold == SESSION_ENDED and engine.risk.state is TradingState.REDUCING
    assert not engine.arm("INFY", "ema_cross").ok
    feed.token_refused = False  # the trader logged in again; the new socket connected
    assert not watch_session(engine, paper, feed)
    assert engine.entry_hold == "" and engine.risk.state is TradingState.ACTIVE


def test_each_reconciliation_reads_the_accounts_margin_and_holdings_and_says_when_margin_is_used_elsewhere(
        rig: KiteRig) -> None:
    engine, watch, mono = armed_engine(rig)
    rig.book.set_holding("NSE:RELIANCE", 10, 2400.0)
    rig.book.set_price("NSE:RELIANCE", 2500.0)
    watch.turn()
    [account] = [p for t, p, _ in engine.records if t == "note" and p["event"] == "account"]  # type: ignore[attr-defined]
    assert (account["kite_free_margin"], account["holdings"], account["holdings_value"]) == ("1000000.00", 1, "25000.00")
    assert not watch.margin_short and not any("outside atw" in a.text for a in engine.alerts)
    rig.book.cash = 100_000.0  # margin taken by another terminal
    mono.now += RECONCILE_EVERY_S
    watch.turn()
    mono.now += RECONCILE_EVERY_S
    watch.turn()
    short = [a.text for a in engine.alerts if "outside atw" in a.text]
    assert len(short) == 1 and "Kite's free margin Rs 100,000.00" in short[0]  # said once, not every minute
    rig.book.cash = 1_000_000.0
    mono.now += RECONCILE_EVERY_S
    watch.turn()
    assert not watch.margin_short
