"""Which files of a folder a batch reads, and what it leaves aside (said, never silent).

The app's own results are left aside too: upscaled again they would be a second, 16 times
larger copy for nothing (a batch into another folder once counted every earlier
``*_mfagan_x4.png`` as a new photo). A result is known by the mark the writer puts in it
(engine/imageio/marker.py); one written before results were marked, or a BMP (which holds
no mark), only by its exact name: the default name pattern with a model we know, beside
the original it was made from. A file named by the user is never judged: only scans are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.imageio import SUPPORTED_SUFFIXES
from engine.imageio.marker import PROGRAM, is_our_result
from engine.imageio.source import input_problem, path_kind

# Image files a person would expect a batch to take, which we cannot read: listed in the
# summary. Anything else (notes, sidecars, hidden files) is not an image and passes quietly.
UNSUPPORTED_IMAGE_SUFFIXES = frozenset(
    {
        ".gif", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".psd", ".ico", ".svg",
        ".tga", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".raw",
    }
)  # fmt: skip


OUR_RESULT = f"an earlier result of {PROGRAM} (its file says so)"
OUR_RESULT_BY_NAME = f"an earlier result of {PROGRAM} (named like one, beside its original)"
# What TargetSize.label writes: x4, x2.5, w1920, h1080.
SCALE_LABEL = r"(?:x\d+(?:\.\d+)?|w\d+|h\d+)"
# DEFAULT_NAME_PATTERN ("{stem}_{model}_{scale}", engine/inference/batch.py) plus a suffix;
# model names have no "_" (they are ids like "realesrgan-x4plus"), so the split is exact.
_DEFAULT_RESULT_NAME = re.compile(rf"(?P<stem>.+)_(?P<model>[^_]+)_{SCALE_LABEL}(?P<suffix>\.\w+)")


@dataclass(frozen=True, kw_only=True)
class FolderScan:
    images: list[Path] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)  # (path, why)


_BAD_LINKS = {"loop": "a link loop", "missing": "a link to something missing"}


def _link_problem(path: Path) -> str | None:
    """Why a link in the folder is left aside, or None: one that leads to something is
    judged by what it leads to."""
    found = path_kind(path)
    if found.kind in ("file", "folder", "special"):
        return None
    return _BAD_LINKS.get(found.kind, f"cannot be read ({found.detail})")


def scan_folder(folder: Path, *, recursive: bool, exclude: Path | None = None) -> FolderScan:
    """Images under ``folder`` by suffix, sorted, and the files left aside with the reason.

    Links are followed (a folder reached twice is a loop, listed once); an image name that
    is not a regular file (a FIFO, a link to a device) is left aside unopened. ``exclude``
    (an output folder inside the input folder) and hidden files are passed over quietly.
    Earlier results of the app (see the module docstring) are left aside with the reason
    ``OUR_RESULT`` or ``OUR_RESULT_BY_NAME``; ``results_left_out`` counts them.
    """
    scan = FolderScan()
    known = KnownModels()
    excluded = Path(exclude).resolve() if exclude is not None else None
    root = Path(folder)
    visited = {_identity(root)}
    pending = [root]
    while pending:
        current = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as exc:
            scan.ignored.append((current, f"folder cannot be read ({exc.strerror or exc})"))
            continue
        stems = image_stems(entry.name for entry in entries)
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                problem = _link_problem(path)
                if problem is not None:
                    scan.ignored.append((path, problem))
                    continue
            if entry.is_dir():
                if not recursive or (excluded is not None and path.resolve() == excluded):
                    continue
                identity = _identity(path)
                if identity in visited:
                    scan.ignored.append((path, "a link loop (leads to a folder already read)"))
                    continue
                visited.add(identity)
                pending.append(path)
            elif path.suffix.lower() in SUPPORTED_SUFFIXES:
                # The check ``mfagan upscale`` makes: a regular file once links are
                # resolved. A FIFO would block the read for ever, /dev/zero never ends.
                problem = input_problem(path) or earlier_result(path, stems, known)
                if problem is None:
                    scan.images.append(path)
                else:
                    scan.ignored.append((path, problem))
            elif path.suffix.lower() in UNSUPPORTED_IMAGE_SUFFIXES:
                kind = path.suffix.lstrip(".").upper()
                scan.ignored.append((path, f"{kind} images are not supported"))
    scan.images.sort()
    scan.ignored.sort()
    return scan


def image_stems(names: Iterable[str]) -> set[str]:
    """The stems of the image file names among ``names`` (the originals results are named for)."""
    return {Path(n).stem for n in names if Path(n).suffix.lower() in SUPPORTED_SUFFIXES}


class KnownModels:
    """The names of the models we know, read once per scan and only when a file name needs
    them: the registry reads the user's models folder each time it is asked."""

    def __init__(self) -> None:
        self._names: set[str] | None = None

    def __contains__(self, name: object) -> bool:
        if self._names is None:
            # Imported here: the registry loads torch, and only a name this exact gets so far.
            from engine.models.registry import list_models

            self._names = {model.name for model in list_models()}
        return name in self._names


def earlier_result(path: Path, stems: set[str], known: KnownModels) -> str | None:
    """Why ``path`` is one of our results (``OUR_RESULT`` or ``OUR_RESULT_BY_NAME``), or
    None. ``stems``: the image stems of its folder (``image_stems``); ``known``: the scan's
    ``KnownModels``."""
    if is_our_result(path):
        return OUR_RESULT
    return OUR_RESULT_BY_NAME if _named_as_result(path.name, stems, known) else None


def _named_as_result(name: str, stems: set[str], known: KnownModels) -> bool:
    match = _DEFAULT_RESULT_NAME.fullmatch(name)
    if match is None or match["stem"] not in stems:
        return False
    if match["suffix"].lower() not in SUPPORTED_SUFFIXES:
        return False
    return match["model"] in known


def results_left_out(ignored: Iterable[tuple[Path, str]]) -> int:
    """How many of the files left aside are earlier results of the app."""
    return sum(why in (OUR_RESULT, OUR_RESULT_BY_NAME) for _, why in ignored)


def results_line(count: int) -> str:
    """The line that says so: "3 earlier results of MFAGAN Studio left out"."""
    noun = "result" if count == 1 else "results"
    return f"{count} earlier {noun} of {PROGRAM} left out (not upscaled again)"


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def find_images(folder: Path, *, recursive: bool, exclude: Path | None = None) -> list[Path]:
    """Image files under ``folder`` by suffix, sorted; ``exclude`` (the output folder) and
    the app's earlier results skipped."""
    return scan_folder(folder, recursive=recursive, exclude=exclude).images
