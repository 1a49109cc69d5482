"""Before any model work: will the output fit in memory, and on disk?

Memory: the 8/16-bit output itself (and, for a format without alpha, a 16-bit alpha plane to
composite with), what the encoder copies (Pillow holds RGB as 4 bytes a pixel; libwebp adds
its own picture), and the smallest tiling of the image. Disk: a lower bound of the file
size (BMP is exact; compressed formats use a ratio well under what photos reach), so only a
file that certainly cannot fit is refused; a disk that fills up anyway gives a one-line
error from the writer and leaves no partial file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psutil

from engine.errors import ImageError
from engine.imageio.formats import FormatInfo
from engine.imageio.raster import PixelLayout
from engine.inference.assembly import blend_bytes
from engine.inference.tile_memory import MIN_TILE

# Smallest file per raw byte we expect for each format (measured on upscaled photos: PNG and
# TIFF reach 14%, JPEG q95 about 4%): the disk check refuses only what cannot fit.
DISK_FRACTION = {"PNG": 0.05, "TIFF": 0.05, "JPEG": 0.01, "WEBP": 0.01, "BMP": 1.0}
# Bytes an encoder holds per pixel besides our raster: Pillow's own copy for BMP (JPEG and
# WebP get the raster in place, see raster.IN_PLACE_RGBX), libwebp's picture (YUV 1.5, or
# ARGB 4 when lossless).
PILLOW_BYTES = {1: 1, 3: 4, 4: 4}
# Lossy WebP keeps every macroblock's header in a first partition of at most 512 KiB; on a
# 12 MP photo upscaled x4 (192 MP) libwebp fails with "encoding error 6" (partition 0
# overflow), at 144 MP it still succeeds (measured at quality 95). Refused up front, not
# after the whole upscale.
WEBP_LOSSY_MAX_PIXELS = 150_000_000
WEBP_BYTES = {"lossy": 1.5, "lossless": 4.0}


def output_memory_bytes(
    size: tuple[int, int],
    layout: PixelLayout,
    info: FormatInfo,
    *,
    quality: int,
    composite: bool,
) -> int:
    """Bytes the result needs until it is written: raster, alpha plane, encoder copies."""
    pixels = size[0] * size[1]
    need = pixels * layout.bytes_per_pixel
    if composite:
        need += pixels * 2
    if info.name == "BMP":
        need += pixels * PILLOW_BYTES.get(layout.channels, 4)
    if info.name == "WEBP":
        need += pixels * WEBP_BYTES["lossless" if quality == 100 else "lossy"]
    return int(need)


def check_output_fits(
    output: Path,
    *,
    size: tuple[int, int],
    layout: PixelLayout,
    info: FormatInfo,
    quality: int,
    composite: bool,
    model_scale: int,
    source_width: int,
) -> None:
    """ImageError (one line naming ``output``) when the result cannot fit in the memory
    available now or on the output's disk."""
    width, height = size
    if info.max_side is not None and max(width, height) > info.max_side:
        raise ImageError(
            output,
            f"{width} x {height} is too large for {info.label} (at most "
            f"{info.max_side} pixels a side); use PNG or TIFF",
        )
    if info.name == "WEBP" and quality < 100 and width * height > WEBP_LOSSY_MAX_PIXELS:
        raise ImageError(
            output,
            f"lossy WebP cannot hold {width} x {height} (libwebp fails above about "
            f"{WEBP_LOSSY_MAX_PIXELS // 1_000_000} megapixels); use JPEG or PNG, or a smaller size",
        )
    need = output_memory_bytes(size, layout, info, quality=quality, composite=composite)
    need += blend_bytes(
        MIN_TILE, scale=model_scale, width=source_width, channels=3, overlap=MIN_TILE // 2
    )
    available = psutil.virtual_memory().available
    if need > available:
        raise ImageError(
            output,
            f"a {width} x {height} {info.label} needs about {_gib(need)} of memory, "
            f"only {_gib(available)} is available; choose a smaller size (e.g. --scale 2)",
        )
    folder = _existing_folder(output.parent)
    file_bytes = int(width * height * layout.bytes_per_pixel * DISK_FRACTION.get(info.name, 1))
    free = shutil.disk_usage(folder).free
    if file_bytes > free:
        raise ImageError(
            output,
            f"a {width} x {height} {info.label} needs at least {_gib(file_bytes)} of disk "
            f"space, only {_gib(free)} is free in {folder}",
        )


def _existing_folder(folder: Path) -> Path:
    """The output folder, or its nearest existing parent when it is yet to be made."""
    folder = Path(folder).absolute()
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _gib(count: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count / 2**10:.0f} KiB"
