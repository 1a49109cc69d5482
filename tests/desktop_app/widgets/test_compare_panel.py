"""The compare panel's zoom read-out: a percentage only while a photo is on show."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from desktop_app.widgets.compare_panel import ComparePanel


def test_zoom_label_is_blank_over_an_empty_canvas(qtbot) -> None:
    panel = ComparePanel()
    qtbot.addWidget(panel)
    panel.resize(800, 500)
    panel.show()
    assert panel.zoom_label.text() == ""
    panel.zoom_in.click()  # greyed: nothing to zoom, and no "31%" appears
    assert panel.zoom_label.text() == "" and not panel.zoom_in.isEnabled()
    image = QImage(100, 50, QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.red)
    panel.view.set_images(image, None)
    qtbot.waitUntil(lambda: panel.zoom_label.text().endswith("%"))
    assert panel.zoom_in.isEnabled()
    panel.view.set_images(None, None)  # the photo removed
    qtbot.waitUntil(lambda: panel.zoom_label.text() == "")
    panel.view.zoom_by(1.25)  # the wheel over an empty canvas
    assert panel.zoom_label.text() == ""
