"""A property of the portfolio guardrails: whatever the signals and prices, over many instruments,
the heat cap, the instrument and sector caps and the daily loss limit hold at every entry —
checked from the records the engine journals, rebuilt independently of the guard's own book."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.automation.engine import Engine
from core.clock import IST, SimClock
from core.execution.paper import PaperBroker
from core.market.bars import BarSeries
from core.market.events import Tick
from core.market.feed import ReplayFeed
from core.market.instruments import InstrumentMaster, default_master
from core.risk.engine import RiskEngine
from core.risk.limits import RiskLimits
from core.risk.rms import PaperRms
from core.strategies import create

EPS = 1e-6


def random_walks(n: int, seed: int, vol: float, sessions: int = 2) -> list[BarSeries]:
    rng = np.random.default_rng(seed)
    series = []
    for k in range(n):
        frames = []
        for day in range(sessions):
            start = pd.Timestamp(dt.datetime(2025, 1, 6 + day, 9, 15, tzinfo=IST))
            idx = pd.date_range(start, periods=375, freq="1min")
            common = rng.normal(0, vol, len(idx))
            close = (200.0 + 100 * k) * np.exp(np.cumsum(common + rng.normal(0, vol / 2, len(idx))))
            open_ = np.concatenate([[close[0]], close[:-1]])
            spread = np.abs(rng.normal(0, vol, len(idx))) * close
            frames.append(pd.DataFrame({"open": open_, "high": np.maximum(open_, close) + spread,
                                        "low": np.minimum(open_, close) - spread, "close": close,
                                        "volume": 1000.0}, index=idx))
        series.append(BarSeries(f"R{k}", pd.concat(frames), 1, "random walk"))
    return series


@dataclass
class Book:
    """The positions and working entries, rebuilt from the journal's records alone."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # coid -> symbol, side, open qty, price, stop
    positions: dict[str, dict[str, Any]] = field(default_factory=dict)  # position id -> symbol, side, qty, avg, stop
    stops: dict[str, str] = field(default_factory=dict)  # stop order coid -> position id
    decided: dict[str, dict[str, Any]] = field(default_factory=dict)  # entry coid -> its accepted risk check
    realised: float = 0.0

    def heat(self) -> float:
        """Risk to the stops (a stop past the entry, in profit, risks nothing; no stop: everything)."""
        def at_risk(side: int, price: float, stop: float) -> float:
            return max(side * (price - stop), 0.0) if math.isfinite(stop) else price

        return (sum(p["qty"] * at_risk(p["side"], p["avg"], p["stop"]) for p in self.positions.values())
                + sum(e["qty"] * at_risk(e["side"], e["price"], e["stop"]) for e in self.entries.values()))

    def gross(self, symbol: str | None = None) -> float:
        return (sum(p["qty"] * p["avg"] for p in self.positions.values() if symbol in (None, p["symbol"]))
                + sum(e["qty"] * e["price"] for e in self.entries.values() if symbol in (None, e["symbol"])))

    def pnl(self, marks: dict[str, float]) -> float:
        return self.realised + sum((marks[p["symbol"]] - p["avg"]) * p["side"] * p["qty"]
                                   for p in self.positions.values())

    def apply(self, kind: str, p: dict[str, Any]) -> None:
        if kind == "risk_check" and p["accepted"]:
            self.decided[p["client_order_id"]] = p
        elif kind == "order_intent" and p["purpose"] == "entry":
            d = self.decided[p["client_order_id"]]
            self.entries[p["client_order_id"]] = {"symbol": p["symbol"], "side": 1 if p["side"] == "BUY" else -1,
                                                  "qty": int(p["qty"]), "price": float(d["price"]),
                                                  "stop": float(d["stop"]) if d["stop"] else math.nan}
        elif kind == "order_intent" and p["order_type"] == "SL-M":
            self.stops[p["client_order_id"]] = p["position_id"]
            self._stop(p["position_id"], p.get("trigger_price"))
        elif kind == "order_update" and p.get("action") == "modify" and p["client_order_id"] in self.stops:
            self._stop(self.stops[p["client_order_id"]], p.get("trigger_price"))
        elif kind == "order_update" and p.get("status") in ("cancelled", "rejected", "expired"):
            self.entries.pop(p["client_order_id"], None)
        elif kind == "fill":
            self._fill(p)

    def _stop(self, pid: str, trigger: Any) -> None:
        if trigger is not None and pid in self.positions:
            self.positions[pid]["stop"] = float(trigger)

    def _fill(self, p: dict[str, Any]) -> None:
        qty, price, pid = int(p["qty"]), float(p["price"]), p["position_id"]
        if p["purpose"] == "entry":
            entry = self.entries.get(p["client_order_id"])
            if entry is not None:
                entry["qty"] -= qty
                if entry["qty"] <= 0:
                    del self.entries[p["client_order_id"]]
            pos = self.positions.setdefault(pid, {"symbol": p["symbol"], "side": 1 if p["side"] == "BUY" else -1,
                                                  "qty": 0, "avg": 0.0, "stop": math.nan})
            pos["avg"] = (pos["avg"] * pos["qty"] + price * qty) / (pos["qty"] + qty)
            pos["qty"] += qty
            if pos["qty"] == qty and p.get("initial_stop"):
                pos["stop"] = float(p["initial_stop"])
            return
        pos = self.positions[pid]
        closed = min(qty, pos["qty"])
        self.realised += (price - pos["avg"]) * pos["side"] * closed
        pos["qty"] -= closed
        if pos["qty"] == 0:
            del self.positions[pid]


SIZING = {"fixed": {"sizing": "fixed"}, "risk": {"sizing": "risk", "risk_per_trade_pct": "0.01"}}


@given(seed=st.integers(0, 10_000), n=st.integers(3, 6), vol=st.sampled_from([0.001, 0.002, 0.004]),
       sizing=st.sampled_from(["fixed", "risk"]), heat=st.sampled_from(["0.05", "0.1", "0.3"]),
       instrument=st.sampled_from(["5", "10"]), sector=st.sampled_from(["15", "30"]),
       daily=st.sampled_from(["0.05", "0.2"]), action=st.sampled_from(["refuse", "reduce"]))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_caps_and_the_daily_loss_limit_hold_at_every_entry(seed: int, n: int, vol: float, sizing: str, heat: str,
                                                            instrument: str, sector: str, daily: str,
                                                            action: str) -> None:
    series = random_walks(n, seed, vol, sessions=1)
    base = default_master()
    master = InstrumentMaster({**{s: base.get(s) for s in base.symbols()},
                               **{s.symbol: base.for_prices(s.symbol, s.frame["close"].to_numpy()) for s in series}})
    limits = RiskLimits.from_mapping({"capital": "10L", **SIZING[sizing], "heat_cap_pct": heat,
                                      "max_instrument_pct": instrument, "max_sector_pct": sector,
                                      "daily_loss_pct": daily, "cap_action": action, "max_positions": "50"})
    clock = SimClock(series[0].frame.index[0].to_pydatetime() - dt.timedelta(minutes=1))
    records: list[tuple[str, dict[str, Any]]] = []
    engine = Engine(clock, PaperBroker(master), RiskEngine(limits, PaperRms(limits.capital, master), clock),
                    {"ema_cross": create("ema_cross", fast="2", slow="5", stop="1atr", qty="100"),
                     "range_breakout": create("range_breakout", stop="1atr", qty="100")},
                    record=lambda t, p, _tr: records.append((str(t), dict(p))), master=master, mode="paper")
    engine.standing_arms = [(s.symbol, name) for s in series for name in ("ema_cross", "range_breakout")]
    book, seen, marks = Book(), 0, {}
    caps = {"heat": 10_00_000 * float(heat) / 100, "instrument": 10_00_000 * float(instrument) / 100,
            "sector": 10_00_000 * float(sector) / 100, "daily": 10_00_000 * float(daily) / 100}
    entries = 0
    locked_at = None
    for event in ReplayFeed(series).events():
        if isinstance(event, Tick):
            marks[event.symbol] = event.price
        engine.handle(event)
        for kind, payload in records[seen:]:
            if kind == "order_intent" and payload["purpose"] == "entry":
                d = book.decided[payload["client_order_id"]]
                qty, price = int(payload["qty"]), float(d["price"])
                stop = float(d["stop"]) if d["stop"] else math.nan
                side = 1 if payload["side"] == "BUY" else -1
                new_risk = qty * (max(side * (price - stop), 0.0) if math.isfinite(stop) else price)
                assert book.heat() + new_risk <= caps["heat"] + EPS, (book.heat(), new_risk, caps)
                assert book.gross(payload["symbol"]) + qty * price <= caps["instrument"] + EPS
                assert book.gross() + qty * price <= caps["sector"] + EPS  # one sector: every instrument is assumed
                assert book.pnl(marks) > -caps["daily"], (book.pnl(marks), caps["daily"])
                assert locked_at is None, "an entry after the daily loss lock"
                entries += 1
            if kind == "note" and payload.get("event") == "drawdown" and payload["level"] == "daily_loss":
                locked_at = payload
            book.apply(kind, payload)
        seen = len(records)
    engine.finish()
    assert entries > 0, "the random markets made no entry: the property was not exercised"
