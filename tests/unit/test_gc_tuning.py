"""steady_gc freezes the heap built so far and raises the thresholds (in a child: it is process-wide)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_steady_gc_freezes_the_built_heap_and_raises_the_thresholds() -> None:
    code = (
        "import gc, sys; sys.path.insert(0, sys.argv[1]);"
        "from core.automation.gc_tuning import THRESHOLDS, steady_gc;"
        "keep = [[i] for i in range(10000)];"
        "old = steady_gc();"
        "assert old == (700, 10, 10), old;"
        "assert gc.get_threshold() == THRESHOLDS;"
        "assert gc.get_freeze_count() >= 10000, gc.get_freeze_count();"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
