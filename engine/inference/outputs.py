"""Where results go: an output path is checked before any model work, never after it.

Rules shared by ``mfagan upscale``, ``mfagan batch`` and the app: an output never replaces
an input (links resolved), never replaces an existing file unless asked to, and its folder
must be creatable and writable; each failure is one line naming the path and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from engine.errors import ImageError, UsageError
from engine.files import folder_problem
from engine.imageio import SUPPORTED_SUFFIXES
from engine.imageio.atomic import not_regular
from engine.imageio.formats import format_clash

OVERWRITE_HINT = "--overwrite replaces it"


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def same_file(a: Path, b: Path) -> bool:
    """True when both paths name one file (links and hard links followed)."""
    return InputFiles([a]).find(b) is not None


class InputFiles:
    """A job's input files, for asking fast whether an output path is one of them."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self._by_path: dict[Path, Path] = {}
        self._by_identity: dict[tuple[int, int], Path] = {}
        for path in paths:
            path = Path(path)
            self._by_path[path.resolve()] = path
            identity = _identity(path)
            if identity is not None:
                self._by_identity[identity] = path

    def find(self, output: Path) -> Path | None:
        """The input that ``output`` names (same path, or a link or hard link to it)."""
        output = Path(output)
        found = self._by_path.get(output.resolve())
        if found is None:
            identity = _identity(output)  # also catches case-insensitive file systems
            found = self._by_identity.get(identity) if identity is not None else None
        return found


def suffix_problem(path: Path, format: str | None) -> str | None:
    """Why ``path``'s suffix cannot say the output format (None when --format does), or
    contradicts the format given."""
    if format is not None:
        return format_clash(path, format)
    if not path.suffix:
        known = ", ".join(s for s in SUPPORTED_SUFFIXES)
        return f"no file suffix to tell the format ({known}); end it with / for a folder"
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        known = ", ".join(s.lstrip(".") for s in SUPPORTED_SUFFIXES)
        return f"cannot write {path.suffix} images (supported: {known})"
    return None


def output_problem(
    output: Path,
    *,
    inputs: Iterable[Path] | InputFiles = (),
    format: str | None = None,
    overwrite: bool = False,
) -> str | None:
    """Why an image cannot be written at ``output``, or None. Looks only: creates nothing.

    ``inputs``: files that must never be replaced (the job's sources). ``format``: the
    output format when given apart from the suffix. ``overwrite``: an existing file that
    is not an input may be replaced; anything but a regular file (a device, a FIFO, a link
    to one) never is.
    """
    output = Path(output)
    if output.is_dir():
        return "is a folder; expected an output file name"
    problem = suffix_problem(output, format)
    if problem is not None:
        return problem
    exists = os.path.lexists(output)
    kind = not_regular(output) if exists else None  # a device, FIFO, link loop: never replaced
    if kind is not None:
        return f"{kind}; only a regular file can be replaced"
    known = inputs if isinstance(inputs, InputFiles) else InputFiles(inputs)
    source = known.find(output)
    if source is not None:
        what = "the input file" if output.name == source.name else f"the input {source}"
        return f"would replace {what}; choose another output name"
    problem = folder_problem(output.parent)
    if problem is not None:
        return problem
    if exists and not overwrite:
        return f"already exists ({OVERWRITE_HINT})"
    return None


def check_output(
    output: Path,
    *,
    inputs: Iterable[Path] | InputFiles = (),
    format: str | None = None,
    overwrite: bool = False,
) -> None:
    """``output_problem`` as a UsageError naming the path: for a single-file job."""
    problem = output_problem(output, inputs=inputs, format=format, overwrite=overwrite)
    if problem is not None:
        raise UsageError(f"{output}: {problem}")


def output_folder(source: Path, given: str | Path | None) -> Path | None:
    """The folder ``-o`` names (None given: the source's folder), or None when it names a
    file. A path ending in a separator is a folder, created if needed."""
    if given is None:
        return Path(source).parent
    text = os.fspath(given)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        return Path(text)
    return None


def output_for(source: Path, given: str | Path | None, *, default_name: str) -> Path:
    """The output file for ``source`` from what the user typed after ``-o``.

    None: ``default_name`` beside the source. An existing folder, or a path ending in a
    separator (a folder to create): ``default_name`` inside it. Anything else: that file.
    """
    folder = output_folder(source, given)
    return Path(os.fspath(given)) if folder is None else folder / default_name


def make_output_folder(output: Path) -> None:
    """Create ``output``'s folder; an OSError becomes one ImageError line naming it."""
    try:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = folder_problem(Path(output).parent) or (
            f"cannot create the folder {Path(output).parent} ({exc.strerror or exc})"
        )
        raise ImageError(output, reason) from None
