"""Which files of a folder a batch reads, and what it leaves aside (said, never silent)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.imageio import SUPPORTED_SUFFIXES
from engine.imageio.source import input_problem, path_kind

# Image files a person would expect a batch to take, which we cannot read: listed in the
# summary. Anything else (notes, sidecars, hidden files) is not an image and passes quietly.
UNSUPPORTED_IMAGE_SUFFIXES = frozenset(
    {
        ".gif", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".psd", ".ico", ".svg",
        ".tga", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".raw",
    }
)  # fmt: skip


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
    """
    scan = FolderScan()
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
                problem = input_problem(path)
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


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def find_images(folder: Path, *, recursive: bool, exclude: Path | None = None) -> list[Path]:
    """Image files under ``folder`` by suffix, sorted; ``exclude`` (the output folder) skipped."""
    return scan_folder(folder, recursive=recursive, exclude=exclude).images
