"""File primitives shared by every writer of the engine: checksums, atomic writes, the
temporaries those writes leave after a hard kill, and whether a folder can be written."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

TEMP_SUFFIX = ".part"
# ".<target name>.<pid>-<8 hex>.part": the pid tells a stale temporary (its writer is gone)
# from one another process is writing right now. Older versions wrote no pid.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?:(?P<pid>\d+)-)?[0-9a-f]{8}\.part$")

_in_flight: set[Path] = set()
_in_flight_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB chunks (weights files run to hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def temp_path_for(path: Path) -> Path:
    """Hidden sibling of path; same folder, so os.replace is a rename, never a copy."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, never a part.

    On any failure (KeyboardInterrupt included) the temp file is removed, an existing file
    is left as it was, and the OSError propagates. The parent folder must exist.
    """
    path = Path(path)
    temp = temp_path_for(path)
    # 0o666 so the umask applies as for any new file (mkstemp would force 0o600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    with in_flight(temp):
        try:
            fd = os.open(temp, flags, 0o666)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise


@contextlib.contextmanager
def staged_replace() -> Iterator[Callable[[Path], Path]]:
    """Files that must change together: the block writes each to the temporary that
    ``stage(target)`` names, and all are renamed over their targets once the block has
    succeeded. A failure in it (a full disk, a read-only folder, Ctrl-C) leaves every target
    as it was and no temporary behind."""
    staged: list[tuple[Path, Path]] = []

    def stage(target: Path) -> Path:
        temp = temp_path_for(Path(target))
        with _in_flight_lock:
            _in_flight.add(temp)
        staged.append((temp, Path(target)))
        return temp

    placed = 0
    try:
        yield stage
        for temp, target in staged:
            os.replace(temp, target)
            placed += 1
    finally:
        for temp, _ in staged[placed:]:
            with contextlib.suppress(OSError):
                temp.unlink()
        with _in_flight_lock:
            _in_flight.difference_update(temp for temp, _ in staged)


@contextlib.contextmanager
def in_flight(temp: Path) -> Iterator[None]:
    """Mark ``temp`` as being written for the block, so that a process ending at once
    (``remove_in_flight_temporaries``) deletes it. Every writer of a temporary uses this."""
    with _in_flight_lock:
        _in_flight.add(temp)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(temp)


def remove_in_flight_temporaries() -> list[Path]:
    """Delete the temporaries (files, or folders a bundle is built in) of writes still
    running, for a process about to exit at once (a second Ctrl-C, SIGTERM) that will not
    reach their own clean-up; the ones still there afterwards."""
    import shutil

    with _in_flight_lock:
        pending = list(_in_flight)
    for temp in pending:
        if temp.is_dir() and not temp.is_symlink():
            shutil.rmtree(temp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                temp.unlink()
    return [temp for temp in pending if os.path.lexists(temp)]


def _pid_alive(pid: int) -> bool:
    # psutil rather than os.kill(pid, 0): on Windows signal 0 is CTRL_C_EVENT.
    import psutil

    return pid == os.getpid() or psutil.pid_exists(pid)


def stale_temporaries(folder: Path, *, targets: Iterable[str] | None = None) -> list[Path]:
    """Our temporaries in ``folder`` whose writer is gone (killed mid-write), optionally
    only those for files named in ``targets``. Other programs' files are never matched."""
    wanted = None if targets is None else set(targets)
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = _TEMP_NAME.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            if wanted is not None and match["target"] not in wanted:
                continue
            if match["pid"] is None or not _pid_alive(int(match["pid"])):
                found.append(Path(folder) / entry.name)
    return sorted(found)


def remove_stale_temporaries(folder: Path, *, targets: Iterable[str] | None = None) -> list[Path]:
    """Delete ``stale_temporaries(folder, targets=...)``; the paths actually removed."""
    removed = []
    for temp in stale_temporaries(folder, targets=targets):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed.append(temp)
    return removed


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written into ``folder`` (creating it if needed), or None.

    Checked before long work so that a job fails in a second, not after the work. Only
    looks (no folder is created): a folder that will stay empty must not appear.
    """
    folder = Path(folder)
    if (problem := name_problem(folder, extra=0)) is not None:  # no stat could tell
        return f"cannot create the folder {folder} ({problem})"
    existing = folder
    while not existing.exists():
        if existing.is_symlink():
            return f"cannot create the folder {existing} (a link to something missing)"
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot create the folder {folder} ({existing} is a file, not a folder)"
    if _read_only(existing):
        return f"cannot write in {existing} (read-only file system)"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write in {existing} (permission denied)"
    return None


def name_max(folder: Path) -> int:
    """The longest file name, in bytes, that ``folder``'s file system takes (the folder or
    the nearest one above it that exists); 255 where the system cannot say."""
    existing = Path(folder)
    while not os.path.isdir(existing) and existing.parent != existing:  # (no OSError)
        existing = existing.parent
    try:
        limit = int(os.pathconf(existing, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):  # pathconf is POSIX only
        return 255
    return limit if limit > 0 else 255  # -1: the system gives no figure


def name_problem(path: Path, *, extra: int | None = None) -> str | None:
    """Why ``path`` cannot be created because a name in it is longer than the file system
    takes, or None. ``extra``: bytes the name is longer while it is written (None: the
    temporary name of ``temp_path_for``, which an atomic write creates first)."""
    path = Path(path)
    limit = name_max(path.parent)
    for folder in path.parent.parts:
        if (size := len(os.fsencode(folder))) > limit:
            return f"a folder name in it is too long: {size} bytes, at most {limit}"
    size = len(os.fsencode(path.name))
    if extra is None:
        extra = len(os.fsencode(temp_path_for(path).name)) - size
    if size + extra <= limit:
        return None
    if not extra:
        return f"name too long for the file system: {size} bytes, at most {limit}"
    return (
        f"name too long for the file system: {size} bytes, at most {limit - extra} "
        f"({limit} less {extra} for the temporary name it is written under first)"
    )


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # statvfs is POSIX only
        return False
