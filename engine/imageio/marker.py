"""The mark every result we write carries, and the cheap check for it.

A folder scan (a batch, Open folder, the photos to retrain on) must not take the app's own
results for new photos: a result upscaled again is 16 times the pixels for nothing. The
mark is the standard "which program wrote this file" field, so other programs show it too:
the EXIF Software tag in JPEG, WebP and TIFF (and in a PNG's EXIF when it has one), a tEXt
"Software" chunk in PNG. BMP holds no metadata and carries no mark.

Checking reads the file's header and metadata only, never its pixels (Pillow's format
plugins for JPEG and TIFF, a walk over the chunks for PNG and WebP), and is not bound by
Pillow's decompression-bomb limit: a 192-megapixel result must be recognised too.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image, JpegImagePlugin, TiffImagePlugin

from engine import __version__
from engine.imageio.formats import sniff_format
from engine.imageio.metadata import SOFTWARE
from engine.imageio.source import open_input

PROGRAM = "MFAGAN Studio"
SOFTWARE_NAME = f"{PROGRAM} {__version__}"
_MAX_EXIF = 1 << 20  # a metadata chunk read whole at most (JPEG's EXIF is 64 KiB at most)


def mark_exif(exif: Image.Exif | None) -> Image.Exif:
    """``exif`` (or a new, empty one) with our Software tag, replacing the original's: the
    program named must be the one that wrote this file, not the camera's firmware."""
    marked = exif if exif is not None else Image.Exif()
    marked[SOFTWARE] = SOFTWARE_NAME
    return marked


def is_our_result(path: Path) -> bool:
    """True when ``path`` carries the mark of a result we wrote. Anything unreadable, and
    files written before results were marked, are False (the caller decides about those)."""
    try:
        with open_input(Path(path)) as handle:
            head = handle.read(16)
            handle.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # damaged metadata: simply not ours
                return _is_ours(_software(handle, sniff_format(head)))
    except Exception:  # not a regular file, or a damaged header (Pillow raises many types)
        return False


def _is_ours(value: object) -> bool:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return isinstance(value, str) and value.startswith(PROGRAM)


def _software(handle: BinaryIO, fmt: str | None) -> object:
    # The format plugins are used directly, not through Image.open: that parses the header
    # the same way but adds the decompression-bomb check, which a large result would fail.
    if fmt == "PNG":
        return _png_software(handle)
    if fmt == "JPEG":
        return _exif_software(JpegImagePlugin.JpegImageFile(handle).info.get("exif"))
    if fmt == "TIFF":
        return TiffImagePlugin.TiffImageFile(handle).tag_v2.get(SOFTWARE)
    if fmt == "WEBP":
        return _exif_software(_webp_exif(handle))
    return None


def _exif_software(data: bytes | None) -> object:
    if not data:
        return None
    exif = Image.Exif()
    exif.load(data)
    return exif.get(SOFTWARE)


def _png_software(handle: BinaryIO) -> object:
    """The Software of a PNG's tEXt chunk or eXIf, from the chunks before the pixels.

    Walked here rather than by Pillow's opener, which also unpacks the colour profile and
    refuses one over 1 MiB: the mark (written first) must be found whatever follows it.
    """
    handle.seek(8)  # the signature
    while len(header := handle.read(8)) == 8:
        size, kind = int.from_bytes(header[:4], "big"), header[4:]
        if kind in (b"IDAT", b"IEND"):
            return None
        if kind == b"tEXt" and size <= _MAX_EXIF:
            keyword, _, value = handle.read(size).partition(b"\x00")
            if keyword == b"Software":
                return value
            size = 0
        elif kind == b"eXIf" and size <= _MAX_EXIF:
            found = _exif_software(handle.read(size))
            if found is not None:
                return found
            size = 0
        handle.seek(size + 4, io.SEEK_CUR)  # the body (unless read), then the CRC
    return None


def _webp_exif(handle: BinaryIO) -> bytes | None:
    """The EXIF chunk of a WebP, found by walking the RIFF chunks (libwebp puts it after
    the image data; Pillow's opener would read the whole file to find it)."""
    handle.seek(12)  # "RIFF", size, "WEBP"
    while len(header := handle.read(8)) == 8:
        kind, size = header[:4], int.from_bytes(header[4:], "little")
        if kind == b"EXIF":
            return handle.read(min(size, _MAX_EXIF))
        handle.seek(size + (size & 1), io.SEEK_CUR)  # chunks are padded to an even size
    return None
