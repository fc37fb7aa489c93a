"""The arm grid model: a snapshot repaints only the pairs whose state changed."""

from __future__ import annotations

from app.models.arm_grid_model import ArmGridModel
from core.automation.snapshot import SlotView


def view(symbol: str, strategy: str, armed: bool = False, failed: str = "") -> SlotView:
    return SlotView(symbol, strategy, armed, failed, "", None, 0)


def test_only_changed_cells_repaint_and_failures_show_until_armed(qtbot) -> None:  # type: ignore[no-untyped-def]
    pairs = [(f"S{k:03d}", st) for k in range(200) for st in ("a", "b", "c", "d")]
    grid = ArmGridModel(pairs)
    painted: list[tuple[int, int]] = []
    grid.dataChanged.connect(lambda tl, br: painted.append((tl.row(), tl.column())))
    everything = [view(s, st, armed=True) for s, st in pairs]
    assert grid.apply(everything) == 800
    painted.clear()
    assert grid.apply(everything) == 0 and painted == []  # an unchanged snapshot costs no repaint
    changed = [*everything[:5], view("S001", "b", failed="no price of S001"), *everything[6:]]
    assert grid.apply(changed) == 1 and painted == [(1, 1)]
    assert grid.cell("S001", "b").text == "✗ check failed"
    assert "no price of S001" in grid.cell("S001", "b").tooltip
    assert grid.armed("S000", "a") and not grid.armed("S001", "b")
    assert grid.apply([]) == 800  # a pair missing from the snapshot is idle (disarmed, no failure)
    assert grid.cell("S199", "d").text == "arm"
