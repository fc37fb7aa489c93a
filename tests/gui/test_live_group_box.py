"""LiveGroupBox: a new title repaints the box and lays nothing out again; a wider one is never cut."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.widgets.live_group_box import LiveGroupBox


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_a_live_title_shows_without_relayout_and_a_wider_one_grows_the_box(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    layout = QVBoxLayout(host)
    box = LiveGroupBox("Working orders  (9999: 9999 entry, 9999 protective)")
    QVBoxLayout(box).addWidget(QLabel("a table"))
    layout.addWidget(box)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    qtbot.wait(50)  # the first layout passes are over
    requests = LayoutRequests()
    host.installEventFilter(requests)
    before = box.grab().toImage()
    box.set_live_title("Working orders  (3: 1 entry, 2 protective)")
    qtbot.wait(20)
    assert requests.count == 0  # the window is not laid out again
    assert box.live_title() == "Working orders  (3: 1 entry, 2 protective)"
    assert box.grab().toImage() != before  # the new title is painted

    wide = "Working orders  (12345: 6789 entry, 5556 protective, and a far longer tail)"
    box.set_live_title(wide)
    qtbot.wait(20)
    assert box.minimumSizeHint().width() >= box.fontMetrics().horizontalAdvance(wide)  # room for all of it
