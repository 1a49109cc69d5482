"""Image files in and out, as faithfully as each format allows.

Read: PNG, JPEG, WebP, TIFF, BMP -> ImageData (float32 [0, 1], alpha, 16-bit kept, EXIF
orientation applied, EXIF and ICC carried along). Write: the same formats, atomically.
Pillow does most of the work; imagecodecs (libpng) and tifffile handle 16-bit PNG and TIFF,
which Pillow truncates to 8 bits. Every result written names us as its Software, so a
folder scan can leave it out (``is_our_result``, engine/imageio/marker.py).
"""

from __future__ import annotations

from engine.imageio.data import ImageData
from engine.imageio.formats import SUPPORTED_SUFFIXES, format_for_suffix
from engine.imageio.marker import is_our_result
from engine.imageio.raster import Raster
from engine.imageio.reader import read_image, read_raster
from engine.imageio.writer import write_image

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ImageData",
    "Raster",
    "format_for_suffix",
    "is_our_result",
    "read_image",
    "read_raster",
    "write_image",
]
