"""What every command module's argparse set-up shares: the handler type, value checks,
the flags several commands take, the command line a job records, the checks of the
folders a command writes into and the running of the jobs that write there."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.events import CancelToken

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


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_schedule(parser: argparse.ArgumentParser) -> None:
    """The training commands' ``--steps`` and ``--batch-size`` (``training_overrides``)."""
    parser.add_argument("--steps", type=positive_int, help="total steps (overrides the config)")
    parser.add_argument("--batch-size", type=positive_int, help="crops per step and process")


def add_data(parser: argparse.ArgumentParser) -> None:
    """The training commands' ``--data`` (``training_overrides``)."""
    parser.add_argument(
        "--data", type=Path, action="append", help="folder of HR photos (repeatable)"
    )


def add_resume(parser: argparse.ArgumentParser) -> None:
    """The training commands' ``--resume``: go on with the run in their ``--out`` folder."""
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")


def add_teacher(parser: argparse.ArgumentParser) -> None:
    """``--teacher`` of the commands that score against the teacher (None: their default,
    the DEFAULT_TEACHER of engine.measure.evaluate and engine.nas.search)."""
    parser.add_argument("--teacher", default=None, help="teacher model (default realesrgan-x4plus)")


def add_models_dir(parser: argparse.ArgumentParser) -> None:
    """The publish commands' ``--models-dir``: the shipped models' folder unless given."""
    from engine.paths import RESOURCES

    parser.add_argument(
        "--models-dir",
        type=Path,
        default=RESOURCES / "models",
        help="where to write (default resources/models)",
    )


def training_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """What a training command's ``--data``, ``--steps`` and ``--batch-size`` replace in its
    config, as ``engine.distill.config.with_overrides`` keys (None: the config's value)."""
    return {
        "data.dirs": tuple(args.data) if args.data else None,
        "schedule.steps": args.steps,
        "schedule.batch_size": args.batch_size,
    }


def use_threads(threads: int | None) -> None:
    """Apply a ``--threads`` flag to torch (None: torch's own choice)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def command_line() -> str:
    """This run's command as ``mfagan ...``, quoted for a shell: what a model card records
    as the command that made it (``python -m engine.distill`` runs record it so too)."""
    return shlex.join(["mfagan", *sys.argv[1:]])


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


def run_writing(
    job: Callable[[Any], Iterator[Any]],
    folder: Path,
    *,
    quiet: bool,
    silent: bool = False,
    cancel: CancelToken | None = None,
) -> Any:
    """Run a job that writes into ``folder`` (a training, a publish, a fine-tune) with
    ``writes_into``'s one-line failures; ``run_job``'s result."""
    from engine.console import run_job

    with writes_into(folder):
        return run_job(job, quiet=quiet, silent=silent, cancel=cancel)


def run_training(
    job: Callable[[Any], Iterator[Any]], out: Path, *, quiet: bool, threads: int | None
) -> Any:
    """Run a training job (``distill``, ``supernet train``) that writes into ``out``, with
    ``writes_into``'s one-line failures; progress on the main process only. Its result
    there, None on the other processes of a multi-process run (they print nothing).

    ``out`` is checked (``--out``) before the job starts, that is before the teacher is
    loaded, not at the first save; ``threads`` is the command's ``--threads``."""
    from engine.distill.parallel import is_main_process

    check_out_folder("--out", out)
    use_threads(threads)
    result = run_writing(job, out, quiet=quiet, silent=not is_main_process())
    return result if is_main_process() else None


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.ENAMETOOLONG}
