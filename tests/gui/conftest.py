"""GUI tests: cyclic garbage is collected on the UI thread only, as the application does."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _gc_on_ui_thread() -> Iterator[None]:
    """A collection that starts on a worker thread (the engine's, a background load) and frees Qt
    or pyqtgraph objects there can crash the process; the app collects on a UI-thread timer
    (``app.runtime.desktop_runtime``), tests collect around each test."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()
    gc.collect()
