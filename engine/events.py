"""Typed progress events and the cancel flag shared by every long engine job.

A job is a generator: it yields events, checks its ``CancelToken`` between units of work and
raises ``Cancelled`` once it has cleaned up after itself. The CLI renders the events with a
progress bar, the GUI forwards them to widgets from a worker thread: one code path.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Cancelled(Exception):
    """Raised inside a job when its cancel token is set; the job has left no partial files."""


class CancelToken:
    """Thread-safe flag a caller sets to stop a running job at its next check."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")


@dataclass(frozen=True, kw_only=True)
class Progress:
    """``done`` of ``total`` units of ``stage`` (tiles, files, steps...) are finished."""

    stage: str
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class Notice:
    """Something the user should be told, e.g. which tile size ``auto`` picked.

    ``important``: a failure the user must see even with --quiet (a photo left out).
    """

    message: str
    important: bool = False


@dataclass(frozen=True, kw_only=True)
class TileChoice(Notice):
    """The tile side ``--tile auto`` picked for an image and the memory it was fitted to.

    The terminal line is made from the fields, so what the CLI prints and what the GUI words
    from the fields cannot disagree. ``reserved_bytes``: held for the image itself first.
    """

    message: str = field(init=False)
    tile: int
    budget_bytes: int
    reserved_bytes: int = 0

    def __post_init__(self) -> None:
        line = f"tile size auto: {self.tile} (budget {self.budget_bytes / 2**30:.1f} GiB"
        if self.reserved_bytes:
            line += f", after {self.reserved_bytes / 2**30:.1f} GiB for the image itself"
        object.__setattr__(self, "message", line + ")")


@dataclass(frozen=True, kw_only=True)
class TrainingSetup(Notice):
    """What a training run (distillation, supernet) learns from and where it runs: images
    and crops of the train/val split, the crop side, the device and the process count."""

    message: str = field(init=False)
    train_images: int
    val_images: int
    train_crops: int
    val_crops: int
    crop_px: int
    device: str  # as torch names it: "cpu", "cuda:0", "mps"
    processes: int

    def __post_init__(self) -> None:
        line = (
            f"{self.train_images} training / {self.val_images} validation images, "
            f"{self.train_crops} / {self.val_crops} crops of {self.crop_px} px; "
            f"device {self.device}, {self.processes} process(es)"
        )
        object.__setattr__(self, "message", line)


@dataclass(frozen=True, kw_only=True)
class FileStarted:
    path: Path
    index: int
    total: int


@dataclass(frozen=True, kw_only=True)
class FileDone:
    path: Path
    output: Path
    seconds: float
    details: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class FileSkipped:
    path: Path
    output: Path
    reason: str


@dataclass(frozen=True, kw_only=True)
class FileFailed:
    path: Path
    reason: str


@dataclass(frozen=True, kw_only=True)
class Finished:
    """Last event of a job; ``result`` is the job's typed result object."""

    result: Any


Event = Progress | Notice | FileStarted | FileDone | FileSkipped | FileFailed | Finished


def result_of(events: Iterator[Event]) -> Generator[Event, None, Any]:
    """Re-yield a sub-job's events and return its Finished result: ``x = yield from ...``."""
    for event in events:
        if isinstance(event, Finished):
            return event.result
        yield event
    raise RuntimeError("sub-job ended without a result")
