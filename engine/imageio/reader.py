"""read_image: any supported file to ImageData, or one clear ImageError line."""

from __future__ import annotations

import dataclasses
import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from engine.errors import ImageError
from engine.imageio.data import DecodedPixels, ImageData
from engine.imageio.formats import FORMATS, SUPPORTED_LABELS, label, sniff_format
from engine.imageio.metadata import apply_orientation, checked_icc, clean_exif, cmyk_to_rgb
from engine.imageio.png import decode_png, png_bit_depth, profile_exceeds
from engine.imageio.raster import Raster
from engine.imageio.source import read_head, read_input
from engine.imageio.tiff import TooLarge, Unsupported, decode_tiff

EMPTY = "file is empty (0 bytes)"
NOT_AN_IMAGE = f"not an image file (or not a supported format: {SUPPORTED_LABELS})"
NO_MEMORY = "not enough memory to decode the image"

_PILLOW_FORMATS = list(FORMATS)  # also admits MPO: Pillow's JPEG opener returns it
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")
_GREY_MODES = frozenset({"1", "L", "LA", "La"})
_SIXTEEN_BIT_GREY = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def read_image(path: Path) -> ImageData:
    """Decode PNG, JPEG (incl. MPO), WebP, TIFF or BMP; first frame/page of multi-image files.

    Palette -> RGB(A), CMYK -> RGB (through its ICC profile when embedded), transparency
    -> alpha, 16-bit PNG/TIFF at full precision, EXIF orientation applied to the pixels.
    The format comes from the content, not the suffix. Pillow's decompression-bomb limit
    (Image.MAX_IMAGE_PIXELS) applies, and we refuse where Pillow would only warn.
    Every failure is an ImageError(path, reason).
    """
    path = Path(path)
    with warnings.catch_warnings():
        # Pillow warns about damaged EXIF and the like; we either return the image or raise
        # one ImageError, so those lines would only be noise on the user's terminal.
        warnings.simplefilter("ignore", UserWarning)
        # Pillow only warns between 1x and 2x the pixel limit; we refuse there too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return _read(path)


def read_raster(path: Path) -> Raster:
    """``read_image`` without the float conversion: the file's own 8/16-bit pixels (upright,
    alpha last), for results too large to hold as float32 (a staged upscale)."""
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        pixels, orientation, exif, fmt = _read_parts(path)
    planes = [apply_orientation(pixels.color, orientation)]
    if pixels.alpha is not None:
        planes.append(apply_orientation(pixels.alpha, orientation))
    joined = planes[0] if len(planes) == 1 else np.concatenate(planes, axis=2)
    return Raster(
        pixels=np.ascontiguousarray(joined),
        alpha=pixels.alpha is not None,
        exif=exif,
        icc_profile=checked_icc(pixels.icc)[0],
        format=fmt,
    )


def _read(path: Path) -> ImageData:
    pixels, orientation, exif, fmt = _read_parts(path)
    return _image_data(pixels, orientation=orientation, exif=exif, fmt=fmt)


def _read_parts(path: Path) -> tuple[DecodedPixels, int, bytes | None, str]:
    data = _read_bytes(path)
    kind = _readable_kind(path, data)
    im = _open(path, data, kind)
    if im is None:
        fmt, pixels, exif = "TIFF", _decode_tiff_without_pillow(path, data), _tiff_exif(data)
    else:
        with im:
            fmt = "JPEG" if im.format == "MPO" else str(im.format)
            pixels = _decode(path, im, data, fmt)
            exif = _exif_of(im)
            pixels = dataclasses.replace(pixels, frames=_frames(im, fmt))
    exif_bytes, orientation = clean_exif(exif)
    return pixels, orientation, exif_bytes, fmt


def input_format(path: Path) -> str | None:
    """The format an input's first bytes name (None: no known signature), read without
    blocking; ImageError when the path is not a regular file or names a format we cannot
    read. Lets a job refuse a GIF before anything else is decided, whatever its output."""
    return _readable_kind(path, read_head(path))


def _readable_kind(path: Path, data: bytes) -> str | None:
    kind = sniff_format(data)
    if kind is not None and kind not in FORMATS:
        raise ImageError(path, f"{kind} images are not supported (supported: {SUPPORTED_LABELS})")
    return kind


def _read_bytes(path: Path) -> bytes:
    data = read_input(path)  # a regular file only: never a FIFO (blocks) or /dev/zero
    if not data:
        raise ImageError(path, EMPTY)
    return data


def too_large_reason(pixels: int | None) -> str:
    limit = Image.MAX_IMAGE_PIXELS
    if pixels is None or limit is None:
        return "image too large (possible decompression bomb)"
    return f"image too large ({pixels:,} pixels > limit of {limit:,}; possible decompression bomb)"


def _corrupt_reason(kind: str | None, data: bytes = b"", exc: BaseException | None = None) -> str:
    if kind == "PNG" and isinstance(exc, ValueError) and "MAX_TEXT" in str(exc):
        return _png_limit_reason(data, str(exc))
    return f"{label(kind)} data is truncated or corrupt" if kind in FORMATS else NOT_AN_IMAGE


def _png_limit_reason(data: bytes, message: str) -> str:
    """Pillow refuses (ValueError) an iCCP, zTXt or iTXt chunk over MAX_TEXT_CHUNK bytes
    decompressed, and text chunks over MAX_TEXT_MEMORY in all: a guard against bombs."""
    chunk_limit = PngImagePlugin.MAX_TEXT_CHUNK
    if "MAX_TEXT_MEMORY" not in message and profile_exceeds(data, chunk_limit):
        return (
            f"its ICC colour profile is too large (over {_mib(chunk_limit)} decompressed, "
            "the most Pillow accepts)"
        )
    limit = PngImagePlugin.MAX_TEXT_MEMORY if "MAX_TEXT_MEMORY" in message else chunk_limit
    return f"its text metadata is too large (over {_mib(limit)}, the most Pillow accepts)"


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB"


def _open(path: Path, data: bytes, kind: str | None) -> Image.Image | None:
    """Pillow image (header parsed, nothing decoded), or None for a TIFF only tifffile reads."""
    try:
        im = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        match = _BOMB_PIXELS.search(str(exc))
        raise ImageError(path, too_large_reason(int(match[1]) if match else None)) from None
    except MemoryError:
        raise ImageError(path, NO_MEMORY) from None
    except Exception as exc:  # plugins raise many types on damaged headers
        if kind == "TIFF":
            return None
        raise ImageError(path, _corrupt_reason(kind, data, exc)) from exc
    # Checked here as well as through Pillow's warning: warning filters are process-wide, so
    # another thread's catch_warnings could turn that warning back into a mere message.
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and im.width * im.height > limit:
        pixels = im.width * im.height
        im.close()
        raise ImageError(path, too_large_reason(pixels))
    return im


def _decode_tiff_without_pillow(path: Path, data: bytes) -> DecodedPixels:
    try:
        return decode_tiff(data, max_pixels=Image.MAX_IMAGE_PIXELS)
    except TooLarge as exc:
        raise ImageError(path, too_large_reason(exc.pixels)) from None
    except Unsupported as exc:
        raise ImageError(path, str(exc)) from None
    except MemoryError:
        raise ImageError(path, NO_MEMORY) from None
    except Exception as exc:
        raise ImageError(path, _corrupt_reason("TIFF")) from exc


def _decode(path: Path, im: Image.Image, data: bytes, fmt: str) -> DecodedPixels:
    try:
        if fmt == "TIFF" and _tiff_bits(im) > 8:
            return decode_tiff(data, max_pixels=None)  # Pillow already checked the size
        im.load()  # also reads chunks after the image data (a PNG's trailing eXIf)
        if fmt == "PNG" and png_bit_depth(data) == 16:
            return _split(decode_png(data), im.info.get("icc_profile"))
    except Unsupported as exc:
        raise ImageError(path, str(exc)) from None
    except MemoryError:
        raise ImageError(path, NO_MEMORY) from None
    except Exception as exc:  # OSError "image file is truncated", SyntaxError, codec errors
        raise ImageError(path, _corrupt_reason(fmt, data, exc)) from exc
    return _pillow_pixels(path, im)


def _tiff_bits(im: Image.Image) -> int:
    bits = im.tag_v2.get(258, 8)  # BitsPerSample: one value per sample, or a single value
    return max(bits) if isinstance(bits, tuple) else int(bits)


def _split(array: np.ndarray, icc: bytes | None) -> DecodedPixels:
    """HxWxC with C in 1..4 (2 and 4 carry alpha last) into colour and alpha."""
    if array.shape[2] in (2, 4):
        return DecodedPixels(color=array[:, :, :-1], alpha=array[:, :, -1:], icc=icc or None)
    return DecodedPixels(color=array, alpha=None, icc=icc or None)


def _pillow_pixels(path: Path, im: Image.Image) -> DecodedPixels:
    icc = im.info.get("icc_profile")
    if im.mode == "CMYK":
        im, icc = cmyk_to_rgb(im)
    elif im.mode in _SIXTEEN_BIT_GREY:
        return _split(np.asarray(im).astype(np.uint16)[:, :, None], icc)
    elif im.mode in ("I", "F"):
        kind = "integer" if im.mode == "I" else "floating-point"
        raise ImageError(path, f"unsupported pixel format (32-bit {kind} samples)")
    grey = im.mode in _GREY_MODES
    target = ("LA" if grey else "RGBA") if im.has_transparency_data else ("L" if grey else "RGB")
    array = np.asarray(im if im.mode == target else im.convert(target))
    return _split(array[:, :, None] if array.ndim == 2 else array, icc)


def _frames(im: Image.Image, fmt: str) -> int:
    """Frames of an animated PNG or WebP, pages of a TIFF (a JPEG's MPO extras, e.g. a
    phone's depth map, are not pictures of their own: not counted)."""
    if fmt not in ("PNG", "WEBP", "TIFF"):
        return 1
    try:
        return max(1, int(getattr(im, "n_frames", 1)))
    except Exception:  # a damaged later page: the first one was read all the same
        return 1


def _frames_note(frames: int, fmt: str) -> str | None:
    if frames <= 1:
        return None
    if fmt == "TIFF":
        return f"holds {frames} pages; only the first page is used"
    return f"is animated ({frames} frames); only the first frame is used"


def _exif_of(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except Exception:  # damaged EXIF must not make the photo unreadable
        return Image.Exif()


def _tiff_exif(data: bytes) -> Image.Exif:
    """A TIFF file is itself EXIF-structured: its IFD0 holds the EXIF IFD0 tags."""
    exif = Image.Exif()
    try:
        exif.load(data)
    except Exception:
        return Image.Exif()
    return exif


def _image_data(
    pixels: DecodedPixels, *, orientation: int, exif: bytes | None, fmt: str
) -> ImageData:
    depth = 16 if pixels.color.dtype == np.uint16 else 8
    alpha = pixels.alpha
    icc, note = checked_icc(pixels.icc)
    notes = tuple(n for n in (note, _frames_note(pixels.frames, fmt)) if n)
    return ImageData(
        color=_to_float(apply_orientation(pixels.color, orientation), depth),
        alpha=None if alpha is None else _to_float(apply_orientation(alpha, orientation), depth),
        bit_depth=depth,
        exif=exif,
        icc_profile=icc,
        format=fmt,
        notes=notes,
    )


def _to_float(array: np.ndarray, depth: int) -> np.ndarray:
    result = array.astype(np.float32, order="C")
    result /= 65535.0 if depth == 16 else 255.0
    return result
