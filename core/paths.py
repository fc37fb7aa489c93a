"""Where things live: bundled resources and the user's data directory (``ATW_HOME``)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

RESOURCES = Path(os.environ.get("ATW_RESOURCES", Path(__file__).resolve().parents[1] / "resources"))


def atw_home() -> Path:
    """The user data directory: ``ATW_HOME`` when set, else the platform's user data dir."""
    home = os.environ.get("ATW_HOME")
    path = Path(home) if home else Path(user_data_dir("atw", "AutotradeWorkstation"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def resource(*parts: str) -> Path:
    """A bundled file under ``resources/``."""
    return RESOURCES.joinpath(*parts)
