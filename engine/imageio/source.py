"""Whether a path can be an input image, and reading one without ever blocking.

Only a regular file (links followed) is an input: a FIFO would block the open for ever and
a link to /dev/zero would be read until memory runs out. ``input_problem`` only looks (a
stat, which neither blocks nor reads); ``read_input`` opens without blocking and checks
the opened file again, so a path swapped for a FIFO after the check is refused as well.
Shared by ``mfagan upscale``, the batch scan, the reader and the distill photo scan.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.errors import ImageError

NOT_FOUND = "file not found"
IS_FOLDER = "is a folder, not an image file"
LINK_LOOP = "is a symbolic link loop (it leads back to itself)"
BROKEN_LINK = "is a broken link (it points to something missing)"
NO_PERMISSION = "permission denied (cannot read the file)"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def input_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an image file, or None for a regular file.

    Looks only: nothing is opened. Links are followed; a folder, FIFO, device or socket,
    a link loop and a link to something missing each get their own reason.
    """
    return _input_reason(Path(path), path_kind(path))


@dataclass(frozen=True)
class PathKind:
    """What a path is once links are followed, from one stat (or a failed open).

    ``kind``: "file" (a regular one), "folder", "special" (a FIFO, device, socket), "loop",
    "missing" (nothing there, or a link to nothing), "denied" or "error". ``detail``: for
    "special" ``special_kind``'s words, for "denied" and "error" the system's.
    """

    kind: str
    detail: str = ""


# A failed stat or open, by errno; any other errno is "error".
_ERRNO_KINDS = {
    errno.ELOOP: "loop",
    errno.ENOENT: "missing",
    errno.ENOTDIR: "missing",
    errno.EACCES: "denied",
    errno.EPERM: "denied",
}


def path_kind(path: Path | str) -> PathKind:
    """What ``path`` is (links followed), looking only: a stat neither blocks nor reads.

    One classification behind three sets of words: why an input cannot be read
    (``input_problem``), why an output cannot be replaced, why a batch leaves a link aside.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return _error_kind(exc)
    return _mode_kind(mode)


def _error_kind(exc: OSError) -> PathKind:
    return PathKind(_ERRNO_KINDS.get(exc.errno or 0, "error"), exc.strerror or str(exc))


def _mode_kind(mode: int) -> PathKind:
    if stat.S_ISREG(mode):
        return PathKind("file")
    if stat.S_ISDIR(mode):
        return PathKind("folder")
    return PathKind("special", special_kind(mode))


# Why a path is not an input, by kind; a link gets its own words (see _input_reason).
_INPUT_REASONS = {
    "folder": IS_FOLDER,
    "special": "is {detail}, not a regular file",
    "loop": LINK_LOOP,
    "missing": NOT_FOUND,
    "denied": NO_PERMISSION,
    "error": "could not read the file ({detail})",
}


def _input_reason(path: Path, found: PathKind) -> str | None:
    if found.kind == "file":
        return None
    if found.kind == "missing" and path.is_symlink():
        return BROKEN_LINK
    if found.kind == "special" and path.is_symlink():
        return f"is a link to {found.detail} ({os.path.realpath(path)}), not a regular file"
    return _INPUT_REASONS[found.kind].format(detail=found.detail)


UNKNOWN_KIND = "something other than a file"


def special_kind(mode: int) -> str:
    """What a file that is not a regular one or a folder is, in words ("a FIFO (named pipe)")."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return UNKNOWN_KIND


@contextlib.contextmanager
def open_input(path: Path) -> Iterator[BinaryIO]:
    """``path`` opened for reading, only if it is a regular file (ImageError otherwise).

    O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; it changes
    nothing for the regular file actually read.
    """
    path = Path(path)
    problem = input_problem(path)
    if problem is not None:
        raise ImageError(path, problem)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise ImageError(path, _input_reason(path, _error_kind(exc))) from None
    with os.fdopen(fd, "rb") as handle:
        # Checked again on what was opened: the path may have been swapped since.
        problem = _input_reason(path, _mode_kind(os.fstat(fd).st_mode))
        if problem is not None:
            raise ImageError(path, problem)
        yield handle


def read_input(path: Path) -> bytes:
    """The whole of a regular file; ImageError(path, reason) for anything else."""
    with open_input(path) as handle:
        try:
            return handle.read()
        except OSError as exc:
            raise ImageError(path, f"could not read the file ({exc.strerror or exc})") from None


def read_head(path: Path, size: int = 32) -> bytes:
    """The first ``size`` bytes of a regular file (enough for ``sniff_format``)."""
    with open_input(path) as handle:
        try:
            return handle.read(size)
        except OSError as exc:
            raise ImageError(path, f"could not read the file ({exc.strerror or exc})") from None
