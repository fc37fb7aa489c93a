"""Exposure and heat caps: a breached cap refuses (or cuts, when asked) with the numbers."""

from __future__ import annotations

import math

from core.risk.limits import RiskLimits
from core.risk.portfolio import Exposure, PortfolioBook, fit


def item(key: str, symbol: str, side: int, qty: int, price: float, stop: float = math.nan, *,
         sector: str = "IT", strategy: str = "ema_cross") -> Exposure:
    return Exposure(key, symbol, strategy, sector, symbol, "", side, qty, price, stop)


def test_the_book_keeps_gross_net_heat_and_group_sums_as_items_come_and_go() -> None:
    book = PortfolioBook()
    book.put(item("a", "INFY", 1, 100, 1500.0, 1490.0))
    book.put(item("b", "TCS", -1, 20, 4000.0, 4050.0))
    assert (book.gross, book.net, book.heat) == (230_000.0, 70_000.0, 2_000.0)
    assert book.gross_of("sector", "IT") == 230_000.0 and book.gross_of("instrument", "TCS") == 80_000.0
    book.put(item("a", "INFY", 1, 50, 1500.0, 1495.0))  # partly exited, the stop trailed
    assert (book.gross, book.heat) == (155_000.0, 1_250.0)
    book.remove("b")
    book.remove("b")  # twice is harmless
    assert (book.gross, book.net, book.heat) == (75_000.0, 75_000.0, 250.0)


def test_the_heat_cap_refuses_an_entry_it_cannot_hold_and_cuts_it_when_asked() -> None:
    book = PortfolioBook()
    book.put(item("a", "INFY", 1, 1500, 1500.0, 1490.0))  # Rs 15,000 at risk
    new = item("n", "SBIN", 1, 800, 800.0, 787.5)  # Rs 10,000 more
    rule = RiskLimits.from_mapping({"capital": "10L", "heat_cap_pct": "2"})  # Rs 20,000 in all
    room = fit(rule, book, new, lot_size=1)
    assert room.qty == 400  # Rs 5,000 of room at Rs 12.50 a unit
    assert "portfolio heat Rs 15,000.00 of Rs 20,000.00" in room.why
    assert fit(rule, book, item("n", "SBIN", 1, 300, 800.0, 787.5), lot_size=1).qty == 300  # fits: all of it


def test_sector_instrument_gross_and_net_caps_each_bind_with_their_numbers() -> None:
    book = PortfolioBook()
    book.put(item("a", "INFY", 1, 200, 1500.0))  # Rs 3,00,000 of IT
    rule = RiskLimits.from_mapping({"capital": "10L", "max_sector_pct": "40"})  # Rs 4,00,000 per sector
    room = fit(rule, book, item("n", "TCS", 1, 50, 4000.0), lot_size=1)
    assert room.qty == 25 and "sector IT: Rs 3,00,000.00 of Rs 4,00,000.00" in room.why
    other = fit(rule, book, item("n", "SBIN", 1, 50, 800.0, sector="Financials"), lot_size=1)
    assert other.qty == 50 and other.why == ""
    net = RiskLimits.from_mapping({"capital": "10L", "max_net_pct": "50"})  # |long - short| <= Rs 5,00,000
    assert fit(net, book, item("n", "TCS", 1, 100, 4000.0), lot_size=1).qty == 50  # longs: Rs 2,00,000 left
    assert fit(net, book, item("n", "TCS", -1, 200, 4000.0), lot_size=1).qty == 200  # a short hedges: allowed
    gross = RiskLimits.from_mapping({"capital": "10L", "max_gross_pct": "35"})
    assert fit(gross, book, item("n", "TCS", -1, 200, 4000.0), lot_size=25).qty == 0  # Rs 50,000 left: no lot of 25


def test_a_stop_in_profit_puts_nothing_at_risk_and_a_stop_at_the_price_cannot_divide_by_zero() -> None:
    locked = item("a", "INFY", 1, 100, 1500.0, 1510.0)  # a long whose stop trailed above its entry
    assert locked.risk == 0.0 and item("b", "TCS", -1, 10, 4000.0, 3990.0).risk == 0.0
    book = PortfolioBook()
    book.put(locked)
    rule = RiskLimits.from_mapping({"capital": "10L", "heat_cap_pct": "0.1"})
    assert book.heat == 0.0
    assert fit(rule, book, item("n", "SBIN", 1, 300, 800.0, 800.0), lot_size=1).qty == 300  # risks nothing
