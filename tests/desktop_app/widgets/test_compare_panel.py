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


def test_before_choice_is_greyed_with_its_reason_until_there_are_two_results(qtbot) -> None:
    from desktop_app.widgets.compare_panel import NOTHING_TO_COMPARE_TIP, ORIGINAL

    panel = ComparePanel()
    qtbot.addWidget(panel)
    # A fresh panel (a new start, no photo): nothing to pick, and the tooltip says why.
    assert not panel.left_choice.isEnabled() and not panel.left_label.isEnabled()
    assert panel.left_choice.toolTip() == NOTHING_TO_COMPARE_TIP
    assert panel.left_label.toolTip() == NOTHING_TO_COMPARE_TIP
    panel.set_left_choices(["Fast (MFAGAN) x4"], ORIGINAL)
    assert panel.left_choice.isEnabled() and "before side shows" in panel.left_choice.toolTip()
    panel.set_left_choices([], ORIGINAL)
    assert not panel.left_choice.isEnabled()
    assert panel.left_choice.toolTip() == NOTHING_TO_COMPARE_TIP
