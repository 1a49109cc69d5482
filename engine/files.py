"""File primitives shared by every writer of the engine: checksums and atomic writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

TEMP_SUFFIX = ".part"


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB chunks (weights files run to hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def temp_path_for(path: Path) -> Path:
    """Hidden sibling of path; same folder, so os.replace is a rename, never a copy."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, never a part.

    On any failure (KeyboardInterrupt included) the temp file is removed, an existing file
    is left as it was, and the OSError propagates. The parent folder must exist.
    """
    path = Path(path)
    temp = temp_path_for(path)
    # 0o666 so the umask applies as for any new file (mkstemp would force 0o600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
