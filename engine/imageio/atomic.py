"""Write a file so that it is either complete or absent: temp file beside it + os.replace."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from engine.errors import ImageError

TEMP_SUFFIX = ".part"


def temp_path_for(path: Path) -> Path:
    """Hidden sibling of path; same folder, so os.replace is a rename, never a copy."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace path with data. On any failure (or KeyboardInterrupt) the temp file is removed
    and an existing file at path is left as it was."""
    path = Path(path)
    if path.is_dir():
        raise ImageError(path, "is a folder; expected an output file name")
    if not path.parent.is_dir():
        raise ImageError(path, "output folder does not exist")
    temp = temp_path_for(path)
    try:
        # 0o666 so the umask applies as for any new file (mkstemp would force 0o600).
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temp, flags, 0o666)
    except OSError as exc:
        raise ImageError(path, _write_reason(exc)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise ImageError(path, _write_reason(exc)) from None
        raise


def _write_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (cannot write here)"
    return f"could not write the file ({exc.strerror or exc})"
