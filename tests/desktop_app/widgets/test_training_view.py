"""The training view: the check picture fits the room it has, never widening the window."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage

from desktop_app.widgets.training_view import TrainingView


def _picture(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB888)
    image.fill(QColor(200, 120, 40))
    return image


def test_a_wide_check_picture_does_not_set_the_views_minimum_width(qtbot):
    # Seen at 1024x700: after a run, the 5-column picture's width pinned the Retrain page
    # wider than the window.
    view = TrainingView()
    qtbot.addWidget(view)
    before = view.minimumSizeHint().width()
    view.resize(1100, 500)
    view.show()
    qtbot.waitExposed(view)
    view.show_validation(_picture(1280, 256), "step 10")
    assert view.minimumSizeHint().width() == before
    view.resize(500, 500)
    qtbot.waitUntil(lambda: view.picture.pixmap().width() <= view.picture.width())


def test_the_check_picture_is_refitted_when_the_view_grows(qtbot):
    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(500, 500)
    view.show()
    qtbot.waitExposed(view)
    view.show_validation(_picture(1280, 256), "step 10")
    narrow = view.picture.pixmap().width()
    view.resize(1100, 500)
    qtbot.waitUntil(lambda: view.picture.pixmap().width() > narrow)
    assert view.picture.pixmap().width() <= view.picture.width()


def test_a_picture_given_while_hidden_fits_once_shown(qtbot):
    # A run's picture is loaded at start-up, before its page is ever shown; it was cropped.
    view = TrainingView()
    qtbot.addWidget(view)
    view.show_validation(_picture(1280, 256), "step 10")
    view.resize(520, 500)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: 0 < view.picture.pixmap().width() <= view.picture.width())
