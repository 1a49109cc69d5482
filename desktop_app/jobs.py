"""The engine jobs the window runs, as generators for ``workers.Job``.

Each job is built from an immutable request made on the UI thread and only calls the engine
(plus QImage, which is safe off the UI thread for display copies). Model loading and ONNX
export happen once per model, backend and tile choice (``UpscalerPool``).

An upscale is "staged": the full-quality 8/16-bit result goes to raw pixels in a session
folder (staging.py; the window only keeps an 8-bit preview), and Save writes it in the chosen
format through the engine, so big results do not sit in memory and saving never re-runs
the model.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from PySide6.QtGui import QImage

from desktop_app.model_names import shown_title
from desktop_app.staging import SUFFIX, load_staged, stage
from desktop_app.widgets.images import from_qimage, raster_to_qimage, thumbnail, to_qimage
from desktop_app.wording import FIRST_USE_STAGE, NO_AI_MODELS, first_upper, tile_choice_words
from engine.errors import ImageError, MfaganError, ModelError
from engine.events import CancelToken, Event, Finished, Notice, Progress, TileChoice, result_of
from engine.imageio import read_image, write_image
from engine.imageio.atomic import ALREADY_EXISTS
from engine.inference.backends import available_threads, onnx_path
from engine.inference.batch import BatchRequest, run_batch
from engine.inference.batch_scan import results_left_out, scan_folder
from engine.inference.outputs import make_output_folder
from engine.inference.render import plan_raster, upscale_to_raster
from engine.inference.runtime_choice import cached_choice
from engine.inference.upscale import (
    BackendKind,
    TargetSize,
    Upscaler,
    WriteOptions,
    check_distinct,
)
from engine.models.descriptor import ModelDescriptor
from engine.models.registry import default_model_name, get_model


@dataclass(frozen=True, kw_only=True)
class ModelChoice:
    """Which model, on which backend, with which tile size (None: auto)."""

    spec: str  # a registry name or a model file path; "" = the default model
    backend: BackendKind = "auto"
    tile: int | None = None

    def resolved(self) -> ModelChoice:
        if self.spec:
            return self
        return ModelChoice(spec=default_model_name(), backend=self.backend, tile=self.tile)


class UpscalerPool:
    """Loaded models shared by the jobs; each is prepared (export, tile size) only once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._upscalers: dict[ModelChoice, Upscaler] = {}
        self._prepare_locks: dict[ModelChoice, threading.Lock] = {}
        self._prepared: set[ModelChoice] = set()

    def prepared(self, choice: ModelChoice) -> Generator[Event, None, Upscaler]:
        """Load (once) and prepare the model; returns the Upscaler (``yield from``)."""
        choice = choice.resolved()
        with self._lock:
            upscaler = self._upscalers.get(choice)
            prepare_lock = self._prepare_locks.setdefault(choice, threading.Lock())
        if upscaler is None:
            descriptor = get_model(choice.spec)
            check_trained(descriptor)
            upscaler = Upscaler(descriptor, backend=choice.backend, tile=choice.tile)
            with self._lock:
                upscaler = self._upscalers.setdefault(choice, upscaler)
        with prepare_lock:
            if choice not in self._prepared:
                first_use = needs_first_use(upscaler)
                for event in upscaler.prepare():
                    yield as_first_use(event) if first_use else event
                self._prepared.add(choice)
        return upscaler


def needs_first_use(upscaler: Upscaler) -> bool:
    """Whether loading this model exports it and times the runtimes (engine: ensure_onnx,
    runtime_choice), which is done once per computer and then cached: many times longer
    than loading it, so the window says so instead of "Loading the model"."""
    descriptor, kind = upscaler.descriptor, upscaler.backend_kind
    if kind == "torch":
        return False  # PyTorch runs the weights as they are: nothing is made first
    exported = onnx_path(descriptor).is_file()
    if kind != "auto":
        return not exported
    known = cached_choice(descriptor, available_threads())
    if known is None:
        return True
    return known.candidate.kind != "torch" and not exported


def first_use_told(prepared: Generator[Event, None, Upscaler]) -> Generator[Event, None, Upscaler]:
    """``pool.prepared`` with a first use also said in the status line, for a page that
    shows no stage but its own (the Batch page); returns the Upscaler as it does."""
    while True:
        try:
            event = next(prepared)
        except StopIteration as stop:
            return stop.value
        if isinstance(event, Progress) and event.stage == FIRST_USE_STAGE and not event.done:
            yield Notice(message=first_upper(FIRST_USE_STAGE))
        yield event


def as_first_use(event: Event) -> Event:
    if isinstance(event, Progress) and event.stage == "load model":
        return replace(event, stage=FIRST_USE_STAGE)
    return event


def tile_choices_in_words(events: Iterator[Event], descriptor: ModelDescriptor) -> Iterator[Event]:
    """``events`` with each TileChoice (a command-line line: budget, GiB) said as the window
    says it, or not at all where the photo is one tile or the model is no AI: a piece of
    news only where the photo is really done piece by piece. The tile count is the next
    Progress (the engine settles the tile, then plans the tiles)."""
    held: TileChoice | None = None
    for event in events:
        if isinstance(event, TileChoice):
            held = event
            continue
        if held is not None and isinstance(event, Progress):
            if event.total > 1 and descriptor.name not in NO_AI_MODELS:
                yield Notice(message=tile_choice_words(held.tile))
            held = None
        yield event


def check_trained(descriptor: ModelDescriptor) -> None:
    if not descriptor.trained:
        raise ModelError(
            f"model {descriptor.title!r} has no trained weights yet, so it would only produce "
            "noise; pick another model"
        )


# ---- previews and inputs ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Preview:
    """An image as the window shows it, or why it cannot be read (``error``)."""

    path: Path
    image: QImage | None = None
    thumbnail: QImage | None = None
    bit_depth: int = 8
    has_alpha: bool = False
    error: str = ""


def preview_job(path: Path, cancel: CancelToken) -> Iterator[Any]:
    """Decode an image the way the engine will see it (orientation, 16-bit, CMYK...)."""
    try:
        image = read_image(path)
    except ImageError as error:
        yield Finished(result=Preview(path=path, error=error.reason))
        return
    cancel.raise_if_cancelled()
    shown = to_qimage(image)
    yield Finished(
        result=Preview(
            path=path,
            image=shown,
            thumbnail=thumbnail(shown),
            bit_depth=image.bit_depth,
            has_alpha=image.alpha is not None,
        )
    )


@dataclass(frozen=True, kw_only=True)
class Expanded:
    """What dropped or opened paths gave: the image files, and how many of the app's own
    earlier results a folder held and was left out (a file named by itself is taken)."""

    files: list[Path]
    results_left_out: int = 0


def expand_job(paths: list[Path], cancel: CancelToken) -> Iterator[Any]:
    """Dropped or opened paths -> image files (a folder gives its images, not recursive)."""
    files: list[Path] = []
    left_out = 0
    for path in paths:
        cancel.raise_if_cancelled()
        if path.is_dir():
            scan = scan_folder(path, recursive=False)
            files.extend(scan.images)
            left_out += results_left_out(scan.ignored)
        else:
            files.append(path)
    yield Finished(result=Expanded(files=files, results_left_out=left_out))


def paste_job(image: QImage, folder: Path, cancel: CancelToken) -> Iterator[Any]:
    """A clipboard image becomes a PNG file, so it is queued like any other image."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"pasted-{stamp}-{uuid.uuid4().hex[:6]}.png"
    folder.mkdir(parents=True, exist_ok=True)
    # An input, not a result of ours: a folder of pasted pictures must not be left out.
    write_image(path, from_qimage(image), mark_result=False)
    yield Finished(result=path)


# ---- upscale and save ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UpscaleRequest:
    source: Path
    model: ModelChoice
    target: TargetSize
    stage_dir: Path


@dataclass(frozen=True, kw_only=True)
class UpscaleOutcome:
    source: Path
    staged: Path
    preview: QImage
    model_name: str
    scale_label: str
    model_title: str = ""  # the model menu's name for it ("Fast (MFAGAN)")
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """How the result is named in the window: the model as the menu names it, and size."""
        return f"{self.model_title or self.model_name} {self.scale_label}"


# The staged result keeps what PNG keeps (16-bit, grey, alpha): whatever Save is asked for.
STAGE_WRITE = WriteOptions(format="PNG")


def upscale_job(request: UpscaleRequest, pool: UpscalerPool, cancel: CancelToken) -> Iterator[Any]:
    """Upscale straight into 8/16-bit pixels (no full-size float copy), keep them on disk
    raw (staging.py) and show an 8-bit preview made from them strip by strip."""
    upscaler: Upscaler = yield from pool.prepared(request.model)
    started = time.perf_counter()
    image = read_image(request.source)
    input_size = [image.width, image.height]
    request.stage_dir.mkdir(parents=True, exist_ok=True)
    staged = request.stage_dir / f"{request.source.stem}-{uuid.uuid4().hex[:8]}{SUFFIX}"
    # Memory and disk are checked before any model work: one clear line if it cannot fit.
    layout = plan_raster(upscaler, image, request.target, staged, STAGE_WRITE)
    raster = yield from result_of(
        tile_choices_in_words(
            upscale_to_raster(upscaler, image, request.target, layout, cancel),
            upscaler.descriptor,
        )
    )
    del image
    seconds = time.perf_counter() - started
    cancel.raise_if_cancelled()
    yield Progress(stage="finishing", done=0, total=1, message="keeping the full-quality result")
    stage(raster, staged)
    preview = raster_to_qimage(raster)
    descriptor = upscaler.descriptor
    details = upscaler.details() | {
        "input_size": input_size,
        "output_size": [raster.width, raster.height],
        "seconds": round(seconds, 2),
    }
    yield Finished(
        result=UpscaleOutcome(
            source=request.source,
            staged=staged,
            preview=preview,
            model_name=descriptor.name,
            scale_label=request.target.label(descriptor.scale),
            model_title=shown_title(descriptor),
            details=details,
        )
    )


@dataclass(frozen=True, kw_only=True)
class SaveRequest:
    staged: Path
    source: Path
    output: Path
    write: WriteOptions
    # "rename": an existing file is never replaced, not even one that appears while this
    # writes (the engine's no-replace publishing): the next free name is taken instead.
    # "replace": the user confirmed replacing ``output`` (Save as).
    existing: Literal["rename", "replace"] = "rename"


def save_job(request: SaveRequest, cancel: CancelToken) -> Iterator[Any]:
    """Write a staged result in its final format; refuses to touch the source file.
    Finished.result is the file written (``output``, or ``output-2``... when renamed)."""
    rename = request.existing == "rename"
    if not rename:  # a renamed output is never an existing file, the source least of all
        check_distinct(request.source, request.output)
    result = load_staged(request.staged)
    cancel.raise_if_cancelled()
    make_output_folder(request.output)
    while True:
        path = free_path(request.output, avoid=request.source) if rename else request.output
        try:
            write_image(
                path,
                result,
                format=request.write.format,
                quality=request.write.quality,
                keep_metadata=request.write.keep_metadata,
                overwrite=not rename,
            )
        except ImageError as error:
            if rename and error.reason == ALREADY_EXISTS:
                continue  # made by someone else since free_path looked: take the next name
            raise
        yield Finished(result=path)
        return


@dataclass(frozen=True, kw_only=True)
class SaveOutcome:
    request: SaveRequest
    path: Path | None = None  # the file written; None: not saved
    reason: str = ""  # why not


def save_results_job(requests: tuple[SaveRequest, ...], cancel: CancelToken) -> Iterator[Any]:
    """Save one result, or many (Save all), one after the other: a result that cannot be
    written is reported and the others are still saved. Finished.result: a SaveOutcome
    per request, in order."""
    outcomes = []
    for index, request in enumerate(requests):
        yield Progress(stage="save", done=index, total=len(requests), message=request.output.name)
        try:
            path = yield from result_of(save_job(request, cancel))
        except MfaganError as error:
            outcomes.append(SaveOutcome(request=request, reason=str(error)))
        else:
            outcomes.append(SaveOutcome(request=request, path=path))
    yield Finished(result=tuple(outcomes))


def free_path(path: Path, *, avoid: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``...: never an existing file, never ``avoid``."""
    candidate, number = path, 1
    while candidate.exists() or candidate.resolve() == avoid.resolve():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


# ---- models and batches -------------------------------------------------------------------


def user_model_job(path: Path, cancel: CancelToken) -> Iterator[Any]:
    """Open a model file: (path, descriptor). The registry knows our own MFA student files;
    anything else goes through spandrel's detection, which takes a moment."""
    yield Finished(result=(path, get_model(str(path))))


def batch_job(
    request: BatchRequest, choice: ModelChoice, pool: UpscalerPool, cancel: CancelToken
) -> Iterator[Any]:
    upscaler: Upscaler = yield from first_use_told(pool.prepared(choice))
    yield from tile_choices_in_words(run_batch(upscaler, request, cancel), upscaler.descriptor)
