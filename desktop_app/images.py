"""Engine images (float arrays) as Qt images for display, and Qt images as files.

Display only: these QImages are 8-bit copies for the screen; the files the app writes always
go through the engine (engine.imageio), which keeps 16-bit, alpha and metadata.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.imageio import ImageData

THUMBNAIL_SIDE = 96


def to_qimage(image: ImageData) -> QImage:
    """An 8-bit RGB(A) or greyscale QImage owning its pixels (safe to pass between threads)."""
    color = image.color
    if image.alpha is not None:
        rgb = np.repeat(color, 3, axis=2) if color.shape[2] == 1 else color
        planes = np.concatenate([rgb, image.alpha], axis=2)
        fmt = QImage.Format.Format_RGBA8888
    elif color.shape[2] == 1:
        planes = color
        fmt = QImage.Format.Format_Grayscale8
    else:
        planes = color
        fmt = QImage.Format.Format_RGB888
    pixels = np.ascontiguousarray(np.round(np.clip(planes, 0.0, 1.0) * 255.0).astype(np.uint8))
    height, width, channels = pixels.shape
    view = QImage(pixels.data, width, height, width * channels, fmt)
    # The view borrows numpy's buffer; the copy owns its own, so ``pixels`` may be freed.
    return view.copy()


def thumbnail(image: QImage, side: int = THUMBNAIL_SIDE) -> QImage:
    return image.scaled(
        side,
        side,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def from_qimage(image: QImage) -> ImageData:
    """A pasted or dragged-in QImage as engine pixels (RGB, alpha kept if it has any)."""
    has_alpha = image.hasAlphaChannel()
    fmt = QImage.Format.Format_RGBA8888 if has_alpha else QImage.Format.Format_RGB888
    converted = image.convertToFormat(fmt)
    channels = 4 if has_alpha else 3
    width, height = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8)
    rows = buffer.reshape(height, converted.bytesPerLine())[:, : width * channels]
    pixels = rows.reshape(height, width, channels).astype(np.float32) / 255.0
    alpha = pixels[:, :, 3:] if has_alpha else None
    if alpha is not None and float(alpha.min()) == 1.0:
        alpha = None
    return ImageData(color=np.ascontiguousarray(pixels[:, :, :3]), alpha=alpha)
