"""EXIF orientation, EXIF clean-up for copying, and ICC profile checks."""

from __future__ import annotations

import functools
import io
import warnings

import numpy as np
from PIL import Image, ImageCms

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
INTEROP_IFD = 0xA005
PIXEL_X_DIMENSION = 0xA002
PIXEL_Y_DIMENSION = 0xA003
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT = 282, 283, 296
SOFTWARE = 0x0131

# IFD0 tags that describe how the *source file* stores its pixels. Copied into another
# file they would be wrong (a TIFF's strip offsets in a JPEG's EXIF), so they are dropped.
STRUCTURAL_TAGS = frozenset(
    {
        254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 277, 278, 279, 280, 281,
        284, 290, 291, 317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514,
        529, 530, 531, 532, 32997, 32998,
        34675,  # the ICC profile travels separately, as ImageData.icc_profile
    }
)  # fmt: skip


def clean_exif(exif: Image.Exif) -> tuple[bytes | None, int]:
    """(EXIF bytes ready to copy, orientation 1..8). The orientation tag is reset to 1.

    Software is dropped: it names the program that wrote the file read, and the file we
    write names us (engine/imageio/marker.py), so copied it would be wrong or doubled.

    Unreadable EXIF is dropped rather than failing the read: the pixels matter more.
    """
    try:
        orientation = exif.get(ORIENTATION, 1)
        orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
        for tag in (STRUCTURAL_TAGS | {SOFTWARE}) & set(exif):
            del exif[tag]
        if exif.get(RESOLUTION_UNIT) == 1:  # "no absolute unit": TIFF writers' filler
            for tag in (X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT):
                exif.pop(tag, None)
        if ORIENTATION in exif:
            exif[ORIENTATION] = 1
        if not len(exif):
            return None, orientation
        return exif.tobytes(), orientation
    except Exception:  # Pillow raises many types on malformed EXIF
        return None, 1


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """View of HxWxC pixels turned upright per the EXIF orientation (same as Pillow's)."""
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1]
    if orientation == 5:
        return pixels.transpose(1, 0, 2)
    if orientation == 6:
        return np.rot90(pixels, k=-1)
    if orientation == 7:
        return pixels[::-1, ::-1].transpose(1, 0, 2)
    if orientation == 8:
        return np.rot90(pixels, k=1)
    return pixels


def exif_for_output(exif_bytes: bytes, *, width: int, height: int) -> Image.Exif | None:
    """EXIF to embed in a written file: upright, with the new pixel dimensions.

    None when the bytes are not readable EXIF: better no EXIF than a failed write.
    """
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pillow's "Corrupt EXIF data"
            exif.load(exif_bytes)
            if ORIENTATION in exif:
                exif[ORIENTATION] = 1
            if EXIF_IFD in exif:
                sub = exif.get_ifd(EXIF_IFD)
                if PIXEL_X_DIMENSION in sub:
                    sub[PIXEL_X_DIMENSION] = width
                if PIXEL_Y_DIMENSION in sub:
                    sub[PIXEL_Y_DIMENSION] = height
    except Exception:  # Pillow raises many types on malformed EXIF
        return None
    return exif if len(exif) else None


def icc_matches(icc: bytes, *, grey: bool) -> bool:
    """True when the profile's colour space fits the pixels (a GRAY profile on RGB
    pixels, or the reverse, is invalid: libpng rejects it and viewers misrender)."""
    space = icc[16:20]
    return space == (b"GRAY" if grey else b"RGB ")


_ICC_HEADER = 128


def icc_problem(icc: bytes) -> str | None:
    """Why a colour profile cannot be used (truncated, unparseable, or no transform to
    sRGB can be built from it), or None. Copied into an output such a profile makes
    viewers misrender the colours or refuse the file."""
    declared = int.from_bytes(icc[:4], "big") if len(icc) >= 4 else 0
    if len(icc) < _ICC_HEADER or declared > len(icc):
        return f"is truncated ({len(icc)} of {max(declared, _ICC_HEADER)} bytes)"
    return _parse_problem(bytes(icc))


@functools.lru_cache(maxsize=32)
def _parse_problem(icc: bytes) -> str | None:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = {b"RGB ": "RGB", b"GRAY": "L"}.get(icc[16:20])
        if mode is not None:
            # Parsing reads only the header; building a transform reads the tags.
            srgb = ImageCms.ImageCmsProfile(io.BytesIO(srgb_profile()))
            ImageCms.buildTransform(profile, srgb, mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return "cannot be read by colour management (damaged)"
    return None


def checked_icc(icc: bytes | None) -> tuple[bytes | None, str | None]:
    """(the profile, or None when it is unusable, and then a one-line note saying so)."""
    if not icc:
        return None, None
    problem = icc_problem(icc)
    if problem is None:
        return icc, None
    return None, f"its ICC colour profile {problem}; it is left out (viewers will assume sRGB)"


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB profile, attached to CMYK images once converted through their own profile."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def cmyk_to_rgb(im: Image.Image) -> tuple[Image.Image, bytes | None]:
    """(RGB image, its ICC profile). Uses the embedded CMYK profile when there is one;
    otherwise (or if that profile is unusable) Pillow's plain conversion, with no profile."""
    icc = im.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target = ImageCms.ImageCmsProfile(io.BytesIO(srgb_profile()))
            converted = ImageCms.profileToProfile(
                im, source, target, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile should not make the photo unreadable
        else:
            if converted is not None:
                return converted, srgb_profile()
    return im.convert("RGB"), None
