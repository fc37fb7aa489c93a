"""LiveLabel: changing text never re-sizes it (no relayout of the window), and nothing is cut off."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.widgets.live_label import LiveLabel


def test_a_live_label_keeps_its_size_while_its_text_changes_and_grows_for_a_wider_text(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    layout = QHBoxLayout(host)
    label = LiveLabel("day P&L ₹-99,999.99", "day P&L —")
    label.setContentsMargins(8, 0, 8, 0)
    neighbour = QLabel("right of it")
    layout.addWidget(label)
    layout.addWidget(neighbour)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    size, x = label.size(), neighbour.x()
    for text in ("day P&L ₹1.00", "day P&L ₹-12,345.67", "day P&L ₹0.00"):
        label.setText(text)
        qtbot.wait(1)
        assert label.size() == size and neighbour.x() == x  # the row is not laid out again
    wide = "day P&L ₹-1,23,45,67,890.12 (a text far wider than the sample)"
    label.setText(wide)
    assert label.contentsRect().width() >= label.fontMetrics().horizontalAdvance(wide)  # grown, not cut off
    assert label.text() == wide
