"""What every command module's argparse set-up shares: the handler type, value checks,
and the checks of the folders a command writes into."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


def positive_int(text: str) -> int:
    """An argparse type: a usage error (exit 2) names the value instead of a traceback."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def check_out_folder(flag: str, folder: Path | None) -> None:
    """UsageError (exit 2) before any work when ``folder`` (given by ``flag``) cannot be
    written: read-only, a file in the way, a name too long (``folder_problem``)."""
    from engine.errors import UsageError
    from engine.files import folder_problem

    if folder is not None and (problem := folder_problem(folder)) is not None:
        raise UsageError(f"{flag}: {problem}")


@contextlib.contextmanager
def writes_into(folder: Path) -> Iterator[None]:
    """A job writing into ``folder``: an OSError met there mid-run (a full disk, a mount
    gone read-only) becomes a StorageError naming the folder (exit 1), not a traceback."""
    from engine.errors import StorageError

    try:
        yield
    except OSError as error:
        if error.errno not in _STORAGE_ERRNOS:
            raise
        reason = error.strerror or str(error)
        reason = reason[:1].lower() + reason[1:]
        named = Path(os.fsdecode(error.filename)) if error.filename else None
        if named is not None and not named.absolute().is_relative_to(Path(folder).absolute()):
            raise StorageError(named, reason) from None  # a file elsewhere (a photo, the cache)
        raise StorageError(folder, f"cannot write ({reason})") from None


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.ENAMETOOLONG}
