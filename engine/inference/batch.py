"""Upscale a folder of images into another folder; failures are collected, never fatal."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import MfaganError, UsageError
from engine.events import (
    CancelToken,
    Event,
    FileDone,
    FileFailed,
    FileSkipped,
    FileStarted,
    Finished,
    Progress,
)
from engine.imageio import SUPPORTED_SUFFIXES, format_for_suffix
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions, upscale_file

DEFAULT_NAME_PATTERN = "{stem}_{model}_{scale}"
PATTERN_FIELDS = ("stem", "model", "scale")

SUFFIX_FOR_FORMAT = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tiff", "BMP": ".bmp"}


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def output_name(
    source: Path, *, pattern: str, model: str, scale_label: str, format: str | None
) -> str:
    """File name for ``source``'s result: the pattern, plus the output format's suffix."""
    try:
        stem = pattern.format(stem=source.stem, model=model, scale=scale_label)
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"name pattern {pattern!r} is invalid ({exc}); fields: "
            + ", ".join("{" + f + "}" for f in PATTERN_FIELDS)
        ) from exc
    if not stem or os.sep in stem or (os.altsep and os.altsep in stem):
        raise UsageError(f"name pattern {pattern!r} must give a plain file name")
    suffix = SUFFIX_FOR_FORMAT[format_for_suffix(f".{format}")] if format else source.suffix
    return stem + suffix.lower()


def find_images(folder: Path, *, recursive: bool, exclude: Path | None = None) -> list[Path]:
    """Image files under ``folder`` by suffix, sorted; ``exclude`` (the output folder) skipped."""
    pattern = "**/*" if recursive else "*"
    root = folder.resolve()
    excluded = exclude.resolve() if exclude is not None else None
    if excluded is not None and root not in excluded.parents:
        excluded = None  # only an output folder *inside* the input folder holds our outputs
    found = []
    for path in folder.glob(pattern):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or not path.is_file():
            continue
        if excluded is not None and excluded in path.resolve().parents:
            continue
        found.append(path)
    return sorted(found)


@dataclass(frozen=True, kw_only=True)
class BatchRequest:
    input_dir: Path
    output_dir: Path
    recursive: bool = False
    skip_existing: bool = False
    name_pattern: str = DEFAULT_NAME_PATTERN
    target: TargetSize = field(default_factory=TargetSize)
    write: WriteOptions = field(default_factory=WriteOptions)

    def __post_init__(self) -> None:
        if not self.input_dir.is_dir():
            raise UsageError(f"{self.input_dir}: not a folder")
        if self.output_dir.exists() and not self.output_dir.is_dir():
            raise UsageError(f"{self.output_dir}: exists and is not a folder")

    def plan(self, sources: list[Path], model: str, model_scale: int) -> list[tuple[Path, Path]]:
        label = self.target.label(model_scale)
        pairs = []
        for source in sources:
            relative = source.parent.relative_to(self.input_dir)
            name = output_name(
                source,
                pattern=self.name_pattern,
                model=model,
                scale_label=label,
                format=self.write.format,
            )
            pairs.append((source, self.output_dir / relative / name))
        outputs = [out for _, out in pairs]
        if len(set(outputs)) != len(outputs):
            raise UsageError(
                f"name pattern {self.name_pattern!r} gives two inputs the same output name"
            )
        return pairs


def run_batch(upscaler: Upscaler, request: BatchRequest, cancel: CancelToken) -> Iterator[Event]:
    """Upscale every image of the request; Finished(result=BatchResult) at the end.

    Each file is written atomically, so a cancel (raised as ``Cancelled`` between files or
    tiles) leaves only complete outputs; ``skip_existing`` then resumes where it stopped.
    """
    sources = find_images(
        request.input_dir, recursive=request.recursive, exclude=request.output_dir
    )
    pairs = request.plan(sources, upscaler.descriptor.name, upscaler.descriptor.scale)
    result = BatchResult()
    total = len(pairs)
    if total:
        # A model that cannot load fails the job once, not once per file.
        yield from upscaler.prepare()
    yield Progress(stage="batch", done=0, total=total)
    for index, (source, output) in enumerate(pairs):
        cancel.raise_if_cancelled()
        yield FileStarted(path=source, index=index, total=total)
        if request.skip_existing and output.exists():
            result.skipped.append(source)
            yield FileSkipped(path=source, output=output, reason="output exists")
        else:
            yield from _one_file(upscaler, request, source, output, cancel, result)
        yield Progress(stage="batch", done=index + 1, total=total)
    yield Finished(result=result)


def _one_file(
    upscaler: Upscaler,
    request: BatchRequest,
    source: Path,
    output: Path,
    cancel: CancelToken,
    result: BatchResult,
) -> Iterator[Event]:
    started = time.perf_counter()
    details: dict[str, object] = {}
    try:
        for event in upscale_file(
            upscaler, source, output, target=request.target, write=request.write, cancel=cancel
        ):
            if isinstance(event, Finished):
                details = event.result
            else:
                yield event
    except MfaganError as exc:
        reason = exc.reason if hasattr(exc, "reason") else str(exc)
        result.failed.append((source, reason))
        yield FileFailed(path=source, reason=reason)
        return
    except MemoryError as exc:
        reason = str(exc) or "not enough memory"
        result.failed.append((source, reason))
        yield FileFailed(path=source, reason=reason)
        return
    result.done.append(source)
    seconds = time.perf_counter() - started
    yield FileDone(path=source, output=output, seconds=seconds, details=details)
