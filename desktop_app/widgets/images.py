"""Engine images (float arrays) as Qt images for display, and Qt images as files.

Display only: these QImages are 8-bit copies for the screen; the files the app writes always
go through the engine (engine.imageio), which keeps 16-bit, alpha and metadata.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.imageio import ImageData
from engine.imageio.raster import Raster, quantize

THUMBNAIL_SIDE = 96


STRIP_ROWS = 256  # rows converted at once: a few MiB of float, never a full-size copy
_CHANNELS = {
    QImage.Format.Format_Grayscale8: 1,
    QImage.Format.Format_RGB888: 3,
    QImage.Format.Format_RGBA8888: 4,
}


def _blank(width: int, height: int, fmt: QImage.Format) -> tuple[QImage, np.ndarray]:
    """A new QImage and a writable HxWxC numpy view of its pixels (rows may be padded)."""
    image = QImage(width, height, fmt)
    if image.isNull():
        raise MemoryError(f"no memory for a {width} x {height} preview")
    rows = np.frombuffer(image.bits(), np.uint8).reshape(height, image.bytesPerLine())
    channels = _CHANNELS[fmt]
    return image, rows[:, : width * channels].reshape(height, width, channels)


def _format(color_channels: int, alpha: bool) -> QImage.Format:
    if alpha:
        return QImage.Format.Format_RGBA8888
    return QImage.Format.Format_Grayscale8 if color_channels == 1 else QImage.Format.Format_RGB888


def _fill(out: np.ndarray, color: np.ndarray, alpha: np.ndarray | None) -> None:
    """Colour (1 or 3 channels) and alpha of one strip into out's channels."""
    if alpha is None:
        out[...] = color
        return
    out[:, :, :3] = color  # a grey plane is repeated across R, G and B
    out[:, :, 3:] = alpha


def to_qimage(image: ImageData) -> QImage:
    """An 8-bit RGB(A) or greyscale QImage owning its pixels (safe to pass between threads).

    Converted strip by strip straight into the QImage's memory: the float image is not
    copied whole (a 12-megapixel photo would take three transient copies of 144 MiB)."""
    color, alpha = image.color, image.alpha
    height, width = color.shape[:2]
    result, out = _blank(width, height, _format(color.shape[2], alpha is not None))
    for top in range(0, height, STRIP_ROWS):
        rows = slice(top, top + STRIP_ROWS)
        color8 = np.empty(color[rows].shape, np.uint8)
        quantize(color[rows], color8)
        alpha8 = None
        if alpha is not None:
            alpha8 = np.empty(alpha[rows].shape, np.uint8)
            quantize(alpha[rows], alpha8)
        _fill(out[rows], color8, alpha8)
    return result


def raster_to_qimage(raster: Raster) -> QImage:
    """The 8-bit QImage of a result's 8/16-bit pixels, strip by strip (no full-size copy
    besides the QImage itself)."""
    pixels = raster.pixels
    color_channels = pixels.shape[2] - raster.alpha
    result, out = _blank(raster.width, raster.height, _format(color_channels, raster.alpha))
    for top in range(0, raster.height, STRIP_ROWS):
        strip = pixels[top : top + STRIP_ROWS]
        if strip.dtype == np.uint16:
            # Round to the nearest of 256 levels: v * 255 / 65535, in integers.
            strip = ((strip.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        alpha = strip[:, :, color_channels:] if raster.alpha else None
        _fill(out[top : top + STRIP_ROWS], strip[:, :, :color_channels], alpha)
    return result


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
