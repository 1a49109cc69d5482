"""Integer pixels ready for a file: what a large result is kept as instead of float32.

A 4000 x 3000 photo upscaled x4 is 192 megapixels: 2.1 GiB as float32 RGB, 0.5 GiB as 8-bit.
The upscaler quantizes each finished strip of model output straight into a ``Raster`` laid
out for the output format (``layout_for``), so no full-size float copy ever exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.imageio.formats import FORMATS, FormatInfo

if TYPE_CHECKING:
    from engine.imageio.data import ImageData

# Formats Pillow encodes from an RGB image it holds as 4 bytes a pixel ("RGBX"): 8-bit RGB
# kept that way is handed to the encoder in place instead of being copied (768 MB for a
# 12-megapixel photo at x4).
IN_PLACE_RGBX = frozenset({"JPEG", "WEBP"})


@dataclass(frozen=True, kw_only=True)
class PixelLayout:
    """How a format stores an image: sample type, colour channels, and an alpha channel.

    ``padded``: 8-bit RGB kept with an unused fourth byte a pixel (see IN_PLACE_RGBX); the
    pixels are then a view of the first three channels of an HxWx4 array.
    """

    dtype: type[np.unsignedinteger]
    color_channels: int  # 1 grey, 3 RGB
    alpha: bool
    padded: bool = False

    @property
    def channels(self) -> int:
        return self.color_channels + self.alpha

    @property
    def bytes_per_pixel(self) -> int:
        return (self.channels + self.padded) * np.dtype(self.dtype).itemsize

    def allocate(self, height: int, width: int) -> np.ndarray:
        """An uninitialised HxWxchannels array in this layout (a view when padded)."""
        if self.padded:
            return np.empty((height, width, 4), self.dtype)[:, :, :3]
        return np.empty((height, width, self.channels), self.dtype)

    def same_pixels(self, other: PixelLayout) -> bool:
        """Equal but for the padding, which changes only how fast Pillow gets the pixels."""
        return (self.dtype, self.color_channels, self.alpha) == (
            other.dtype,
            other.color_channels,
            other.alpha,
        )

    @property
    def top(self) -> int:
        return int(np.iinfo(self.dtype).max)


def layout_for(info: FormatInfo, *, grey: bool, alpha: bool, bit_depth: int) -> PixelLayout:
    """The layout ``info``'s format gives an image: 16 bits only where the source had them
    and the format keeps them, grey as RGB where the format has no grey, no alpha where it
    has none (the writer composites over white)."""
    sixteen = bit_depth == 16 and info.sixteen_bit
    color_channels = 1 if grey and info.grey else 3
    alpha = alpha and info.alpha
    return PixelLayout(
        dtype=np.uint16 if sixteen else np.uint8,
        color_channels=color_channels,
        alpha=alpha,
        padded=not sixteen and color_channels == 3 and not alpha and info.name in IN_PLACE_RGBX,
    )


@dataclass(frozen=True, kw_only=True)
class Raster:
    """HxWxC uint8/uint16 pixels (C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA), straight alpha,
    and the metadata to write with them (see ``ImageData`` for ``exif``/``icc_profile``)."""

    pixels: np.ndarray
    alpha: bool
    exif: bytes | None = None
    icc_profile: bytes | None = None
    format: str = ""

    def __post_init__(self) -> None:
        pixels = self.pixels
        if not isinstance(pixels, np.ndarray) or pixels.dtype not in (np.uint8, np.uint16):
            raise TypeError("Raster.pixels must be a uint8 or uint16 numpy array")
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4) or 0 in pixels.shape[:2]:
            raise ValueError(f"Raster.pixels must be HxWxC with C in 1..4, got {pixels.shape}")
        if self.alpha and pixels.shape[2] not in (2, 4):
            raise ValueError("a Raster with alpha has 2 or 4 channels")
        if self.format and self.format not in FORMATS:
            raise ValueError(f"Raster.format must be one of {sorted(FORMATS)} or ''")

    @classmethod
    def carrying(cls, pixels: np.ndarray, *, alpha: bool, source: ImageData | Raster) -> Raster:
        """New pixels with ``source``'s metadata: an upscale or a format conversion changes
        the pixels, never the EXIF, colour profile or source format written with them."""
        return cls(
            pixels=pixels,
            alpha=alpha,
            exif=source.exif,
            icc_profile=source.icc_profile,
            format=source.format,
        )

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def layout(self) -> PixelLayout:
        return PixelLayout(
            dtype=self.pixels.dtype.type,
            color_channels=self.pixels.shape[2] - self.alpha,
            alpha=self.alpha,
            padded=rgbx_base(self.pixels) is not None,
        )


def rgbx_base(pixels: np.ndarray) -> np.ndarray | None:
    """The HxWx4 array an 8-bit RGB view was cut from (``PixelLayout.padded``), or None."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        return None
    height, width = pixels.shape[:2]
    if pixels.strides != (4 * width, 4, 1) or not _owns_rgbx(pixels):
        return None
    base = np.lib.stride_tricks.as_strided(pixels, shape=(height, width, 4), writeable=False)
    return base if base.flags.c_contiguous else None


def quantize(values: np.ndarray, out: np.ndarray) -> None:
    """Round [0, 1] floats to out's integer range; NaN -> 0, out-of-range clipped."""
    top = np.iinfo(out.dtype).max
    scaled = values * np.float32(top)
    scaled += np.float32(0.5)
    np.nan_to_num(scaled, copy=False, nan=0.0)
    np.clip(scaled, 0, top, out=scaled)
    out[...] = scaled  # float -> int truncates, which after +0.5 rounds


def eight_bit(pixels: np.ndarray, *, rows: int = 256) -> np.ndarray:
    """uint8 pixels for a display: the array itself when it is 8-bit; 16-bit rounded to the
    nearest 8-bit level a strip of ``rows`` at a time (no full-size wide temporary)."""
    if pixels.dtype == np.uint8:
        return pixels
    out = np.empty(pixels.shape, np.uint8)
    for top in range(0, pixels.shape[0], rows):
        strip = pixels[top : top + rows].astype(np.uint32)
        out[top : top + rows] = (strip * 255 + 32767) // 65535
    return out


def _owns_rgbx(pixels: np.ndarray) -> bool:
    """The memory under ``pixels`` reaches the fourth byte of its last pixel."""
    owner = pixels
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    start = pixels.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return start >= 0 and start + pixels.shape[0] * pixels.shape[1] * 4 <= owner.nbytes
