"""The embedded default: the demo session trades within seconds at its watchable speed, for real."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from core.automation.demo import DEMO_PLAY_FROM, DEMO_SPEED, open_demo_session
from core.automation.market_tape import MarketTape
from core.journal.reader import iter_records, journal_files
from core.journal.replay import replay
from core.ledger import Ledger
from core.market.events import Tick
from core.simulator.costs import cost_model

FIRST_TRADE_WITHIN_S = 30.0  # issue 5: "the demo trades within 30 seconds"


def test_the_demo_fills_an_entry_within_thirty_wall_seconds_of_opening(tmp_path: Path) -> None:
    tape = MarketTape()
    session = open_demo_session(speed=None, home=tmp_path, tape=tape, ledger=False)
    warm = tape.drain()
    assert warm.bars and max(b.start for b in warm.bars) < DEMO_PLAY_FROM  # the chart opens on history
    first_fill = None
    first_tick = None
    try:
        for event in session.feed.events():
            session.engine.handle(event)
            if first_tick is None and isinstance(event, Tick):
                first_tick = event.time
            fills = tape.drain().fills
            if fills:
                first_fill = fills[0]
                break
    finally:
        session.close()
    assert first_tick is not None and first_tick.date() == DEMO_PLAY_FROM.date()
    assert first_fill is not None and first_fill.purpose == "entry"
    market_wait = (first_fill.time - first_tick).total_seconds()
    assert market_wait / DEMO_SPEED <= FIRST_TRADE_WITHIN_S, f"first fill after {market_wait / 60:.1f} market minutes"


def test_the_demo_journals_and_ledgers_what_it_trades_to_the_paisa(tmp_path: Path) -> None:
    session = open_demo_session(speed=None, home=tmp_path)
    stop_at = DEMO_PLAY_FROM.replace(hour=12)
    try:
        for event in session.feed.events():
            session.engine.handle(event)
            if event.time >= stop_at:
                break
        session.engine.finish()
    finally:
        session.close()
    records = [r for path in journal_files(session.run_dir, mode="replay") for r in iter_records(path)]
    trades = replay(records).trades(cost_model("zerodha"), session.engine.master)
    assert len(trades) > 0
    with Ledger.open() as ledger:
        (row,) = [r for r in ledger.days(mode="replay") if r.day == DEMO_PLAY_FROM.date()]
    journal_net = sum((Decimal(str(x)) for x in trades["net_pnl"]), Decimal(0)).quantize(Decimal("0.01"))
    assert row.net == journal_net
    assert row.trades >= 1 and len(trades) >= row.trades  # positions in the ledger, legs in the fold
