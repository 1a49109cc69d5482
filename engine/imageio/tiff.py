"""TIFF through tifffile: 16-bit decoding (Pillow truncates or refuses it) and all writing.

Writing EXIF into a TIFF means two sub-IFDs (Exif, GPS) pointed at from IFD0, which
tifffile refuses to write. We let it write a LONG placeholder under a neighbouring private
code, append the sub-IFD (serialised by Pillow) at the end of the file, then turn the
placeholder into the real pointer. The codes sort the same, so IFD0 stays ordered.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

import numpy as np
import tifffile
from PIL import Image, TiffImagePlugin

from engine.imageio.data import DecodedPixels
from engine.imageio.metadata import EXIF_IFD, GPS_IFD, INTEROP_IFD, ORIENTATION

_PLACEHOLDERS = {EXIF_IFD: EXIF_IFD - 1, GPS_IFD: GPS_IFD - 1}
_RESOLUTION_TAGS = (282, 283, 296)
_XMP = 700


class TooLarge(Exception):
    """The page has more pixels than the decompression-bomb limit."""

    def __init__(self, pixels: int) -> None:
        super().__init__(pixels)
        self.pixels = pixels


class Unsupported(Exception):
    """A TIFF layout we do not decode; the message is the reason for the user."""


def decode_tiff(data: bytes, *, max_pixels: int | None) -> DecodedPixels:
    """First page of a TIFF as straight-alpha integer pixels."""
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        page = tif.pages[0]
        pixels = page.imagewidth * page.imagelength
        if max_pixels is not None and pixels > max_pixels:
            raise TooLarge(pixels)
        if page.dtype not in (np.uint8, np.uint16):
            raise Unsupported(f"unsupported TIFF sample type {page.dtype}")
        array = page.asarray()
        axes, photometric, extras = page.axes, int(page.photometric), page.extrasamples
        icc = page.iccprofile
    if axes == "YX":
        array = array[:, :, None]
    elif axes == "SYX":
        array = np.moveaxis(array, 0, -1)
    elif axes != "YXS":
        raise Unsupported(f"unsupported TIFF layout {axes}")
    return _split_channels(array, photometric, extras, icc)


def _split_channels(
    array: np.ndarray, photometric: int, extras: tuple[int, ...], icc: bytes | None
) -> DecodedPixels:
    if photometric in (0, 1):  # MINISWHITE, MINISBLACK
        base = 1
    elif photometric == 2:  # RGB
        base = 3
    else:
        name = tifffile.PHOTOMETRIC(photometric).name
        raise Unsupported(f"unsupported 16-bit TIFF colour model {name}")
    if array.shape[2] < base:
        raise Unsupported("TIFF has fewer samples than its colour model needs")
    top = np.iinfo(array.dtype).max
    color = array[:, :, :base]
    if photometric == 0:
        color = top - color
    alpha = None
    if extras and extras[0] in (1, 2) and array.shape[2] > base:
        alpha = array[:, :, base : base + 1]
        if extras[0] == 1:  # associated (premultiplied) alpha
            color = _unpremultiply(color, alpha, top)
    return DecodedPixels(color=color, alpha=alpha, icc=icc)


def _unpremultiply(color: np.ndarray, alpha: np.ndarray, top: int) -> np.ndarray:
    wide = color.astype(np.uint64) * top + alpha // 2
    safe = np.maximum(alpha, 1).astype(np.uint64)
    straight = np.minimum(wide // safe, top)
    return np.where(alpha > 0, straight, 0).astype(color.dtype)


def write_tiff(
    handle: BinaryIO,
    pixels: np.ndarray,
    *,
    alpha: bool,
    icc: bytes | None,
    exif: Image.Exif | None,
) -> None:
    """Deflate-compressed TIFF (with horizontal predictor) of HxWxC uint8/uint16 pixels,
    written to a seekable ``handle`` opened for reading too (the EXIF pointers are patched
    in place), strip by strip: no encoded copy of the file is held."""
    grey = pixels.shape[2] <= 2
    extratags, resolution, unit, sub_ifds = _exif_parts(exif)
    tifffile.imwrite(
        handle,
        pixels[:, :, 0] if pixels.shape[2] == 1 else pixels,
        byteorder="<",
        photometric="minisblack" if grey else "rgb",
        extrasamples=("unassalpha",) if alpha else None,
        compression="zlib",
        predictor=True,
        iccprofile=icc or None,
        resolution=resolution,
        resolutionunit=unit,
        software=False,
        metadata=None,
        extratags=extratags,
    )
    if sub_ifds:
        _attach_sub_ifds(handle, sub_ifds)


def _exif_parts(exif: Image.Exif | None) -> tuple[list, tuple | None, int | None, dict]:
    """(tifffile extratags for IFD0, resolution, resolution unit, {tag: sub-IFD dict})."""
    if exif is None:
        return [], None, None, {}
    tags: list = []
    for tag, value in exif.items():
        if tag in (EXIF_IFD, GPS_IFD, ORIENTATION, *_RESOLUTION_TAGS):
            continue
        if isinstance(value, str):
            tags.append((tag, "s", 0, value, True))
        elif isinstance(value, bytes):
            tags.append((tag, 1 if tag == _XMP else 7, len(value), value, True))
        elif isinstance(value, int) and 0 <= value < 2**32:
            tags.append((tag, "H" if value < 2**16 else "I", 1, value, True))
    resolution = None
    if 282 in exif and 283 in exif:
        resolution = (float(exif[282]), float(exif[283]))
    unit = exif.get(296) if resolution else None
    sub_ifds = {}
    for tag in (EXIF_IFD, GPS_IFD):
        if tag in exif:
            values = dict(exif.get_ifd(tag))
            if tag == EXIF_IFD and INTEROP_IFD in values:
                values[INTEROP_IFD] = exif.get_ifd(INTEROP_IFD)
            if values:
                sub_ifds[tag] = values
                tags.append((_PLACEHOLDERS[tag], 4, 1, 0, True))
    return tags, resolution, unit, sub_ifds


def _attach_sub_ifds(handle: BinaryIO, sub_ifds: dict[int, dict]) -> None:
    handle.flush()
    handle.seek(0)
    with tifffile.TiffFile(handle) as tif:
        tags = tif.pages[0].tags
        value_offsets = {tag: tags[_PLACEHOLDERS[tag]].valueoffset for tag in sub_ifds}
    for tag, values in sub_ifds.items():
        end = handle.seek(0, io.SEEK_END)
        if end % 2:
            end += handle.write(b"\x00")  # IFDs start on a word boundary
        ifd = TiffImagePlugin.ImageFileDirectory_v2(ifh=b"II*\x00\x08\x00\x00\x00", group=tag)
        for key, value in values.items():
            ifd[key] = value
        handle.write(ifd.tobytes(end))
        # An IFD entry is code(2) type(2) count(4) value(4); value_offset points at value.
        handle.seek(value_offsets[tag] - 8)
        handle.write(struct.pack("<HHII", tag, 4, 1, end))
    handle.seek(0, io.SEEK_END)
