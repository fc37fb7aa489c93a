"""Risk limits as a trader writes them, and the order-rate throttle on market-clock instants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.clock import IST
from core.errors import ConfigError
from core.risk.limits import RiskLimits, format_inr, parse_rupees
from core.risk.rate import OrderRateLimiter
from core.risk.state import TradingState

D = Decimal


def test_defaults_are_a_demanding_traders() -> None:
    limits = RiskLimits()
    assert limits.capital == D("1000000.00")
    assert (limits.max_open_positions, limits.orders_per_second, limits.orders_per_minute) == (20, 10, 200)
    assert limits.max_loss_per_trade == limits.daily_loss_limit == limits.max_order_value == D("0.00")


@pytest.mark.parametrize(
    ("text", "rupees"),
    [
        ("50000", "50000.00"),
        ("50,000", "50000.00"),
        ("10,00,000", "1000000.00"),
        ("50k", "50000.00"),
        ("1.5L", "150000.00"),
        ("1.5lakh", "150000.00"),
        ("2 lakhs", "200000.00"),
        ("2cr", "20000000.00"),
        ("1.25 crore", "12500000.00"),
        ("Rs 5,000", "5000.00"),
        ("₹2.5k", "2500.00"),
        ("off", "0.00"),
    ],
)
def test_rupee_amounts_read_the_indian_way(text: str, rupees: str) -> None:
    assert parse_rupees(text) == D(rupees)


def test_from_mapping_reads_set_style_strings() -> None:
    limits = RiskLimits.from_mapping(
        {"capital": "1.5L", "daily_loss_limit": "2cr", "max_loss_per_trade": "5k",
         "orders_per_second": "8", "max-open-positions": "5"}
    )
    assert limits.capital == D("150000.00")
    assert limits.daily_loss_limit == D("20000000.00")
    assert limits.max_loss_per_trade == D("5000.00")
    assert (limits.orders_per_second, limits.max_open_positions) == (8, 5)
    assert limits.orders_per_minute == 200  # untouched keys keep their default


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_loss", "5k", "unknown risk setting"),
        ("daily_loss_limit", "lots", "cannot read 'lots' as rupees"),
        ("daily_loss_limit", "5x", "cannot read '5x' as rupees"),
        ("capital", "0", "must be positive"),
        ("capital", "off", "cannot read 'off' as rupees"),
        ("orders_per_second", "0", "below the minimum 1"),
        ("orders_per_minute", "ten", "expected a whole number"),
        ("heat_cap_pct", "150", "must be between 0 and 100"),
        ("risk_per_trade_pct", "one", "cannot read 'one' as a percentage"),
        ("max_corr", "1.5", "must be between 0 and 1"),
        ("sizing", "martingale", "is not one of fixed, risk, vol, kelly"),
        ("loss_streak", "3", "loss_streak and cooldown_min go together"),
        ("lockout", "09:20-09:15", "its start first"),
        ("lockout", "morning", "write HH:MM-HH:MM"),
        ("max-positions", "0", "below the minimum 1"),
    ],
)
def test_from_mapping_names_the_bad_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        RiskLimits.from_mapping({key: value})
    assert err.value.where == key
    assert message in err.value.message


def test_money_in_messages_uses_indian_grouping() -> None:
    assert format_inr(D("123456.7")) == "Rs 1,23,456.70"
    assert format_inr(D("-12345678.9")) == "-Rs 1,23,45,678.90"
    assert format_inr(D("999")) == "Rs 999.00"


def test_only_active_allows_entries() -> None:
    assert [s.allows_entries for s in TradingState] == [True, False, False]


# ---------------------------------------------------------------------------------------------
# The throttle

T0 = dt.datetime(2026, 11, 20, 10, 0, 0, tzinfo=IST)


def ms(n: int) -> dt.datetime:
    return T0 + dt.timedelta(milliseconds=n)


def test_ten_orders_per_calendar_second_then_the_next_second_is_open() -> None:
    rate = OrderRateLimiter(per_second=10, per_minute=200)
    for i in range(10):
        assert rate.would_allow(ms(i * 90)) is None
        rate.record(ms(i * 90))
    assert rate.refusal(ms(950)) is not None
    assert rate.refusal(ms(950))[0] == "rate_second"  # type: ignore[index]
    assert "10 orders already sent in this second (limit 10/s)" in (rate.would_allow(ms(999)) or "")
    assert rate.would_allow(ms(1000)) is None  # a new calendar second, though 10 were < 1 s ago


def test_the_second_is_the_calendar_second_not_a_sliding_one() -> None:
    rate = OrderRateLimiter(per_second=2, per_minute=200)
    rate.record(ms(990))
    rate.record(ms(995))
    assert rate.would_allow(ms(999)) is not None
    assert rate.would_allow(ms(1001)) is None  # 11 ms after two orders: a new second


def test_the_minute_window_slides() -> None:
    rate = OrderRateLimiter(per_second=10, per_minute=20)
    for i in range(20):
        rate.record(ms(i * 1000))  # one a second, 10:00:00 .. 10:00:19
    refusal = rate.refusal(ms(30_000))
    assert refusal is not None and refusal[0] == "rate_minute"
    assert refusal[1] == "20 orders sent in the last 60 s (limit 20/min)"
    assert rate.would_allow(ms(59_999)) is not None
    assert rate.would_allow(ms(60_000)) is None  # the 10:00:00 order left the window


def test_the_throttle_is_deterministic_on_the_instants_it_is_given() -> None:
    def run() -> list[str | None]:
        rate = OrderRateLimiter(per_second=3, per_minute=5)
        out = []
        for i in range(12):
            now = ms(i * 250)
            out.append(rate.would_allow(now))
            if out[-1] is None:
                rate.record(now)
        return out

    assert run() == run()
    assert [r is None for r in run()] == [True, True, True, False, True, True,
                                          False, False, False, False, False, False]


def test_portfolio_settings_read_percentages_aliases_and_windows() -> None:
    limits = RiskLimits.from_mapping({"max_positions": "5", "risk_per_trade_pct": "0.5%", "sizing": "risk",
                                      "dd_soft_pct": "1", "dd_hard_pct": "2", "max_corr": "0.7",
                                      "lockout": "09:15-09:20", "heat_cap_pct": "off"})
    assert limits.max_open_positions == 5 and limits.risk_per_trade_pct == D("0.5")
    assert limits.max_corr == D("0.7") and limits.heat_cap_pct == 0
    assert limits.pct_of_capital(limits.risk_per_trade_pct) == D("5000.00")
    assert [(a.isoformat(), b.isoformat()) for a, b in limits.lockout] == [("09:15:00", "09:20:00")]
    with pytest.raises(ConfigError) as err:
        RiskLimits.from_mapping({"sizing": "risk"})
    assert err.value.where == "risk_per_trade_pct" and "sizing=risk needs risk_per_trade_pct" in err.value.message
    with pytest.raises(ConfigError) as err:
        RiskLimits.from_mapping({"dd_soft_pct": "3", "dd_hard_pct": "2"})
    assert err.value.where == "dd_soft_pct" and "must be below dd_hard_pct" in err.value.message
