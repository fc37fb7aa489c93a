"""The paper RMS: the margin a trader would be asked for, and where every paisa of it goes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from core.clock import IST, SimClock
from core.errors import ConfigError
from core.market.instruments import CostSegment, Instrument, InstrumentMaster, default_master
from core.paths import resource
from core.risk.rms import PaperRms
from core.risk.span import MarginRules, black76, implied_vol

D = Decimal
LAKH = D("100000.00")


def rms(capital: str = "1000000") -> PaperRms:
    return PaperRms(D(capital), default_master())


def test_mis_margin_is_a_fifth_of_notional_for_a_listed_stock() -> None:
    # RELIANCE: 37 x 1,234.55 = 45,678.35 notional; MIS leverage 5 -> 9,135.67.
    need = rms().requirement("RELIANCE", "BUY", 37, 1234.55)
    assert need.method == "mis"
    assert need.var == D("9135.67")
    assert need.total == D("9135.67")
    # A short MIS entry needs the same.
    assert rms().requirement("RELIANCE", "SELL", 37, 1234.55).total == D("9135.67")


def test_mis_leverage_comes_from_the_instrument_master(tmp_path: Path) -> None:
    csv = tmp_path / "instruments.csv"
    csv.write_text(
        "symbol,exchange,kind,tick_size,lot_size,cost_segment,name,mis_leverage\n"
        "YESBANK,NSE,EQ,0.01,1,equity_intraday,Yes Bank,2\n"
        "SBIN,NSE,EQ,0.05,1,equity_intraday,State Bank,\n",
        encoding="utf-8",
    )
    master = InstrumentMaster.from_csv(csv)
    book = PaperRms(LAKH, master)
    assert book.requirement("YESBANK", "BUY", 1000, 20.17).total == D("10085.00")  # 50%
    assert master.get("SBIN").mis_leverage == 5  # blank -> the default
    assert book.requirement("SBIN", "BUY", 100, 812.45).total == D("16249.00")


def test_option_rows_must_carry_their_contract_terms(tmp_path: Path) -> None:
    csv = tmp_path / "instruments.csv"
    csv.write_text(
        "symbol,exchange,kind,tick_size,lot_size,cost_segment,underlying,strike,expiry,option_type\n"
        "NIFTY26NOV24000CE,NFO,CE,0.05,75,options,NIFTY,,2026-11-24,CE\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        InstrumentMaster.from_csv(csv)
    assert err.value.where == f"{csv}:2"


def test_span_margin_for_a_nifty_future_proxy_matches_the_hand_computation() -> None:
    # NIFTY (index row traded as its futures proxy), 75 at 24,117.35: notional 18,08,801.25.
    # Scan: worst of the 16 scenarios is the full 9.3% move against us = 1,68,218.51625
    # (the extreme 2 x 9.3% counted at 35% is only 6.51%) -> 1,68,218.52.
    # Exposure: 2% of notional = 36,176.025 -> 36,176.03. Total 2,04,394.55.
    need = rms().requirement("NIFTY", "BUY", 75, 24117.35)
    assert need.method == "span"
    assert need.span == D("168218.52")
    assert need.exposure == D("36176.03")
    assert need.total == D("204394.55")
    assert rms().requirement("NIFTY", "SELL", 75, 24117.35).total == D("204394.55")


def test_a_stock_future_uses_the_stock_scan_range_and_exposure() -> None:
    master = InstrumentMaster({
        "SBIN26NOVFUT": Instrument("SBIN26NOVFUT", exchange="NFO", kind="FUT", lot_size=750,
                                   cost_segment=CostSegment.FUTURES, underlying="SBIN"),
    })
    # 750 x 800 = 6,00,000 notional: scan 14.2% = 85,200; exposure 3.5% = 21,000.
    need = PaperRms(D("1000000"), master).requirement("SBIN26NOVFUT", "SELL", 750, 800.0)
    assert (need.span, need.exposure) == (D("85200.00"), D("21000.00"))


def test_margin_parameters_come_from_the_data_file(tmp_path: Path) -> None:
    text = resource("margins.toml").read_text(encoding="utf-8")
    custom = tmp_path / "margins.toml"
    custom.write_text(text + "\n[overrides.NIFTY]\nprice_scan = 0.12\n", encoding="utf-8")
    book = PaperRms(D("1000000"), default_master(), rules=MarginRules.load(custom))
    need = book.requirement("NIFTY", "BUY", 75, 24000.0)  # notional 18,00,000
    assert (need.span, need.exposure) == (D("216000.00"), D("36000.00"))  # 12%, exposure kept at 2%

    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("exposure = 0.035", "exposur = 0.035"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        MarginRules.load(bad)
    assert "[stock]" in str(err.value.where) and "exposur" in err.value.message


def _option_book(capital: str = "1000000") -> PaperRms:
    terms = dict(exchange="NFO", lot_size=75, cost_segment=CostSegment.OPTIONS, underlying="NIFTY",
                 strike=24000.0, expiry=dt.date(2026, 11, 24))
    master = InstrumentMaster({
        "NIFTY": default_master().get("NIFTY"),
        "NIFTY24000CE": Instrument("NIFTY24000CE", kind="CE", option_type="CE", **terms),  # type: ignore[arg-type]
        "NIFTY24000PE": Instrument("NIFTY24000PE", kind="PE", option_type="PE", **terms),  # type: ignore[arg-type]
    })
    clock = SimClock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=IST))  # 4 days to expiry
    return PaperRms(D(capital), master, clock=clock)


def test_long_options_pay_the_premium_and_short_options_the_scenario_loss() -> None:
    book = _option_book()
    assert book.requirement("NIFTY24000CE", "BUY", 75, 150.0).total == D("11250.00")
    book.mark("NIFTY", 24000.0)
    short_call = book.requirement("NIFTY24000CE", "SELL", 75, 150.0)
    # The worst scenario is the full 9.3% rally: the call is then worth about its intrinsic
    # 26,232 - 24,000 = 2,232 (plus a sliver of time value), against 150 received.
    assert D("156150") <= short_call.span <= D("156200")
    assert short_call.exposure == D("36000.00")  # 2% of the underlying's notional
    short_put = book.requirement("NIFTY24000PE", "SELL", 75, 150.0)
    assert D("156150") <= short_put.span <= D("156200")


def test_a_short_option_without_an_underlying_price_is_refused_not_guessed() -> None:
    decision = _option_book().block("o1", "NIFTY24000PE", "SELL", 75, 150.0)
    assert not decision.accepted
    assert decision.reason == "no price for NIFTY, the underlying of NIFTY24000PE"


def test_black76_round_trips_through_implied_volatility() -> None:
    price = black76(24000.0, 24200.0, 10 / 365, 0.14, call=True)
    assert implied_vol(price, 24000.0, 24200.0, 10 / 365, call=True) == pytest.approx(0.14, abs=1e-8)
    # Put-call parity at zero rates: C - P = F - K.
    put = black76(24000.0, 24200.0, 10 / 365, 0.14, call=False)
    assert price - put == pytest.approx(-200.0, abs=1e-8)
    assert implied_vol(1.0, 24000.0, 23000.0, 10 / 365, call=True) is None  # below intrinsic


def test_insufficient_funds_is_refused_in_the_brokers_words() -> None:
    decision = rms("100000").block("o1", "NIFTY", "BUY", 75, 24117.35)
    assert not decision.accepted
    assert decision.reason == (
        "Insufficient funds. Required margin is 204394.55 but available margin is 100000.00. "
        "Check the orderbook for open orders."
    )
    assert (decision.required, decision.available) == (D("204394.55"), D("100000.00"))


def test_block_then_cancel_restores_available_to_the_paisa() -> None:
    book = rms()
    decision = book.block("o1", "RELIANCE", "BUY", 37, 1234.55)
    assert decision.accepted and decision.required == D("9135.67")
    snap = book.snapshot()
    assert (snap.blocked, snap.available) == (D("9135.67"), D("990864.33"))
    assert book.release("o1") == D("9135.67")
    assert book.snapshot().available == D("1000000.00")
    assert book.release("o1") == D("0.00")  # a second cancel changes nothing


def test_blocking_the_same_order_twice_blocks_once() -> None:
    book = rms()
    book.block("o1", "RELIANCE", "BUY", 37, 1234.55)
    again = book.block("o1", "RELIANCE", "BUY", 37, 1234.55)
    assert again.accepted and book.snapshot().blocked == D("9135.67")


def test_partial_fills_move_margin_pro_rata_and_the_parts_add_up() -> None:
    book = rms()
    # INFY 3 x 1,666.67 = 5,000.01 / 5 = 1,000.002 -> 1,000.00 blocked.
    assert book.block("o1", "INFY", "BUY", 3, 1666.67).required == D("1000.00")
    assert book.on_fill("o1", 1, 1666.67, "p1") == D("333.33")
    snap = book.snapshot()
    assert (snap.blocked, snap.used) == (D("666.67"), D("333.33"))
    assert book.on_fill("o1", 1, 1666.67, "p1") == D("333.34")  # cumulative rounding: 666.67
    assert book.on_fill("o1", 1, 1666.67, "p1") == D("333.33")
    snap = book.snapshot()
    assert (snap.blocked, snap.used, snap.available) == (D("0.00"), D("1000.00"), D("999000.00"))


def test_cancelling_the_rest_of_a_partly_filled_order_keeps_the_filled_part() -> None:
    book = rms()
    book.block("o1", "INFY", "BUY", 3, 1666.67)
    book.on_fill("o1", 1, 1666.67, "p1")
    assert book.release("o1") == D("666.67")
    snap = book.snapshot()
    assert (snap.blocked, snap.used, snap.available) == (D("0.00"), D("333.33"), D("999666.67"))


def test_exits_release_margin_pro_rata_and_book_pnl_into_cash() -> None:
    book = rms()
    book.block("o1", "INFY", "BUY", 3, 1666.67)
    book.on_fill("o1", 3, 1666.67, "p1")
    assert book.on_exit("p1", 1, D("250.50")) == D("333.33")
    snap = book.snapshot()
    assert (snap.used, snap.realised, snap.cash) == (D("666.67"), D("250.50"), D("1000250.50"))
    assert book.on_exit("p1", 2, D("-100.25")) == D("666.67")
    snap = book.snapshot()
    assert (snap.used, snap.realised, snap.cash, snap.available) == (
        D("0.00"), D("150.25"), D("1000150.25"), D("1000150.25"))


def test_unrealised_losses_reduce_available_and_profits_are_not_lent_out() -> None:
    book = rms()
    book.block("o1", "INFY", "BUY", 3, 1666.67)
    book.on_fill("o1", 3, 1666.67, "p1")
    book.mark("INFY", 1700.00)
    snap = book.snapshot()
    assert (snap.unrealised, snap.available) == (D("99.99"), D("999000.00"))
    book.mark("INFY", 1600.00)
    snap = book.snapshot()
    assert (snap.unrealised, snap.available) == (D("-200.01"), D("998799.99"))


def test_utilisation_is_margin_over_funds() -> None:
    book = rms("100000")
    book.block("o1", "RELIANCE", "BUY", 81, 1234.55)  # 99,998.55 / 5 = 19,999.71
    book.on_fill("o1", 81, 1234.55, "p1")
    snap = book.snapshot()
    assert snap.used == D("19999.71")
    assert snap.utilisation == D("0.2000")
    assert snap.capital == D("100000.00")


def test_a_fill_for_an_order_never_blocked_is_an_error() -> None:
    with pytest.raises(ValueError, match="no margin blocked"):
        rms().on_fill("ghost", 1, 100.0, "p1")


def test_unrealised_kept_per_symbol_equals_the_sum_over_every_position_at_every_mark() -> None:
    import random

    from core.risk.rms import to_paisa

    rng = random.Random(7)
    account = PaperRms(Decimal("100000000"), default_master())
    symbols = ["RELIANCE", "INFY", "TCS"]
    prices = {s: 1000.0 for s in symbols}
    held: dict[str, tuple[str, int]] = {}  # key -> symbol, sign
    for step in range(600):
        symbol = rng.choice(symbols)
        prices[symbol] = round(max(1.0, prices[symbol] + rng.choice([-1, 1]) * rng.randint(0, 40) * 0.05), 2)
        account.mark(symbol, prices[symbol])
        action = rng.random()
        if action < 0.2:
            key, side, qty = f"E{step}", rng.choice(["BUY", "SELL"]), rng.randint(1, 50)
            assert account.block(key, symbol, side, qty, prices[symbol]).accepted
            for part in (qty // 2, qty - qty // 2):
                if part:
                    account.on_fill(key, part, round(prices[symbol] + rng.randint(-3, 3) * 0.05, 2), key)
            held[key] = (symbol, 1 if side == "BUY" else -1)
        elif action < 0.35 and held:
            key = rng.choice(sorted(held))
            pos = account._positions[key]
            account.on_exit(key, rng.randint(1, pos.qty), Decimal("0"))
            if key not in account._positions:
                del held[key]
        direct = sum(((Decimal(repr(prices[p.symbol])) - p.avg) * p.qty * p.sign
                      for p in account._positions.values()), Decimal(0))
        assert account.unrealised == to_paisa(direct), step
    assert held, "the walk should leave positions open"
