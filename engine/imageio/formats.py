"""Which image formats we read and write, recognised by name, suffix or file signature."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import UsageError


@dataclass(frozen=True, kw_only=True)
class FormatInfo:
    """What one format can hold; the writer degrades to what is allowed here."""

    name: str  # Pillow's name
    label: str  # how a person writes it
    alpha: bool
    grey: bool
    sixteen_bit: bool
    metadata: bool  # EXIF and ICC profile
    max_side: int | None


# One row a format, in FormatInfo's field order, so the formats read side by side:
# name, label, alpha, grey, sixteen_bit, metadata, max_side.
_ROWS: tuple[tuple[str, str, bool, bool, bool, bool, int | None], ...] = (
    ("PNG", "PNG", True, True, True, True, None),
    ("JPEG", "JPEG", False, True, False, True, 65500),  # libjpeg's JPEG_MAX_DIMENSION
    ("WEBP", "WebP", True, False, False, True, 16383),  # WEBP_MAX_DIMENSION
    ("TIFF", "TIFF", True, True, True, True, None),
    ("BMP", "BMP", False, True, False, False, None),
)
FORMATS: dict[str, FormatInfo] = {
    name: FormatInfo(
        name=name,
        label=label,
        alpha=alpha,
        grey=grey,
        sixteen_bit=sixteen_bit,
        metadata=metadata,
        max_side=max_side,
    )
    for name, label, alpha, grey, sixteen_bit, metadata, max_side in _ROWS
}

_SUFFIX_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_SUFFIX_FORMATS)
SUPPORTED_LABELS = ", ".join(info.label for info in FORMATS.values())


def format_for_suffix(suffix: str) -> str:
    """Pillow's format name for a suffix (".jpg", "jpg") or a format name ("JPEG", "webp").

    Raises UsageError for anything we cannot write.
    """
    key = suffix.strip().lower()
    if not key.startswith("."):
        key = "." + key
    try:
        return _SUFFIX_FORMATS[key]
    except KeyError:
        known = ", ".join(sorted({s.lstrip(".") for s in SUPPORTED_SUFFIXES}))
        raise UsageError(f"unsupported image format '{suffix}' (use one of: {known})") from None


def format_clash(path: Path | str, format: str) -> str | None:
    """Why writing ``format`` at ``path`` would put one format's bytes under another's name
    (JPEG in ``x.png``), or None: no suffix, one that names no format, or the same format."""
    named = _SUFFIX_FORMATS.get(Path(path).suffix.lower())
    asked = format_for_suffix(format)
    if named is None or named == asked:
        return None
    return f"the name says {FORMATS[named].label}, the format asked for is {FORMATS[asked].label}"


# File signatures: how we tell a damaged PNG from a text file that only ends in ".png".
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
)


def sniff_format(data: bytes) -> str | None:
    """Format name from the first bytes; unsupported formats get their common name."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        return "AVIF" if brand in (b"avif", b"avis") else "HEIF"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def label(name: str) -> str:
    """How a person writes a format name ("WEBP" -> "WebP")."""
    info = FORMATS.get(name)
    return info.label if info else name
