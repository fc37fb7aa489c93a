"""The risk panel's portfolio box shows the engine's own figures: each limit set, its use, what
would trip it, the tail risk, cooling strategies; a limit that is off is not shown."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from app.widgets.risk_panel import RiskPanel
from core.automation.snapshot import build_snapshot
from core.market.events import Tick
from core.risk.limits import RiskLimits, format_inr
from core.risk.rms import rupees
from tests.integration.test_portfolio_guard import events_of, start


def engine_with_a_position(tmp_path: Path, limits: RiskLimits):  # type: ignore[no-untyped-def]
    events, at = events_of(2)
    engine, writer = start(tmp_path, at, limits)
    held = None
    for event in events:
        engine.handle(event)
        if isinstance(event, Tick) and any(s.manager.position for s in engine.slots.values()):
            held = engine
            break
    writer.close()
    assert held is not None
    return held


def shown(qtbot, tmp_path: Path, limits: RiskLimits):  # type: ignore[no-untyped-def]
    """An engine holding a position under ``limits``, its snapshot, and the panel's box showing it."""
    engine = engine_with_a_position(tmp_path, limits)
    snap = build_snapshot(engine)
    panel = RiskPanel(lambda _c: None)
    qtbot.addWidget(panel)
    panel.apply_snapshot(snap)
    return engine, snap, panel.portfolio


def test_each_portfolio_limit_shows_its_use_and_what_would_trip_it(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    limits = RiskLimits.from_mapping({"capital": "1cr", "sizing": "risk", "risk_per_trade_pct": "0.01",
                                      "heat_cap_pct": "0.05", "max_sector_pct": "20", "dd_hard_pct": "2",
                                      "daily_loss_pct": "1", "var_limit_pct": "1"})
    engine, snap, box = shown(qtbot, tmp_path, limits)
    assert box.sizing_label.text() == "Sizing: risk 0.01% a trade (Rs 1,000.00)"
    heat = Decimal(repr(engine.guard.risk.book.heat)).quantize(Decimal("0.01"))
    figures, trips = box.row_text("portfolio heat")
    assert figures == f"{format_inr(heat)} of Rs 5,000.00"
    assert trips == f"{format_inr(Decimal('5000.00') - heat)} left: an entry risking more than what is left is refused"
    sector = [g for g in snap.portfolio.gauges if g.name.startswith("sector ")]  # type: ignore[union-attr]
    assert [g.name for g in sector] == ["sector Demo"] and sector[0].limit == Decimal("2000000.00")
    assert "drawdown to hard level" in box._names and "daily loss (net of charges)" in box._names
    assert "gross exposure" in box._names and box.row_text("gross exposure")[0].endswith("(no limit)")
    assert box.row_text("daily loss (net of charges)")[0] == f"{format_inr(max(-(engine.day_pnl() - engine.guard.day_charges), Decimal(0)))} of Rs 1,00,000.00"
    assert not [n for n in box._names if n.startswith(("instrument", "strategy", "99% CVaR"))]  # off: not shown


def test_with_no_portfolio_limit_the_box_says_so(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _engine, snap, box = shown(qtbot, tmp_path, RiskLimits())
    assert box.sizing_label.text() == "Sizing: fixed: each strategy's qty"
    assert set(box._names) == {"portfolio heat", "gross exposure", "net exposure"}  # shown, with their limits off
    assert box.row_text("portfolio heat")[1] == ""  # no limit: nothing trips
    assert rupees(snap.portfolio.gauges[0].used) > 0  # type: ignore[union-attr]  # the open position's risk
