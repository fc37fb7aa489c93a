"""Shared fixtures: a private ATW_HOME per test, synthetic markets, and the optional real NSE data."""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
NSE_DATA = REPO.parent / "shared" / "market-data" / "nse"
NIFTY_DIR = NSE_DATA / "d3v-S_OHLCData" / "data"
STOCKS_DIR = NSE_DATA / "swastiverma77_StocksTrading_Dashboard" / "data"


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("atw_home")
    monkeypatch.setenv("ATW_HOME", str(home))
    return home


@lru_cache(maxsize=16)
def synthetic(symbol: str = "SYN", sessions: int = 60, seed: int = 11, regime: str = "mixed",
              start: dt.date = dt.date(2023, 1, 2)):  # type: ignore[no-untyped-def]
    """A deterministic synthetic 1-minute series (cached: series are immutable)."""
    from core.market.synthetic import generate_series

    return generate_series(symbol, start, sessions, seed=seed, regime=regime)  # type: ignore[arg-type]


def nifty_files() -> list[Path]:
    """The 25 monthly NIFTY 1-minute files, or a skip when the shared data is absent."""
    if not NIFTY_DIR.is_dir():
        pytest.skip(f"real NSE data not present at {NIFTY_DIR} (it is not shipped with the project)")
    files = sorted(NIFTY_DIR.glob("* NIFTY.txt"))
    if len(files) < 25:
        pytest.skip(f"expected 25 NIFTY files in {NIFTY_DIR}, found {len(files)}")
    return files
