"""A paper session for the engine crash test: trades replayed demo bars until it is killed.

    python tests/integration/engine_crash_child.py HOME start|restart PACE_US

``start`` opens the journal under HOME (mode ``paper``) and runs the engine over two days of
two demo instruments, sleeping PACE_US microseconds between events so that a kill lands
mid-session; it prints ``ready`` first and ``progress <n>`` every 100 events. ``restart`` reads
the journal back (the writer moves a torn tail aside), restores the engine with the bars that
started before the journal's last record, replays the rest at full speed, closes the session
and prints ``done``.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.automation.engine import Engine  # noqa: E402
from core.automation.recovery import latest_book  # noqa: E402
from core.automation.replay import resume_split  # noqa: E402
from core.clock import SimClock  # noqa: E402
from core.execution.paper import PaperBroker  # noqa: E402
from core.journal.writer import JournalWriter  # noqa: E402
from core.market.bars import BarSeries  # noqa: E402
from core.market.feed import ReplayFeed  # noqa: E402
from core.market.instruments import default_master  # noqa: E402
from core.market.synthetic import generate_series  # noqa: E402
from core.risk.engine import RiskEngine  # noqa: E402
from core.risk.limits import RiskLimits  # noqa: E402
from core.risk.rms import PaperRms  # noqa: E402
from core.strategies import create  # noqa: E402

MODE = "paper"
ARMS = [("DEMO_TREND", "ema_cross"), ("DEMO_TREND", "range_breakout"), ("DEMO_VOL", "ema_cross")]


def series() -> list[BarSeries]:
    a = generate_series("SYN", dt.date(2023, 1, 2), 2, seed=31)
    b = generate_series("SYN", dt.date(2023, 1, 2), 2, seed=32, regime="high_vol")
    return [BarSeries("DEMO_TREND", a.frame, 1, a.source), BarSeries("DEMO_VOL", b.frame, 1, b.source)]


def engine(clock: SimClock, writer: JournalWriter) -> Engine:
    strategies = {
        "ema_cross": create("ema_cross", stop="1atr", target="2r", trail="1atr", trail_after="0.5r",
                            breakeven="0.7r", partial="0.5r:30%,1r:30%", qty="10", slippage="1tick"),
        "range_breakout": create("range_breakout", stop="15pts", trail="10pts", qty="3", partial="1r:50%"),
    }
    master = default_master()
    limits = RiskLimits()
    broker = PaperBroker(master, slippage_for=lambda r: strategies[r.strategy].trade.slippage)
    built = Engine(clock, broker, RiskEngine(limits, PaperRms(limits.capital, master), clock), strategies,
                   record=lambda t, p, tr: writer.append(t, p, tr), master=master, mode=MODE)
    built.standing_arms = list(ARMS)
    return built


def main() -> int:
    home, phase, pace = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) / 1e6
    bars = series()
    start = bars[0].frame.index[0].to_pydatetime() - dt.timedelta(minutes=1)
    if phase == "start":
        clock = SimClock(start)
        with JournalWriter(clock, MODE, home=home) as writer:
            running = engine(clock, writer)
            print("ready", flush=True)
            for n, event in enumerate(ReplayFeed(bars).events(), start=1):
                running.handle(event)
                if n % 100 == 0:
                    print("progress", n, flush=True)
                time.sleep(pace)
            running.finish()
        print("done", flush=True)
        return 0
    book, _ = latest_book(home, MODE)  # read before the writer opens (it may cut a torn tail: same records)
    resume = book.last_time or start  # nothing journaled before the kill: a fresh start
    clock = SimClock(resume)
    with JournalWriter(clock, MODE, home=home) as writer:
        running = engine(clock, writer)
        warm, rest = resume_split(bars, resume)
        running.restore(book, warm)
        running.run(ReplayFeed(rest).events())
        running.finish()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
