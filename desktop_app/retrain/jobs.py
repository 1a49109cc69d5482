"""Jobs of the Retrain page: count photos, measure this computer, train, resume a run.

Training is the engine's ``distill`` job as it is. The page's views of a run are read by
``desktop_app.widgets.run_view``, shared with the phone wizard's fine-tune step.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from desktop_app.retrain.plan import Timings, calibration_config, measurement_from
from engine.distill.checkpoint import CHECKPOINT_NAME
from engine.distill.config import DistillConfig, config_from_dict, with_overrides
from engine.distill.data import PhotoScan, image_files, scan_images, scan_photos
from engine.distill.teacher_net import load_teacher
from engine.distill.trainer import DistillRequest, TrainStep, distill
from engine.errors import MfaganError, UsageError
from engine.events import CancelToken, Finished, Progress, result_of
from engine.files import folder_problem
from engine.imageio import read_image
from engine.paths import cache_dir, data_dir

CALIBRATION_PHOTOS = 3  # the trainer needs at least one photo for training and one to validate
TEACHER_CALLS = 4
# What Measure is timing, for its progress line: "a training step" whatever the stage (the
# stages' names, "gan", "teacher_d", are the trainer's, not the user's).
TIMING_BEST_QUALITY = "timing Best quality on a piece of a photo"
TIMING_A_STEP = "timing a training step"


def run_dir(name: str) -> Path:
    return data_dir() / "distill" / name


def storage_problem(*folders: Path) -> str | None:
    """Why a job could not write in these folders or in the cache (the teacher's outputs,
    ONNX exports), or None: a file where a folder should be, a read-only file system, a name
    too long. Checked on the UI thread before the job, so it fails in one line at once, not
    after the teacher pass, and leaves no half-made run behind. StorageError when the cache
    itself cannot be made."""
    for folder in (*folders, cache_dir()):
        if (problem := folder_problem(folder)) is not None:
            return problem
    return None


Listing = tuple[tuple[str, int, int], ...]  # each file's path, size and time of change


@dataclass(frozen=True, kw_only=True)
class PhotoCount:
    """The photos the trainer will use in these folders, and what it will skip and why."""

    folders: tuple[str, ...]
    good: int = 0
    files: int = 0
    skipped: tuple[str, ...] = ()  # the trainer's own lines (damaged, too small, duplicate)
    good_paths: tuple[Path, ...] = ()
    min_side: int = 0
    listing: Listing = ()  # the files as they were when counted, to see whether they changed


def listing_of(files: list[Path]) -> Listing:
    """What a recount compares: a file added, removed, replaced or edited changes it."""
    entries = []
    for path in files:
        try:
            stat = path.stat()
            entries.append((str(path), stat.st_size, stat.st_mtime_ns))
        except OSError:  # gone since it was listed: the scan will say what it finds
            entries.append((str(path), -1, -1))
    return tuple(entries)


def count_job(
    folders: list[Path],
    min_side: int,
    cancel: CancelToken,
    *,
    previous: PhotoCount | None = None,
) -> Iterator[Any]:
    """Count as the trainer will, with its own scan (every photo decoded), so a damaged
    file is never counted; each file left out is listed with the reason.

    With ``previous``, a count of the same folders whose files have not changed since is the
    answer as it is: a recount each time the page is shown decodes only when it must."""
    key = tuple(str(f) for f in folders)
    try:
        files = image_files(folders) if folders else []
    except UsageError:
        files = []
    listing = listing_of(files)
    if previous is not None and (previous.folders, previous.min_side, previous.listing) == (
        key,
        min_side,
        listing,
    ):
        yield Finished(result=previous)
        return
    if not files:
        yield Finished(result=PhotoCount(folders=key, min_side=min_side))
        return
    scan: PhotoScan | None = None
    for event in scan_photos(folders, min_side, cancel=cancel):
        if isinstance(event, Finished):
            scan = event.result
        elif isinstance(event, Progress):
            yield event
    assert scan is not None
    lines = [f"{path.name}: {reason}" for path, reason in scan.bad]
    lines += [f"{path.name}: {_too_small(path, min_side)}" for path in scan.small]
    lines += [f"{path.name}: the same photo as another (used once)" for path in scan.duplicates]
    yield Finished(
        result=PhotoCount(
            folders=key,
            good=len(scan.good),
            files=len(files),
            skipped=tuple(lines),
            good_paths=tuple(image.path for image in scan.good),
            min_side=min_side,
            listing=listing,
        )
    )


def _too_small(path: Path, min_side: int) -> str:
    """Why a readable photo is left out, with its size (as training sees it: turned upright)."""
    need = f"training needs at least {min_side}×{min_side} px"
    try:
        height, width = read_image(path).color.shape[:2]
    except MfaganError:
        return f"too small ({need})"
    return f"{width}×{height} px is too small ({need})"


def train_job(request: DistillRequest, cancel: CancelToken) -> Iterator[Any]:
    yield from distill(request, cancel=cancel)


def teacher_calls(config: DistillConfig, cancel: CancelToken) -> list[float]:
    """The teacher on one LR crop with its context, timed directly (the calibration crops may
    already be in the teacher cache, where they cost nothing, unlike the user's new photos).

    The first call pays for PyTorch's set-up; after it the fastest of a few calls counts,
    because other programs on a busy computer make single calls up to 10x slower (seen on
    the shared 2-core test machine: 15 s, then 1.1 s for the same call).
    """
    teacher = load_teacher(config.teacher)
    # With context the teacher sees the crop's window: at most this side, less at an edge.
    side = config.data.hr_crop // 4 + 2 * config.data.teacher_context
    lr = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0))
    timings: list[float] = []
    with torch.inference_mode():
        while len(timings) < TEACHER_CALLS:
            cancel.raise_if_cancelled()
            began = time.perf_counter()
            teacher(lr)
            timings.append(time.perf_counter() - began)
    return timings


def calibrate_job(config: DistillConfig, cancel: CancelToken) -> Iterator[Any]:
    """Time the teacher and a few real training steps of each stage on a few photos."""
    small_steps = calibration_config(config, []).schedule.steps
    yield Progress(stage="measure", done=0, total=small_steps, message=TIMING_BEST_QUALITY)
    calls = teacher_calls(config, cancel)
    # Photos the trainer accepts (a damaged file would stop the timing run).
    scanned = yield from result_of(scan_images(config.data.dirs, config.data.hr_crop))
    photos = [image.path for image in scanned][:CALIBRATION_PHOTOS]
    scratch = Path(tempfile.mkdtemp(prefix="studio-measure-", dir=cache_dir()))
    try:
        folder = scratch / "photos"
        folder.mkdir()
        for index, photo in enumerate(photos):
            shutil.copy(photo, folder / f"{index}{photo.suffix.lower()}")
        small = calibration_config(config, [folder])
        steps: dict[str, list[float]] = {}
        last_step = time.perf_counter()
        request = DistillRequest(config=small, out_dir=scratch / "run")
        for event in distill(request, cancel=cancel):
            if isinstance(event, TrainStep):
                steps.setdefault(event.stage, []).append(event.seconds)
                last_step = time.perf_counter()
                yield Progress(
                    stage="measure",
                    done=event.step,
                    total=small.schedule.steps,
                    message=TIMING_A_STEP,
                )
        timings = Timings(
            steps=steps,
            teacher_calls=calls,
            validation=time.perf_counter() - last_step,
        )
        yield Finished(result=measurement_from(timings, small))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def resume_job(folder: Path, steps: int | None, name: str, cancel: CancelToken) -> Iterator[Any]:
    """Continue a run with its own config (a resume may only change the total steps)."""
    try:
        state = torch.load(folder / CHECKPOINT_NAME, map_location="cpu", weights_only=True)
        config = config_from_dict(state["config"])
    except (OSError, RuntimeError, EOFError, KeyError) as error:
        raise UsageError(f"{folder}: cannot read the run's checkpoint ({error})") from None
    if steps is not None and steps > config.schedule.steps:
        config = with_overrides(config, {"schedule.steps": steps})
    request = DistillRequest(config=config, out_dir=folder, resume=True, register_as=name)
    yield from distill(request, cancel=cancel)
