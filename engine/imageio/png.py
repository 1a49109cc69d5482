"""PNG at full precision: imagecodecs (libpng) codes the pixels, we add the metadata chunks.

Pillow decodes 16-bit RGB(A) and grey+alpha PNG to 8 bits and cannot write them, so every
PNG is written here, and 16-bit ones are decoded here; Pillow still parses the metadata.
"""

from __future__ import annotations

import struct
import zlib

import imagecodecs
import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_AFTER_IHDR = len(_SIGNATURE) + 4 + 4 + 13 + 4
_EXIF_PREFIX = b"Exif\x00\x00"


def png_bit_depth(data: bytes) -> int:
    """Bit depth from IHDR (the first chunk, which Pillow has already validated)."""
    return data[24]


def decode_png(data: bytes) -> np.ndarray:
    """HxWxC uint8 or uint16, C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.

    libpng expands a tRNS colour key to an alpha channel, so that case needs no code here.
    """
    pixels = imagecodecs.png_decode(data)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def encode_png(pixels: np.ndarray, *, icc: bytes | None, exif: bytes | None) -> bytes:
    """PNG bytes for HxWxC uint8/uint16 pixels, with iCCP and eXIf chunks when given."""
    encoded = imagecodecs.png_encode(np.ascontiguousarray(pixels))
    if encoded[12:16] != b"IHDR":  # pragma: no cover - libpng always starts with IHDR
        raise RuntimeError("PNG encoder did not start with IHDR")
    extra = b""
    if icc:
        # iCCP must precede IDAT; keyword, separator, compression method 0 (zlib).
        extra += _chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc))
    if exif:
        body = exif[len(_EXIF_PREFIX) :] if exif.startswith(_EXIF_PREFIX) else exif
        extra += _chunk(b"eXIf", body)
    return encoded[:_AFTER_IHDR] + extra + encoded[_AFTER_IHDR:]
