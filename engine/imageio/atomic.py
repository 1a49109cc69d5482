"""Atomic image writes, with failures reported as one-line ImageErrors."""

from __future__ import annotations

from pathlib import Path

from engine import files
from engine.errors import ImageError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace path with data (see ``engine.files``); OSError becomes ImageError(path, reason)."""
    path = Path(path)
    if path.is_dir():
        raise ImageError(path, "is a folder; expected an output file name")
    if not path.parent.is_dir():
        raise ImageError(path, "output folder does not exist")
    try:
        files.atomic_write_bytes(path, data)
    except OSError as exc:
        raise ImageError(path, _write_reason(exc)) from None


def _write_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (cannot write here)"
    return f"could not write the file ({exc.strerror or exc})"
