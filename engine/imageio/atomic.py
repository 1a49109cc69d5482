"""Atomic image writes, with failures reported as one-line ImageErrors.

Without ``overwrite`` the last step never replaces a file: the temporary is published with
``renameat2(RENAME_NOREPLACE)`` where the kernel has it, else a hard link (``os.link``
fails on an existing name), else an exclusive create and copy. A file that appeared at the
output path while the work ran is therefore kept and reported as "already exists".
With ``overwrite`` only a regular file is replaced: never a device, FIFO or folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from engine import files
from engine.errors import ImageError
from engine.events import CancelToken
from engine.imageio.source import UNKNOWN_KIND, path_kind

ALREADY_EXISTS = "already exists"
_RENAME_NOREPLACE = 1  # linux/fs.h
_AT_FDCWD = -100
# Filesystems without hard links (FAT, some network shares) answer one of these.
_NO_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS})


def atomic_write_bytes(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically; OSError becomes ImageError(path, reason)."""
    with atomic_output(path, overwrite=overwrite) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_output(
    path: Path, *, overwrite: bool = True, cancel: CancelToken | None = None
) -> Iterator[BinaryIO]:
    """A binary file (read-write, seekable) that becomes ``path`` when the block ends.

    For writers that stream: the temp file beside ``path`` is removed on any failure
    (KeyboardInterrupt included), and an OSError becomes ImageError(path, reason).
    ``overwrite`` False: an existing ``path`` (even one created meanwhile) is never replaced.
    ``cancel``: when it is set by the time the data is on disk, nothing is published
    (Cancelled is raised, the temp file removed).
    """
    path = Path(path)
    _check_destination(path, overwrite=overwrite)
    temp = files.temp_path_for(path)
    with files.in_flight(temp):  # a second Ctrl-C removes it before exiting
        yield from _publish_through(path, temp, overwrite, cancel)


def _publish_through(
    path: Path, temp: Path, overwrite: bool, cancel: CancelToken | None
) -> Iterator[BinaryIO]:
    try:
        # "x": created here or failing (never someone else's file); mode 0o666 less the umask.
        handle_cm = open(temp, "x+b")  # noqa: SIM115 (closed by the with below)
        try:
            with handle_cm as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            if cancel is not None:
                # The last moment a cancel can still mean "no output" (fsync takes a while).
                cancel.raise_if_cancelled()
            if overwrite:
                _check_destination(path, overwrite=True)  # still a regular file, or none
                os.replace(temp, path)
            else:
                publish_no_replace(temp, path)
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
    except FileExistsError:
        raise ImageError(path, ALREADY_EXISTS) from None
    except OSError as exc:
        raise ImageError(path, _write_reason(exc)) from None


def publish_no_replace(temp: Path, path: Path) -> None:
    """Give ``temp`` the name ``path`` unless ``path`` exists (FileExistsError then).

    ``temp`` is left for the caller to remove (gone already after a rename)."""
    if _renameat2(temp, path):
        return
    try:
        os.link(temp, path)
        return
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    _copy_exclusive(temp, path)


def _renameat2(temp: Path, path: Path) -> bool:
    """Rename without replacing; False where the kernel or libc cannot (then link)."""
    function = _libc_renameat2()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(temp), _AT_FDCWD, os.fsencode(path), _RENAME_NOREPLACE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # old kernel, or a filesystem without the flag
    raise OSError(code, os.strerror(code), str(path))


def _libc_renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2  # glibc >= 2.28
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


def _copy_exclusive(temp: Path, path: Path) -> None:
    """No hard links: create ``path`` exclusively and copy; a failed copy removes it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as out, open(temp, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def destination_problem(path: Path, *, overwrite: bool) -> str | None:
    """Why ``path`` cannot receive a new file, or None (looks only)."""
    path = Path(path)
    if not os.path.lexists(path):
        if not path.parent.is_dir():
            return "output folder does not exist"
        return None
    kind = not_regular(path)
    if kind is not None:
        return f"{kind}; only a regular file can be replaced"
    if not overwrite:
        return ALREADY_EXISTS
    return None


# What an existing output that is not a regular file is, by PathKind (any other: the
# system's words for why the stat failed).
_NOT_REGULAR = {
    "folder": "is a folder, not a file",
    "special": "is {detail}, not a file",
    "loop": "is a link loop",
    "missing": "is a link to something missing",
}


def not_regular(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (links followed)."""
    found = path_kind(path)
    if found.kind == "file":
        return None
    if found.kind == "special" and found.detail == UNKNOWN_KIND:
        return "is not a regular file"
    return _NOT_REGULAR.get(found.kind, "cannot be checked ({detail})").format(detail=found.detail)


def _check_destination(path: Path, *, overwrite: bool) -> None:
    if path.is_dir():
        raise ImageError(path, "is a folder; expected an output file name")
    problem = destination_problem(path, overwrite=overwrite)
    if problem is not None:
        raise ImageError(path, problem)


def _write_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (cannot write here)"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long for the file system"
    return f"could not write the file ({exc.strerror or exc})"
