"""``mfagan bench``: the teacher against student configs and bicubic, measured in one run.

For every model: the exact cost profile (params, MACs, memory-access cost, peak activation)
at each LR size, then the CPU wall time of a real photo upscaled end to end by each backend
(tiling included, the same tiles for every model), as the median of several runs, with the
peak RSS of the process during those runs. A warm-up run on a small crop comes first and is
not timed: the first call of a backend pays for thread pools and memory arenas. Last, a
phone photo upscaled by the default model with ``--backend onnx`` and then ``--backend auto``
(bench_photo), for issue 18's goals on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gc
import hashlib
import os
import platform
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from PIL import Image, ImageOps

from engine.errors import ModelError
from engine.events import CancelToken, Event, Finished, Notice, Progress
from engine.inference.backends import Backend, available_threads, make_backend
from engine.inference.tiling import TileOptions, run_tiled
from engine.measure.bench_photo import run_photo
from engine.measure.bench_report import render_table, update_readme
from engine.measure.bench_result import (
    STUDENT,
    STUDENT_PREFIX,
    BenchResult,
    BenchSettings,
    ModelBench,
    Timing,
    check_goals,
)
from engine.models.descriptor import ModelDescriptor
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.profiling import CostReport, profile_model
from engine.paths import RESOURCES

# The result types and the markdown live in their own modules; callers import them from here.
__all__ = [
    "BenchResult",
    "BenchSettings",
    "load_photo",
    "peak_rss_bytes",
    "render_table",
    "reset_peak_rss",
    "resolve_model",
    "run_bench",
    "update_readme",
]

DEFAULT_PHOTO = RESOURCES / "samples" / "astronaut.png"
WARM_UP_SIDE = 32

Resolver = Callable[[str], ModelDescriptor]


def run_bench(
    settings: BenchSettings | None = None,
    *,
    cancel: CancelToken | None = None,
    resolve: Resolver | None = None,
) -> Iterator[Event]:
    """Profile, then time, every model of ``settings``; ends with ``Finished(BenchResult)``.

    Progress stages: ``"profile"`` (one unit per model and size) and ``"time"`` (one unit per
    timed run). ``resolve`` maps a model name to its descriptor (default: the registry, plus
    ``mfagan:<config>`` specs); the cancel token is checked between units and between tiles.
    """
    settings = settings or BenchSettings()
    cancel = cancel or CancelToken()
    descriptors = [(resolve or resolve_model)(name) for name in settings.models]
    costs = yield from _profile_all(descriptors, settings, cancel)
    timings: dict[str, tuple[Timing, ...]] = {}
    machine = describe_machine()
    if settings.time_size is not None and settings.backends:
        load = _load_average()
        if load is not None:
            machine += f"; load average {load:.1f} when timing began"
            if load > available_threads() / 2:
                # Two busy cores slow PyTorch's thread pool far more than proportionally.
                yield Notice(message=f"the machine is busy (load {load:.1f}): timings suffer")
        photo = load_photo(settings.image or DEFAULT_PHOTO, settings.time_size)
        timings = yield from _time_all(descriptors, photo, settings, cancel)
    phones = yield from _photo_all(descriptors, settings, cancel)
    result = BenchResult(
        settings=settings,
        machine=machine,
        date=datetime.date.today().isoformat(),
        models=tuple(
            ModelBench(
                name=d.name,
                title=d.title,
                config=_config_text(d),
                costs=costs[d.name],
                timings=timings.get(d.name, ()),
            )
            for d in descriptors
        ),
        photos=phones,
    )
    yield Finished(result=dataclasses.replace(result, goals=check_goals(result)))


def _photo_all(
    descriptors: list[ModelDescriptor], settings: BenchSettings, cancel: CancelToken
) -> Iterator[Event]:
    """The phone photo once per ``settings.photo_backends``: onnxruntime, then auto as a user
    runs it (the line says which runtime auto picked); returns the PhotoRuns."""
    if settings.photo is None:
        return ()
    scale = next((d.scale for d in descriptors if d.name == settings.goal_model), 4)
    runs = []
    for backend in settings.photo_backends:
        cancel.raise_if_cancelled()
        run = yield from run_photo(
            size=settings.photo, model=settings.goal_model, scale=scale, backend=backend,
            cancel=cancel,
        )  # fmt: skip
        runs.append(run)
        if run.error:
            yield Notice(message=f"phone photo on {backend} fails: {run.error}")
            continue
        # Auto's line says that the runtime was its pick, even when the child did not say which.
        auto = backend == "auto"
        ran = run.runtime or ("auto's pick" if auto else backend)
        tag = " (auto)" if auto else ""
        yield Notice(message=f"phone photo: {run.seconds:.1f} s on {ran}{tag}")
    return tuple(runs)


def resolve_model(name: str) -> ModelDescriptor:
    """A registry model, or ``mfagan:<config>``: a random-init student of that config."""
    from engine.models.registry import STUDENT_SEED, get_model

    if not name.startswith(STUDENT_PREFIX):
        return get_model(name)
    config = MFAConfig.decode(name.removeprefix(STUDENT_PREFIX))
    # Same id scheme as the registry's untrained student, so ONNX exports are shared.
    random_id = hashlib.sha256(
        f"mfa-random-init:{config.encode()}:seed={STUDENT_SEED}".encode()
    ).hexdigest()
    return dataclasses.replace(
        get_model(STUDENT),
        name=name,
        title=f"MFAGAN student {config.encode()} (random weights)",
        config=config,
        size_multiple=config.size_multiple,
        trained=False,
        load=lambda: MFAGenerator(config, seed=STUDENT_SEED).eval(),
        weights_id=lambda: random_id,
        description="MFAGAN student of a chosen config, random weights: for cost only",
    )


def _profile_all(
    descriptors: list[ModelDescriptor], settings: BenchSettings, cancel: CancelToken
) -> Iterator[Event]:
    costs: dict[str, tuple[CostReport, ...]] = {}
    total = len(descriptors) * len(settings.profile_sizes)
    done = 0
    yield Progress(stage="profile", done=0, total=total)
    for descriptor in descriptors:
        module = descriptor.load().eval()
        reports = []
        for size in settings.profile_sizes:
            cancel.raise_if_cancelled()
            reports.append(
                profile_model(module, height=size, width=size, in_channels=descriptor.in_channels)
            )
            done += 1
            message = f"{descriptor.name} at {size}x{size}"
            yield Progress(stage="profile", done=done, total=total, message=message)
        costs[descriptor.name] = tuple(reports)
        del module
    return costs


def _time_all(
    descriptors: list[ModelDescriptor],
    photo: np.ndarray,
    settings: BenchSettings,
    cancel: CancelToken,
) -> Iterator[Event]:
    total = sum(settings.repeats_for(d.name) for d in descriptors) * len(settings.backends)
    progress = Progress(stage="time", done=0, total=total)
    yield progress
    timings: dict[str, tuple[Timing, ...]] = {}
    for descriptor in descriptors:
        per_backend = []
        for kind in settings.backends:
            cancel.raise_if_cancelled()
            timing = yield from _time_one(descriptor, kind, photo, settings, cancel, progress)
            per_backend.append(timing)
            # A backend that could not run still uses up its share of the progress bar.
            done = progress.done + settings.repeats_for(descriptor.name)
            progress = dataclasses.replace(progress, done=done, message="")
        timings[descriptor.name] = tuple(per_backend)
    return timings


def _time_one(
    descriptor: ModelDescriptor,
    kind: str,
    photo: np.ndarray,
    settings: BenchSettings,
    cancel: CancelToken,
    progress: Progress,
) -> Iterator[Event]:
    """Wall times of ``descriptor`` on backend ``kind``, or the reason it cannot run there."""
    try:
        backend = make_backend(descriptor, kind)  # type: ignore[arg-type]
    except ModelError as error:
        yield Notice(message=f"{descriptor.name}: no {kind} timing ({error})")
        return Timing(backend=kind, error=str(error))
    repeats = settings.repeats_for(descriptor.name)
    side = settings.time_size
    yield Notice(message=f"timing {descriptor.name} on {kind}: {repeats} x {side}x{side}")
    warm = photo[:, :, :WARM_UP_SIDE, :WARM_UP_SIDE]
    yield from _upscale(backend, descriptor, warm, settings, cancel)
    start_rss = peak_rss_bytes() if reset_peak_rss() else None
    runs = []
    for index in range(repeats):
        start = time.perf_counter()
        yield from _upscale(backend, descriptor, photo, settings, cancel)
        runs.append(time.perf_counter() - start)
        message = f"{descriptor.name} {kind} run {index + 1}/{repeats}: {runs[-1]:.2f} s"
        yield dataclasses.replace(progress, done=progress.done + index + 1, message=message)
    peak = peak_rss_bytes() if start_rss is not None else None
    runtime = backend.name
    del backend
    gc.collect()
    return Timing(
        backend=kind,
        runs_s=tuple(runs),
        start_rss_bytes=start_rss,
        peak_rss_bytes=peak,
        runtime=runtime,
    )


def _upscale(
    backend: Backend,
    descriptor: ModelDescriptor,
    photo: np.ndarray,
    settings: BenchSettings,
    cancel: CancelToken,
) -> Iterator[Event]:
    """The product's tiled path; only notices (e.g. an out-of-memory retry) are passed on."""
    options = TileOptions(
        scale=descriptor.scale,
        tile=settings.tile,
        overlap=settings.overlap,
        size_multiple=descriptor.size_multiple,
        cancel=cancel,
    )
    for event in run_tiled(backend, photo, options):
        if isinstance(event, Notice):
            yield event


def load_photo(path: Path, side: int) -> np.ndarray:
    """A ``side`` x ``side`` RGB crop of the photo's centre (resized only if it is smaller)."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    if min(rgb.size) >= side:
        left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
        rgb = rgb.crop((left, top, left + side, top + side))
    else:
        rgb = ImageOps.fit(rgb, (side, side), method=Image.Resampling.LANCZOS)
    array = np.asarray(rgb, dtype=np.float32) / 255.0
    return np.ascontiguousarray(array.transpose(2, 0, 1)[None])


def reset_peak_rss() -> bool:
    """Start a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM).

    False where that is not possible: the peak would then date from the process start and
    include earlier models, so it is not reported.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_bytes() -> int | None:
    """Peak resident memory since the last reset; None where the OS does not tell us."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
    return (
        f"{cpu}, {available_threads()} threads; torch {torch.__version__}, "
        f"onnxruntime {ort.__version__}, Python {platform.python_version()}"
    )


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Windows
        return None


def _config_text(descriptor: ModelDescriptor) -> str:
    encode = getattr(descriptor.config, "encode", None)
    return encode() if callable(encode) else ""
