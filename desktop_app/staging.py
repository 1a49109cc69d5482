"""A full-quality result kept on disk until it is saved: raw pixels and their metadata.

A 3000 x 2000 photo upscaled x4 is 96 megapixels. Encoding it as PNG to keep it took most
of a minute ("Keeping the result"); its raw 8/16-bit pixels (``.npy``, no pickling) are
written in about a second and read back by Save through a memory map, so saving costs no
second full-size copy. The metadata (EXIF, ICC profile, source format) sits beside it in
JSON.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from engine.errors import ImageError
from engine.imageio.raster import Raster

SUFFIX = ".npy"


def _encode(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _decode(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def stage(raster: Raster, path: Path) -> Path:
    """Write ``raster`` to ``path`` (``.npy``) and its metadata beside it; returns path."""
    path = path.with_suffix(SUFFIX)
    np.save(path, raster.pixels, allow_pickle=False)
    meta = {
        "alpha": raster.alpha,
        "exif": _encode(raster.exif),
        "icc_profile": _encode(raster.icc_profile),
        "format": raster.format,
    }
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return path


def load_staged(path: Path) -> Raster:
    """The staged result, its pixels memory-mapped (read as the encoder needs them)."""
    try:
        pixels = np.load(path, mmap_mode="r", allow_pickle=False)
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return Raster(
            pixels=pixels,
            alpha=bool(meta["alpha"]),
            exif=_decode(meta["exif"]),
            icc_profile=_decode(meta["icc_profile"]),
            format=str(meta["format"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ImageError(path, f"the kept result cannot be read ({error})") from None
