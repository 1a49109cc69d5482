"""write_image: ImageData to any supported format, as faithfully as the format allows."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import ImageError, UsageError
from engine.imageio.atomic import atomic_write_bytes
from engine.imageio.data import ImageData
from engine.imageio.formats import FORMATS, FormatInfo, format_for_suffix
from engine.imageio.metadata import exif_for_output, icc_matches
from engine.imageio.png import encode_png
from engine.imageio.tiff import encode_tiff

# Effort (not fidelity) for lossless WebP: libwebp's default balance of size and speed.
_WEBP_LOSSLESS_EFFORT = 75


def write_image(
    path: Path,
    image: ImageData,
    *,
    format: str | None = None,
    quality: int = 95,
    keep_metadata: bool = True,
) -> None:
    """Write image to path atomically (temp file in the same folder, then os.replace).

    format: a name or suffix ("png", "JPEG", ".tif"); None takes it from path's suffix.
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
    Raises UsageError for an unknown format or quality, ImageError for everything else.
    """
    path = Path(path)
    if format is None and not path.suffix:
        raise UsageError(f"{path}: no file suffix to tell the format (e.g. .png, .jpg)")
    fmt = format_for_suffix(format if format is not None else path.suffix)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise UsageError(f"quality must be a whole number from 1 to 100, got {quality!r}")
    data = encode_image(path, image, fmt=fmt, quality=quality, keep_metadata=keep_metadata)
    atomic_write_bytes(path, data)


def encode_image(
    path: Path, image: ImageData, *, fmt: str, quality: int, keep_metadata: bool
) -> bytes:
    """The file's bytes; path only names the file in errors."""
    info = FORMATS[fmt]
    if info.max_side is not None and max(image.width, image.height) > info.max_side:
        raise ImageError(
            path,
            f"{image.width} x {image.height} is too large for {info.label} (at most "
            f"{info.max_side} pixels a side); use PNG or TIFF",
        )
    pixels, has_alpha = _pixels_for(image, info)
    grey = pixels.shape[2] <= 2
    icc = image.icc_profile if keep_metadata and info.metadata else None
    icc = icc if icc and icc_matches(icc, grey=grey) else None
    exif = None
    if keep_metadata and info.metadata and image.exif:
        exif = exif_for_output(image.exif, width=image.width, height=image.height)
    try:
        if fmt == "PNG":
            return encode_png(pixels, icc=icc, exif=exif.tobytes() if exif else None)
        if fmt == "TIFF":
            return encode_tiff(pixels, alpha=has_alpha, icc=icc, exif=exif)
        return _encode_with_pillow(pixels, fmt=fmt, quality=quality, icc=icc, exif=exif)
    except MemoryError:
        raise ImageError(path, "not enough memory to encode the image") from None
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageError(path, f"could not encode {info.label} ({detail})") from exc


def _pixels_for(image: ImageData, info: FormatInfo) -> tuple[np.ndarray, bool]:
    """HxWxC integer pixels the format can hold, and whether the last channel is alpha."""
    color, alpha = image.color, image.alpha
    if alpha is not None and not info.alpha:
        color = color * alpha + (1.0 - alpha)  # over white
        alpha = None
    if color.shape[2] == 1 and not info.grey:
        color = np.repeat(color, 3, axis=2)
    sixteen = image.bit_depth == 16 and info.sixteen_bit
    channels = color.shape[2] + (alpha is not None)
    out = np.empty((*color.shape[:2], channels), np.uint16 if sixteen else np.uint8)
    _quantize(color, out[:, :, : color.shape[2]])
    if alpha is not None:
        _quantize(alpha, out[:, :, -1:])
    return out, alpha is not None


def _quantize(values: np.ndarray, out: np.ndarray) -> None:
    """Round [0, 1] floats to out's integer range; NaN -> 0, out-of-range clipped."""
    top = np.iinfo(out.dtype).max
    scaled = values * np.float32(top)
    scaled += np.float32(0.5)
    np.nan_to_num(scaled, copy=False, nan=0.0)
    np.clip(scaled, 0, top, out=scaled)
    out[...] = scaled  # float -> int truncates, which after +0.5 rounds


def _encode_with_pillow(
    pixels: np.ndarray, *, fmt: str, quality: int, icc: bytes | None, exif: Image.Exif | None
) -> bytes:
    im = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if exif is not None:
        options["exif"] = exif
    if fmt == "JPEG":
        options.update(quality=quality, optimize=True, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP" and quality == 100:
        options.update(lossless=True, exact=True, quality=_WEBP_LOSSLESS_EFFORT)
    elif fmt == "WEBP":
        options.update(quality=quality)
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **options)
    return buffer.getvalue()
