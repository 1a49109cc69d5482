"""write_image: ImageData or Raster to any supported format, as faithfully as it allows.

Everything is written straight into a temp file beside the output (then renamed), in strips
where the format allows (PNG, TIFF): a large result is never held a second time as encoded
bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from engine.errors import ImageError, UsageError
from engine.events import Cancelled, CancelToken
from engine.imageio.atomic import atomic_output
from engine.imageio.data import ImageData
from engine.imageio.formats import FORMATS, FormatInfo, format_clash, format_for_suffix
from engine.imageio.marker import SOFTWARE_NAME, mark_exif
from engine.imageio.metadata import exif_for_output, icc_matches
from engine.imageio.png import DEFAULT_LEVEL, write_png
from engine.imageio.raster import Raster, layout_for, quantize, rgbx_base
from engine.imageio.tiff import write_tiff

# Effort (not fidelity) for lossless WebP: libwebp's default balance of size and speed.
_WEBP_LOSSLESS_EFFORT = 75
_CONVERT_ROWS = 256  # rows converted at once when a raster's layout does not fit the format
# libjpeg's optimized Huffman tables need every DCT coefficient of the image at once (2 bytes
# a sample: 1.1 GiB for a 12 MP photo at x4); above this many pixels they are not worth it
# (a few % of file size).
JPEG_OPTIMIZE_MAX_PIXELS = 24_000_000


def write_image(
    path: Path,
    image: ImageData | Raster,
    *,
    format: str | None = None,
    quality: int = 95,
    keep_metadata: bool = True,
    png_level: int = DEFAULT_LEVEL,
    overwrite: bool = True,
    mark_result: bool = True,
    cancel: CancelToken | None = None,
) -> None:
    """Write image to path atomically (temp file in the same folder, then renamed).

    overwrite False: an existing path, even one that appeared while encoding, is kept and
    the write fails with "already exists" (engine.imageio.atomic). Never replaced, even
    with overwrite: anything but a regular file (a device, a FIFO, a folder).

    format: a name or suffix ("png", "JPEG", ".tif"); None takes it from path's suffix. A
    format that contradicts the suffix (JPEG for x.png) is a UsageError.
    Fidelity per format:
    - 16-bit is kept in PNG and TIFF; other formats get 8 bits (rounded, not truncated).
    - Grey stays grey, except in WebP, which has no grey mode (written as equal R=G=B).
    - Alpha is kept in PNG, WebP and TIFF. JPEG and BMP cannot hold it (BMP's alpha is
      ignored by most viewers), so the image is composited over white, as viewers show it.
    - quality (1..100) applies to JPEG and WebP. JPEG uses 4:4:4 chroma at quality >= 90
      (4:2:0 below). WebP at quality 100 is lossless (exact pixels, alpha included);
      below 100 it is lossy at that quality.
    - keep_metadata copies EXIF (orientation 1, pixel dimensions updated) and the ICC
      profile into PNG, JPEG, WebP and TIFF; BMP carries neither. A profile whose colour
      space does not match the written pixels (grey vs RGB) is not embedded.
    - png_level: ISA-L deflate level of PNG, 0-3 (engine/imageio/png.py says why ISA-L).
    mark_result: name us as the Software that wrote the file (engine/imageio/marker.py), so
    that folder scans do not take it for a new photo; also with keep_metadata False, as
    the only tag. False for a file that is an input, not a result (a pasted picture).
    cancel: checked between PNG strips and before the file is published; once set, the
    write raises Cancelled and leaves nothing (a cancel after publishing changes nothing).
    A Raster already in the format's layout (``raster.layout_for``) is written as it is.
    Raises UsageError for an unknown format or quality, ImageError for everything else.
    """
    path = Path(path)
    if format is None and not path.suffix:
        raise UsageError(f"{path}: no file suffix to tell the format (e.g. .png, .jpg)")
    fmt = format_for_suffix(format if format is not None else path.suffix)
    clash = format_clash(path, format) if format is not None else None
    if clash is not None:  # e.g. JPEG bytes in x.png: viewers and upload checks trip on it
        raise UsageError(f"{path}: {clash}")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise UsageError(f"quality must be a whole number from 1 to 100, got {quality!r}")
    info = FORMATS[fmt]
    width, height = image.width, image.height
    if info.max_side is not None and max(width, height) > info.max_side:
        raise ImageError(
            path,
            f"{width} x {height} is too large for {info.label} (at most "
            f"{info.max_side} pixels a side); use PNG or TIFF",
        )
    try:
        raster = fit_raster(image, info)
    except MemoryError:
        raise ImageError(path, "not enough memory to encode the image") from None
    with atomic_output(path, overwrite=overwrite, cancel=cancel) as handle:
        metadata = _Metadata(keep=keep_metadata, mark=mark_result, png_level=png_level)
        _encode(path, handle, raster, info, quality, metadata, cancel)


def fit_raster(image: ImageData | Raster, info: FormatInfo) -> Raster:
    """The integer pixels ``info``'s format holds (the raster itself when they already are)."""
    if isinstance(image, ImageData):
        pixels, has_alpha = _pixels_for(image, info)
        return Raster.carrying(pixels, alpha=has_alpha, source=image)
    grey = image.layout.color_channels == 1
    layout = layout_for(info, grey=grey, alpha=image.alpha, bit_depth=image.bit_depth)
    if layout.same_pixels(image.layout):
        return image
    out = layout.allocate(image.height, image.width)
    for top in range(0, image.height, _CONVERT_ROWS):
        strip = image.pixels[top : top + _CONVERT_ROWS]
        values = strip.astype(np.float32) / np.float32(np.iinfo(strip.dtype).max)
        color = values[:, :, : image.layout.color_channels]
        alpha = values[:, :, -1:] if image.alpha else None
        _fill(out[top : top + _CONVERT_ROWS], color, alpha, layout.alpha)
    return Raster.carrying(out, alpha=layout.alpha, source=image)


def _encode(
    path: Path,
    handle: BinaryIO,
    raster: Raster,
    info: FormatInfo,
    quality: int,
    metadata: _Metadata,
    cancel: CancelToken | None,
) -> None:
    pixels = raster.pixels
    grey = pixels.shape[2] <= 2
    keep = metadata.keep and info.metadata
    icc = raster.icc_profile if keep else None
    icc = icc if icc and icc_matches(icc, grey=grey) else None
    exif = None
    if keep and raster.exif:
        exif = exif_for_output(raster.exif, width=raster.width, height=raster.height)
    if metadata.mark and info.metadata and (exif is not None or info.name != "PNG"):
        exif = mark_exif(exif)  # a PNG without EXIF is marked by its tEXt chunk alone
    try:
        if info.name == "PNG":
            exif_bytes = exif.tobytes() if exif else None
            software = SOFTWARE_NAME if metadata.mark else None
            write_png(
                handle,
                pixels,
                icc=icc,
                exif=exif_bytes,
                software=software,
                level=metadata.png_level,
                cancel=cancel,
            )
        elif info.name == "TIFF":
            write_tiff(handle, pixels, alpha=raster.alpha, icc=icc, exif=exif)
        else:
            _save_with_pillow(handle, pixels, fmt=info.name, quality=quality, icc=icc, exif=exif)
    except Cancelled:
        raise
    except OSError as exc:
        if exc.errno is None:  # Pillow's encoder errors are OSErrors without an errno
            raise ImageError(path, f"could not encode {info.label} ({_first_line(exc)})") from exc
        raise
    except MemoryError:
        raise ImageError(path, "not enough memory to encode the image") from None
    except Exception as exc:
        raise ImageError(path, f"could not encode {info.label} ({_first_line(exc)})") from exc


@dataclass(frozen=True, kw_only=True)
class _Metadata:
    keep: bool  # the original's EXIF and ICC profile
    mark: bool  # our Software tag
    png_level: int


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _pixels_for(image: ImageData, info: FormatInfo) -> tuple[np.ndarray, bool]:
    """HxWxC integer pixels the format can hold, and whether the last channel is alpha."""
    layout = layout_for(
        info, grey=image.is_grey, alpha=image.alpha is not None, bit_depth=image.bit_depth
    )
    out = layout.allocate(*image.color.shape[:2])
    _fill(out, image.color, image.alpha, layout.alpha)
    return out, layout.alpha


def _fill(out: np.ndarray, color: np.ndarray, alpha: np.ndarray | None, keep: bool) -> None:
    """Quantize float colour (and alpha) into out: over white if out has no alpha channel,
    repeated to RGB if out has three colour channels and the colour is grey."""
    if alpha is not None and not keep:
        color = color * alpha + (1.0 - alpha)  # over white
        alpha = None
    channels = out.shape[2] - (alpha is not None)
    if color.shape[2] != channels:
        color = np.repeat(color, channels, axis=2)
    quantize(color, out[:, :, :channels])
    if alpha is not None:
        quantize(alpha, out[:, :, -1:])


def _pillow_image(pixels: np.ndarray) -> Image.Image:
    """A Pillow image of the pixels, sharing their memory where Pillow can (grey, RGBA, and
    RGB padded to RGBX); plain RGB is copied (Pillow holds it as 4 bytes a pixel)."""
    base = rgbx_base(pixels)
    if base is not None:
        size = (pixels.shape[1], pixels.shape[0])
        return Image.frombuffer("RGBX", size, base, "raw", "RGBX", 0, 1)
    return Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)


def _save_with_pillow(
    handle: BinaryIO,
    pixels: np.ndarray,
    *,
    fmt: str,
    quality: int,
    icc: bytes | None,
    exif: Image.Exif | None,
) -> None:
    im = _pillow_image(pixels)
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if exif is not None:
        options["exif"] = exif
    if fmt == "JPEG":
        optimize = pixels.shape[0] * pixels.shape[1] <= JPEG_OPTIMIZE_MAX_PIXELS
        options.update(quality=quality, optimize=optimize, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP" and quality == 100:
        options.update(lossless=True, exact=True, quality=_WEBP_LOSSLESS_EFFORT)
    elif fmt == "WEBP":
        options.update(quality=quality)
    im.save(handle, format=fmt, **options)
