"""Engine images <-> Qt images for display: colours, alpha and grey come through."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from desktop_app.widgets.images import from_qimage, thumbnail, to_qimage
from engine.imageio import ImageData


def test_rgb_alpha_and_grey_reach_the_screen() -> None:
    color = np.zeros((4, 6, 3), np.float32)
    color[..., 0] = 1.0  # red
    alpha = np.full((4, 6, 1), 0.5, np.float32)
    shown = to_qimage(ImageData(color=color, alpha=alpha))
    assert (shown.width(), shown.height()) == (6, 4) and shown.hasAlphaChannel()
    pixel = shown.pixelColor(2, 1)
    assert (pixel.red(), pixel.green(), pixel.alpha()) == (255, 0, 128)
    grey = to_qimage(ImageData(color=np.full((3, 5, 1), 0.25, np.float32)))
    assert grey.format() == QImage.Format.Format_Grayscale8
    assert grey.pixelColor(4, 2).red() == 64


def test_pasted_images_become_engine_pixels() -> None:
    image = QImage(7, 3, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 128, 255, 255))
    data = from_qimage(image)
    assert data.color.shape == (3, 7, 3) and data.alpha is None  # opaque: no alpha kept
    assert np.allclose(data.color[1, 2], [0, 128 / 255, 1.0])
    image.setPixelColor(0, 0, QColor(10, 20, 30, 0))
    assert from_qimage(image).alpha[0, 0, 0] == 0.0


def test_thumbnail_keeps_the_aspect_ratio() -> None:
    image = QImage(400, 100, QImage.Format.Format_RGB888)
    small = thumbnail(image, 96)
    assert (small.width(), small.height()) == (96, 24)
