"""Compare view: the split line, side by side, one zoom and pan for both, 1:1, fit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop_app.widgets.compare_view import CompareView


def solid(width: int, height: int, color: Qt.GlobalColor) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB888)
    image.fill(color)
    return image


@pytest.fixture
def view(qtbot) -> CompareView:
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    view.show()
    # Before 100x50 (red) stretched over the 400x200 result (blue), as after a x4 upscale.
    view.set_images(
        solid(100, 50, Qt.GlobalColor.red),
        solid(400, 200, Qt.GlobalColor.blue),
        before_label="Original",
        after_label="bicubic x4",
    )
    return view


def color_at(view: CompareView, x: int, y: int) -> QColor:
    return view.grab().toImage().pixelColor(x, y)


def test_split_shows_before_left_and_after_right(view: CompareView) -> None:
    x = round(view.split_x())
    assert color_at(view, x - 60, 200) == QColor(Qt.GlobalColor.red)
    assert color_at(view, x + 60, 200) == QColor(Qt.GlobalColor.blue)


def test_dragging_the_split_line_moves_it(qtbot, view: CompareView) -> None:
    start = QPoint(round(view.split_x()), 200)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, QPoint(200, 200))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    assert view.split == pytest.approx(200 / 800)
    assert color_at(view, 260, 200) == QColor(Qt.GlobalColor.blue)
    assert color_at(view, 140, 200) == QColor(Qt.GlobalColor.red)


def test_fit_shows_the_whole_image(view: CompareView) -> None:
    view.fit()
    (pane,) = view.panes()
    shown = view.content_rect_in(pane)
    assert pane.contains(shown.adjusted(1, 1, -1, -1))
    assert shown.width() == pytest.approx(pane.width()) or shown.height() == pytest.approx(
        pane.height()
    )


def test_one_to_one_is_one_image_pixel_per_screen_pixel(view: CompareView) -> None:
    view.actual_pixels()
    assert view.zoom == pytest.approx(1.0)
    (pane,) = view.panes()
    assert view.content_rect_in(pane).width() * view.devicePixelRatioF() == pytest.approx(400)


def test_side_by_side_panes_share_zoom_and_pan(qtbot, view: CompareView) -> None:
    view.set_mode("side")
    left, right = view.panes()
    view.actual_pixels()
    # Zoom in around a point of the right pane: that image point stays under the cursor...
    anchor = QPointF(right.center().x() + 40, right.center().y() + 20)
    before_zoom = view.center + (anchor - right.center()) / (view.zoom / view.devicePixelRatioF())
    view.zoom_by(2.0, anchor)
    after_zoom = view.center + (anchor - right.center()) / (view.zoom / view.devicePixelRatioF())
    assert (after_zoom - before_zoom).manhattanLength() < 1e-6
    # ...and the left pane shows the same part of the image at the same place.
    assert view.content_rect_in(left).topLeft() - left.topLeft() == (
        view.content_rect_in(right).topLeft() - right.topLeft()
    )
    # Pan by dragging in the left pane: both panes move together.
    center = view.center
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(140, 130))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(140, 130))
    moved = center - view.center
    scale = view.zoom / view.devicePixelRatioF()
    assert moved.x() == pytest.approx(40 / scale) and moved.y() == pytest.approx(30 / scale)
    assert color_at(view, round(left.center().x()), 200) == QColor(Qt.GlobalColor.red)
    assert color_at(view, round(right.center().x()), 200) == QColor(Qt.GlobalColor.blue)


def test_pan_cannot_lose_the_image(qtbot, view: CompareView) -> None:
    view.actual_pixels()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(700, 300))
    qtbot.mouseMove(view, QPoint(5, 5))
    qtbot.mouseMove(view, QPoint(-3000, -3000))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(-3000, -3000))
    assert 0 <= view.center.x() <= 400 and 0 <= view.center.y() <= 200


def wheel(view: CompareView, at: QPointF, notches: int) -> None:
    event = QWheelEvent(
        at,
        view.mapToGlobal(at),
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)


def test_wheel_zooms_and_double_click_toggles_fit_and_one_to_one(qtbot, view: CompareView) -> None:
    view.fit()
    fitted = view.zoom
    wheel(view, QPointF(300, 200), 2)
    assert view.zoom == pytest.approx(fitted * 1.25**2)
    wheel(view, QPointF(300, 200), -1)
    assert view.zoom == pytest.approx(fitted * 1.25)
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    assert view.zoom == pytest.approx(fitted)
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 200))
    assert view.zoom == pytest.approx(1.0)
