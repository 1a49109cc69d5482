"""The decoded image every other part of the engine works on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.imageio.formats import FORMATS


@dataclass(frozen=True, kw_only=True)
class ImageData:
    """Pixels as float32 in [0, 1] plus what is needed to write them back faithfully.

    color: HxWx3 (RGB) or HxWx1 (grey). alpha: HxWx1, straight (not premultiplied), or None.
    bit_depth: 8 or 16, the precision of the source; writers keep 16 where the format can.
    exif: TIFF-structured EXIF with the b"Exif\\0\\0" prefix (as in a JPEG APP1 segment);
    orientation is already applied to the pixels and the tag reset to 1; tags that only
    describe the source file's pixel storage (strip offsets, bits per sample...) are removed.
    icc_profile: the source's colour profile, verbatim (an sRGB profile after a CMYK image
    was converted through its own profile).
    format: Pillow's name of the source format ("PNG", "JPEG", "WEBP", "TIFF", "BMP"), or ""
    for an image that was not read from a file.
    notes: what the reader left out and the user should be told, one line each (e.g. a
    damaged ICC profile, dropped rather than copied into the output).
    """

    color: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    exif: bytes | None = None
    icc_profile: bytes | None = None
    format: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        color = self.color
        if not isinstance(color, np.ndarray) or color.dtype != np.float32:
            raise TypeError("ImageData.color must be a float32 numpy array")
        if color.ndim != 3 or color.shape[2] not in (1, 3) or 0 in color.shape[:2]:
            raise ValueError(f"ImageData.color must be HxWx3 or HxWx1, got {color.shape}")
        alpha = self.alpha
        if alpha is not None:
            if not isinstance(alpha, np.ndarray) or alpha.dtype != np.float32:
                raise TypeError("ImageData.alpha must be a float32 numpy array or None")
            if alpha.shape != (*color.shape[:2], 1):
                raise ValueError(
                    f"ImageData.alpha must be {(*color.shape[:2], 1)}, got {alpha.shape}"
                )
        if self.bit_depth not in (8, 16):
            raise ValueError(f"ImageData.bit_depth must be 8 or 16, got {self.bit_depth}")
        if self.format and self.format not in FORMATS:
            raise ValueError(f"ImageData.format must be one of {sorted(FORMATS)} or ''")

    @property
    def height(self) -> int:
        return int(self.color.shape[0])

    @property
    def width(self) -> int:
        return int(self.color.shape[1])

    @property
    def is_grey(self) -> bool:
        return self.color.shape[2] == 1


@dataclass(frozen=True, kw_only=True)
class DecodedPixels:
    """A decoder's output before orientation and float conversion (internal)."""

    color: np.ndarray  # HxWx1 or HxWx3, uint8 or uint16
    alpha: np.ndarray | None  # HxWx1, straight (not premultiplied)
    icc: bytes | None
    frames: int = 1  # frames (animation) or pages in the file; only the first is decoded
