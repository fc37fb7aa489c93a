"""Zerodha charges: the dated schedule, per-order pricing and round trips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.market.instruments import CostSegment
from core.paths import resource
from core.simulator.costs import (
    ChargeBreakdown,
    ChargeSchedule,
    CostModel,
    NoCosts,
    ZerodhaCosts,
    cost_model,
    trade_charges,
)

EQ, FUT, OPT = CostSegment.EQUITY_INTRADAY, CostSegment.FUTURES, CostSegment.OPTIONS
D = Decimal
DAY_2026 = dt.date(2026, 4, 2)
DAY_2022 = dt.date(2022, 6, 15)


@pytest.fixture(scope="module")
def zerodha() -> ZerodhaCosts:
    model = cost_model("zerodha")
    assert isinstance(model, ZerodhaCosts)
    return model


# -- the worked example (india-market-facts §4) ----------------------------------------------


def test_worked_example_matches_facts_file_component_by_component(zerodha: ZerodhaCosts) -> None:
    # NSE intraday, buy 100 @ 1000, sell 100 @ 1010, 2026 rates.
    # Per order, rounded half up to the paisa:
    #   buy : brokerage 20, txn 3.07 (0.00307% of 1,00,000), SEBI 0.10, stamp 3.00,
    #         GST 18% x 23.17 = 4.1706 -> 4.17
    #   sell: brokerage 20, STT 25.25, txn 3.1007 -> 3.10, SEBI 0.101 -> 0.10,
    #         GST 18% x 23.20 = 4.176 -> 4.18
    # The facts file computes txn on the combined 2,01,000 (6.1707 -> 6.17), SEBI on the
    # combined turnover (0.201 -> 0.20) and GST on the sum (8.3466 -> 8.35); per-order
    # rounding lands on the same paise here: 3.07 + 3.10, 0.10 + 0.10, 4.17 + 4.18.
    buy = zerodha.order_charges(EQ, "BUY", 1000, 100, DAY_2026)
    sell = zerodha.order_charges(EQ, "SELL", 1010, 100, DAY_2026)
    assert buy == ChargeBreakdown(D("20"), D("0"), D("3.07"), D("0.10"), D("3.00"), D("4.17"))
    assert sell == ChargeBreakdown(D("20"), D("25.25"), D("3.10"), D("0.10"), D("0"), D("4.18"))

    total = trade_charges(zerodha, EQ, "LONG", 1000, 1010, 100, DAY_2026, DAY_2026)
    assert total.as_dict() == {
        "brokerage": D("40.00"),
        "stt": D("25.25"),
        "exchange_txn": D("6.17"),
        "sebi_fee": D("0.20"),
        "stamp_duty": D("3.00"),
        "gst": D("8.35"),
        "total": D("82.97"),
    }
    assert total == buy + sell


def test_every_component_is_in_whole_paise(zerodha: ZerodhaCosts) -> None:
    c = zerodha.order_charges(EQ, "SELL", 1234.55, 37, DAY_2026)
    for value in c.as_dict().values():
        assert value == value.quantize(D("0.01"))


def test_rounding_is_half_up_to_the_paisa(zerodha: ZerodhaCosts) -> None:
    # sell 10 @ 1002: STT 0.025% x 10,020 = 2.505 exactly -> 2.51 (banker's rounding: 2.50)
    c = zerodha.order_charges(EQ, "SELL", 1002, 10, DAY_2026)
    assert c.stt == D("2.51")
    assert c.brokerage == D("3.01")  # 3.006
    assert c.exchange_txn == D("0.31")  # 0.307614
    assert c.sebi_fee == D("0.01")  # 0.01002
    # GST is 18% of the *rounded* brokerage + txn + SEBI: 18% x 3.33 = 0.5994 -> 0.60
    assert c.gst == D("0.60")


# -- brokerage --------------------------------------------------------------------------------


def test_small_equity_order_pays_pct_not_cap(zerodha: ZerodhaCosts) -> None:
    # 10 x 500 = 5,000 turnover: 0.03% = 1.50 < 20
    assert zerodha.order_charges(EQ, "BUY", 500, 10, DAY_2026).brokerage == D("1.50")


def test_large_equity_order_is_capped_at_20(zerodha: ZerodhaCosts) -> None:
    # 1,00,000 turnover: 0.03% = 30 -> capped at 20
    assert zerodha.order_charges(EQ, "BUY", 1000, 100, DAY_2026).brokerage == D("20.00")


def test_cap_and_pct_meet_at_66667_turnover(zerodha: ZerodhaCosts) -> None:
    assert zerodha.order_charges(EQ, "BUY", 666.66, 100, DAY_2026).brokerage == D("20.00")
    assert zerodha.order_charges(EQ, "BUY", 600, 100, DAY_2026).brokerage == D("18.00")


def test_futures_brokerage_is_pct_with_cap(zerodha: ZerodhaCosts) -> None:
    assert zerodha.order_charges(FUT, "BUY", 100, 10, DAY_2026).brokerage == D("0.30")
    assert zerodha.order_charges(FUT, "BUY", 22000, 75, DAY_2026).brokerage == D("20.00")


# -- options: flat brokerage, STT on premium ----------------------------------------------------


def test_options_brokerage_is_flat_even_for_tiny_premium(zerodha: ZerodhaCosts) -> None:
    c = zerodha.order_charges(OPT, "BUY", 2.5, 75, DAY_2026)  # premium turnover 187.50
    assert c.brokerage == D("20.00")


def test_options_stt_on_sell_premium_in_2026(zerodha: ZerodhaCosts) -> None:
    # sell 75 @ 120 premium = 9,000 premium turnover; STT 0.15% = 13.50; none on the buy
    assert zerodha.order_charges(OPT, "SELL", 120, 75, DAY_2026).stt == D("13.50")
    assert zerodha.order_charges(OPT, "BUY", 120, 75, DAY_2026).stt == D("0")


def test_options_full_breakdown_2026(zerodha: ZerodhaCosts) -> None:
    c = zerodha.order_charges(OPT, "SELL", 120, 75, DAY_2026)
    # txn 0.03553% x 9000 = 3.1977 -> 3.20; SEBI 0.009 -> 0.01; GST 18% x 23.21 = 4.1778 -> 4.18
    assert c == ChargeBreakdown(D("20"), D("13.50"), D("3.20"), D("0.01"), D("0"), D("4.18"))
    buy = zerodha.order_charges(OPT, "BUY", 120, 75, DAY_2026)
    assert buy.stamp_duty == D("0.27")  # 0.003% x 9000


# -- futures: STT only on the sell side ---------------------------------------------------------


def test_futures_stt_only_on_sell(zerodha: ZerodhaCosts) -> None:
    # 75 x 22,000 = 16,50,000; 0.05% from 1 Apr 2026 = 825.00
    assert zerodha.order_charges(FUT, "SELL", 22000, 75, DAY_2026).stt == D("825.00")
    assert zerodha.order_charges(FUT, "BUY", 22000, 75, DAY_2026).stt == D("0")


def test_futures_stamp_only_on_buy(zerodha: ZerodhaCosts) -> None:
    assert zerodha.order_charges(FUT, "BUY", 22000, 75, DAY_2026).stamp_duty == D("33.00")
    assert zerodha.order_charges(FUT, "SELL", 22000, 75, DAY_2026).stamp_duty == D("0")


def test_short_round_trip_sells_first(zerodha: ZerodhaCosts) -> None:
    short = trade_charges(zerodha, FUT, "SHORT", 22000, 21900, 75, DAY_2026, DAY_2026)
    sell = zerodha.order_charges(FUT, "SELL", 22000, 75, DAY_2026)
    buy = zerodha.order_charges(FUT, "BUY", 21900, 75, DAY_2026)
    assert short == sell + buy
    assert short.stt == D("825.00")  # STT on the (entry) sell at 22,000 only
    assert short.stamp_duty == D("32.85")  # stamp on the (exit) buy at 21,900 only


# -- regimes by date ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "futures_stt_pct", "options_stt_pct"),
    [
        (dt.date(2022, 6, 15), "0.01", "0.05"),
        (dt.date(2023, 3, 31), "0.01", "0.05"),
        (dt.date(2023, 4, 3), "0.0125", "0.0625"),
        (dt.date(2024, 9, 30), "0.0125", "0.0625"),
        (dt.date(2024, 10, 1), "0.02", "0.1"),
        (dt.date(2026, 3, 31), "0.02", "0.1"),
        (dt.date(2026, 4, 1), "0.05", "0.15"),
    ],
)
def test_regime_boundaries(
    zerodha: ZerodhaCosts, day: dt.date, futures_stt_pct: str, options_stt_pct: str
) -> None:
    regime = zerodha.schedule.regime_for(day)
    assert regime.segments[FUT].stt.pct == D(futures_stt_pct)
    assert regime.segments[OPT].stt.pct == D(options_stt_pct)
    assert regime.segments[EQ].stt.pct == D("0.025")  # intraday STT never changed


def test_a_2022_trade_and_a_2026_trade_pay_different_stt(zerodha: ZerodhaCosts) -> None:
    old = zerodha.order_charges(FUT, "SELL", 20000, 50, DAY_2022)  # 10,00,000 x 0.01%
    new = zerodha.order_charges(FUT, "SELL", 20000, 50, DAY_2026)  # 10,00,000 x 0.05%
    assert old.stt == D("100.00")
    assert new.stt == D("500.00")


def test_exchange_txn_changes_on_2026_03_01(zerodha: ZerodhaCosts) -> None:
    before = zerodha.order_charges(EQ, "BUY", 1000, 1000, dt.date(2026, 2, 27))
    after = zerodha.order_charges(EQ, "BUY", 1000, 1000, dt.date(2026, 3, 2))
    assert before.exchange_txn == D("29.70")  # 0.00297% of 10,00,000
    assert after.exchange_txn == D("30.70")  # 0.00307%


def test_day_before_first_regime_is_refused(zerodha: ZerodhaCosts) -> None:
    with pytest.raises(ConfigError, match="2021-01-01"):
        zerodha.order_charges(EQ, "BUY", 100, 1, dt.date(2020, 12, 31))


def test_round_trip_across_a_regime_change_prices_each_order_on_its_own_day(
    zerodha: ZerodhaCosts,
) -> None:
    c = trade_charges(zerodha, FUT, "LONG", 20000, 20000, 50, dt.date(2026, 3, 31), DAY_2026)
    assert c.stt == D("500.00")  # the sell falls in the 2026-04-01 regime


def test_datetime_is_taken_at_its_date(zerodha: ZerodhaCosts) -> None:
    when = dt.datetime(2026, 4, 1, 9, 15)
    assert zerodha.schedule.regime_for(when).effective_from == dt.date(2026, 4, 1)


def test_bundled_schedule_is_sorted_and_sourced(zerodha: ZerodhaCosts) -> None:
    starts = [r.effective_from for r in zerodha.schedule.regimes]
    assert starts == sorted(starts)
    assert dt.date(2024, 10, 1) in starts and dt.date(2026, 4, 1) in starts
    assert all(r.source and r.note for r in zerodha.schedule.regimes)


# -- models and breakdown ---------------------------------------------------------------------


def test_no_costs_is_zero() -> None:
    model = cost_model("none")
    assert isinstance(model, NoCosts)
    assert trade_charges(model, EQ, "LONG", 100, 101, 10, DAY_2026, DAY_2026).total == D("0")


def test_both_models_satisfy_the_protocol(zerodha: ZerodhaCosts) -> None:
    assert isinstance(zerodha, CostModel)
    assert isinstance(NoCosts(), CostModel)


def test_unknown_model_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown cost model"):
        cost_model("icici")


@pytest.mark.parametrize(
    ("side", "price", "qty"),
    [("HOLD", 100, 1), ("BUY", 0, 1), ("BUY", 100, 0), ("BUY", 1, 1.5), ("BUY", "x", 1)],
)
def test_bad_order_arguments_raise(
    zerodha: ZerodhaCosts, side: str, price: float, qty: int
) -> None:
    with pytest.raises(ValueError):
        zerodha.order_charges(EQ, side, price, qty, DAY_2026)  # type: ignore[arg-type]


def test_breakdown_adds_and_totals() -> None:
    a = ChargeBreakdown(brokerage=D("1.10"), gst=D("0.20"))
    b = ChargeBreakdown(stt=D("2.00"), stamp_duty=D("0.03"))
    assert (a + b).total == D("3.33")
    assert sum([a, b], ChargeBreakdown()) == a + b


def test_float_price_is_taken_at_its_decimal_value(zerodha: ZerodhaCosts) -> None:
    # 0.1 + 0.2 style float noise must not move a paisa: 1010.05 x 100 = 1,01,005 exactly
    c = zerodha.order_charges(EQ, "SELL", 1010.05, 100, DAY_2026)
    assert c.stt == D("25.25")  # 25.25125 -> 25.25
    assert c == zerodha.order_charges(EQ, "SELL", D("1010.05"), 100, DAY_2026)


# -- broken schedule files ----------------------------------------------------------------------

GOOD_SEGMENT = """
brokerage    = {{ kind = "pct_capped", pct = 0.03, cap = 20 }}
stt          = {{ side = "SELL", pct = {stt} }}
exchange_txn = {{ pct = 0.00307 }}
sebi_fee     = {{ per_crore = 10 }}
stamp_duty   = {{ side = "BUY", pct = 0.003 }}
gst          = {{ pct = 18, on = ["brokerage", "exchange_txn", "sebi_fee"] }}
"""


def _schedule_text(start: str = "2024-10-01", stt: str = "0.025") -> str:
    body = f'[[regime]]\neffective_from = {start}\nsource = "test"\nnote = "test"\n'
    for seg in ("equity_intraday", "futures", "options"):
        body += f"[regime.{seg}]" + GOOD_SEGMENT.format(stt=stt)
    return body


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "charges.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_schedule_loads(tmp_path: Path) -> None:
    schedule = ChargeSchedule.load(_write(tmp_path, _schedule_text()))
    assert [r.effective_from for r in schedule.regimes] == [dt.date(2024, 10, 1)]


def test_regimes_are_sorted_whatever_the_file_order(tmp_path: Path) -> None:
    text = _schedule_text("2026-04-01", "0.05") + _schedule_text("2022-01-01", "0.01")
    schedule = ChargeSchedule.load(_write(tmp_path, text))
    assert [r.effective_from.year for r in schedule.regimes] == [2022, 2026]
    assert schedule.regime_for(dt.date(2023, 1, 2)).segments[FUT].stt.pct == D("0.01")


def _swap(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


SEG = "regime[1].equity_intraday"


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (_swap("cap = 20", "cup = 20"), f"{SEG}.brokerage.cup"),
        (_swap('side = "SELL", ', ""), f"{SEG}.stt.side"),
        (_swap("pct = 0.025", 'pct = "0.025"'), f"{SEG}.stt.pct"),
        (_swap("pct = 0.025", "pct = -0.025"), f"{SEG}.stt.pct"),
        (_swap('"SELL"', '"SOLD"'), f"{SEG}.stt.side"),
        (_swap('"pct_capped"', '"tiered"'), f"{SEG}.brokerage.kind"),
        (_swap('"sebi_fee"]', '"stt_fee"]'), f"{SEG}.gst.on"),
        (_swap("per_crore = 10", "per_lakh = 10"), f"{SEG}.sebi_fee.per_lakh"),
        (_swap("= 2024-10-01", '= "2024-10-01"'), "regime[1].effective_from"),
        (_swap("effective_from = 2024-10-01\n", ""), "regime[1].effective_from"),
        (_swap('source = "test"\n', ""), "regime[1].source"),
        (lambda text: text.split("[regime.options]")[0], "regime[1].options"),
        (lambda text: "", "regime"),
    ],
)
def test_broken_schedule_names_file_and_key(
    tmp_path: Path, mutate: Callable[[str], str], key: str
) -> None:
    path = _write(tmp_path, mutate(_schedule_text()))
    with pytest.raises(ConfigError) as info:
        ChargeSchedule.load(path)
    assert str(path) in str(info.value)
    assert key in str(info.value)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "[[regime]\neffective_from = ")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        ChargeSchedule.load(path)
    assert str(path) in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        ChargeSchedule.load(tmp_path / "nope.toml")


def test_duplicate_start_dates_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _schedule_text() + _schedule_text())
    with pytest.raises(ConfigError, match="two regimes start on 2024-10-01"):
        ChargeSchedule.load(path)


def test_bundled_file_is_where_cost_model_looks() -> None:
    assert resource("charges", "zerodha.toml").is_file()
