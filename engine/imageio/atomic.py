"""Atomic image writes, with failures reported as one-line ImageErrors."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from engine import files
from engine.errors import ImageError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace path with data (see ``engine.files``); OSError becomes ImageError(path, reason)."""
    path = Path(path)
    _check_destination(path)
    try:
        files.atomic_write_bytes(path, data)
    except OSError as exc:
        raise ImageError(path, _write_reason(exc)) from None


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file (read-write, seekable) that replaces ``path`` when the block ends.

    For writers that stream: the temp file beside ``path`` is removed on any failure
    (KeyboardInterrupt included), and an OSError becomes ImageError(path, reason).
    """
    path = Path(path)
    _check_destination(path)
    temp = files.temp_path_for(path)
    with files.in_flight(temp):  # a second Ctrl-C removes it before exiting
        yield from _replace_through(path, temp)


def _replace_through(path: Path, temp: Path) -> Iterator[BinaryIO]:
    try:
        # "x": created here or failing (never someone else's file); mode 0o666 less the umask.
        handle_cm = open(temp, "x+b")  # noqa: SIM115 (closed by the with below)
        try:
            with handle_cm as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
    except OSError as exc:
        raise ImageError(path, _write_reason(exc)) from None


def _check_destination(path: Path) -> None:
    if path.is_dir():
        raise ImageError(path, "is a folder; expected an output file name")
    if not path.parent.is_dir():
        raise ImageError(path, "output folder does not exist")


def _write_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (cannot write here)"
    return f"could not write the file ({exc.strerror or exc})"
