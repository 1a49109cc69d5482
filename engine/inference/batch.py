"""Upscale a folder of images into another folder; failures are collected, never fatal.

The whole batch is planned first (engine.inference.batch_plan): outputs never replace an
input or, unless asked, an existing file, and a bad output folder is refused before the model
loads. A file that cannot be written fails alone; the rest of the batch goes on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import ImageError, MfaganError, UsageError
from engine.events import (
    CancelToken,
    Event,
    FileDone,
    FileFailed,
    FileSkipped,
    FileStarted,
    Finished,
    Notice,
    Progress,
)
from engine.files import folder_problem, remove_stale_temporaries
from engine.inference.batch_plan import (
    PATTERN_FIELDS,
    SUFFIX_FOR_FORMAT,
    BatchPlan,
    PlannedFile,
    PlanSettings,
    make_plan,
    output_name,
)
from engine.inference.batch_scan import find_images, results_left_out, results_line, scan_folder
from engine.inference.file_upscale import upscale_file
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions

DEFAULT_NAME_PATTERN = "{stem}_{model}_{scale}"

__all__ = [
    "DEFAULT_NAME_PATTERN",
    "PATTERN_FIELDS",
    "SUFFIX_FOR_FORMAT",
    "BatchPlan",
    "BatchRequest",
    "BatchResult",
    "PlannedFile",
    "find_images",
    "output_name",
    "plan_batch",
    "results_line",
    "run_batch",
    "scan_folder",
]


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    # Files of the input folder not taken as inputs, and why (link loops, dangling links,
    # unsupported formats, this batch's earlier outputs, the app's earlier results).
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)  # what was written, in order

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def results_left_out(self) -> int:
        """How many of ``ignored`` are the app's earlier results (not upscaled again)."""
        return results_left_out(self.ignored)


@dataclass(frozen=True, kw_only=True)
class BatchRequest:
    input_dir: Path
    output_dir: Path
    recursive: bool = False
    skip_existing: bool = False
    overwrite: bool = False  # replace existing outputs (never an input)
    name_pattern: str = DEFAULT_NAME_PATTERN
    target: TargetSize = field(default_factory=TargetSize)
    write: WriteOptions = field(default_factory=WriteOptions)

    def __post_init__(self) -> None:
        # os.path: a name too long for the file system is False here, not an OSError.
        if not os.path.isdir(self.input_dir):
            raise UsageError(f"{self.input_dir}: not a folder")
        if os.path.exists(self.output_dir) and not self.output_dir.is_dir():
            raise UsageError(f"{self.output_dir}: exists and is not a folder")
        if self.skip_existing and self.overwrite:
            raise UsageError("give only one of --skip-existing and --overwrite")
        problem = folder_problem(self.output_dir)
        if problem is not None:
            raise UsageError(problem)

    def plan(self, model: str, model_scale: int) -> BatchPlan:
        return plan_batch(self, model=model, model_scale=model_scale)


def plan_batch(request: BatchRequest, *, model: str, model_scale: int) -> BatchPlan:
    """Every source of the request with its output and action, before anything is written.

    UsageError when the output folder cannot be made or two inputs get one output name.
    """
    return make_plan(
        PlanSettings(
            input_dir=request.input_dir,
            output_dir=request.output_dir,
            recursive=request.recursive,
            skip_existing=request.skip_existing,
            overwrite=request.overwrite,
            name_pattern=request.name_pattern,
            format=request.write.format,
            model=model,
            scale_label=request.target.label(model_scale),
        )
    )


def run_batch(upscaler: Upscaler, request: BatchRequest, cancel: CancelToken) -> Iterator[Event]:
    """Upscale every image of the request; Finished(result=BatchResult) at the end.

    Each file is written atomically, so a cancel (raised as ``Cancelled`` between files or
    tiles) leaves only complete outputs; ``skip_existing`` then resumes where it stopped.
    The temporaries a killed run left for this batch's outputs are removed first.
    """
    descriptor = upscaler.descriptor
    plan = plan_batch(request, model=descriptor.name, model_scale=descriptor.scale)
    yield from _remove_stale_temporaries(plan)  # a killed run's, for these outputs only
    result = BatchResult(ignored=plan.ignored)
    if result.results_left_out:  # said before the work: "12 of 12 images" would surprise
        yield Notice(message=results_line(result.results_left_out))
    total = len(plan.files)
    if any(f.action == "upscale" for f in plan.files):
        # A model that cannot load fails the job once, not once per file.
        yield from upscaler.prepare()
    yield Progress(stage="batch", done=0, total=total)
    for index, planned in enumerate(plan.files):
        cancel.raise_if_cancelled()
        yield FileStarted(path=planned.source, index=index, total=total)
        if planned.action == "skip":
            result.skipped.append(planned.source)
            yield FileSkipped(path=planned.source, output=planned.output, reason=planned.reason)
        elif planned.action == "fail":
            reason = f"{planned.output}: {planned.reason}"
            result.failed.append((planned.source, reason))
            yield FileFailed(path=planned.source, reason=reason)
        else:
            yield from _one_file(upscaler, request, planned, cancel, result)
        yield Progress(stage="batch", done=index + 1, total=total)
    yield Finished(result=result)


def _remove_stale_temporaries(plan: BatchPlan) -> Iterator[Event]:
    names_by_folder: dict[Path, set[str]] = {}
    for planned in plan.files:
        names_by_folder.setdefault(planned.output.parent, set()).add(planned.output.name)
    removed = [
        path
        for folder, names in names_by_folder.items()
        for path in remove_stale_temporaries(folder, targets=names)
    ]
    if removed:
        yield Notice(message=f"removed {len(removed)} unfinished file(s) of a stopped run")


def _one_file(
    upscaler: Upscaler,
    request: BatchRequest,
    planned: PlannedFile,
    cancel: CancelToken,
    result: BatchResult,
) -> Iterator[Event]:
    source, output = planned.source, planned.output
    started = time.perf_counter()
    details: dict[str, object] = {}
    try:
        for event in upscale_file(
            upscaler,
            source,
            output,
            target=request.target,
            write=request.write,
            cancel=cancel,
            # The plan checked the outputs; without overwrite the final rename still never
            # replaces a file that appeared since (another batch into the same folder).
            overwrite=request.overwrite,
        ):
            if isinstance(event, Finished):
                details = event.result
            else:
                yield event
    except (MfaganError, MemoryError) as exc:
        reason = getattr(exc, "reason", None) or str(exc) or "not enough memory"
        if isinstance(exc, ImageError) and exc.path != source:
            reason = str(exc)  # the output's problem: name the output
        result.failed.append((source, reason))
        yield FileFailed(path=source, reason=reason)
        return
    result.done.append(source)
    result.outputs.append(output)
    seconds = time.perf_counter() - started
    yield FileDone(path=source, output=output, seconds=seconds, details=details)
