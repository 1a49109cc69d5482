"""The wizard's engine jobs, as generators for ``desktop_app.workers.Job``.

Each takes plain values made on the UI thread and only calls the engine (plus QImage for
display copies, which is safe off the UI thread). Results that outlive the job (the search's
outputs) are written to a hidden sibling folder and renamed into place at the end, so a
cancel or a failure leaves nothing half-written; the fine-tuning run keeps its checkpoint in
its own folder so a cancelled run resumes.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from desktop_app.widgets.images import to_qimage
from desktop_app.wording import count
from engine.errors import UsageError
from engine.events import CancelToken, Finished, Notice, result_of
from engine.export import ExportRequest, export_bundle
from engine.imageio import read_image
from engine.models.mfa import MFAConfig
from engine.nas.evolution import EvolutionSettings
from engine.nas.search import DEFAULT_TEACHER, SearchRequest, run_search
from engine.nas.valset import PatchPlan
from engine.paths import RESOURCES

SAMPLES = RESOURCES / "samples"
SEARCH_JSON, LINEAGE_JSON = "search.json", "lineage.json"


@dataclass(frozen=True, kw_only=True)
class WizardSetup:
    """What the jobs run on. The app uses the shipped supernet and teacher; tests pass tiny
    ones, and a fake ``qai_hub`` module through ``hub``."""

    supernet: Path | None = None
    teacher: str = DEFAULT_TEACHER
    patches: PatchPlan = field(default_factory=PatchPlan)
    evolution: EvolutionSettings = field(default_factory=EvolutionSettings)
    baseline: bool = False  # the random baseline is for the report, not for the user
    photos: tuple[Path, ...] = (SAMPLES,)  # fine-tuning data besides the user's own photos
    hub: Callable[[], Any] | None = None  # None: engine.phones.aihub.connect
    export_teacher: str | None = DEFAULT_TEACHER
    compare_side: int = 96  # LR crop side the compare step upscales (the teacher is slow)

    def connect(self) -> Any:
        if self.hub is not None:
            return self.hub()
        from engine.phones.aihub import connect

        return connect()


# ---- step 1: phones -----------------------------------------------------------------------


def profiles_job(cancel: CancelToken) -> Iterator[Any]:
    from engine.phones.catalog import list_profiles

    yield Finished(result=list_profiles())


def detect_job(adb: str | None, cancel: CancelToken) -> Iterator[Any]:
    from engine.phones.adb import detect_phone

    yield Finished(result=detect_phone(adb or None))


def aihub_devices_job(setup: WizardSetup, cancel: CancelToken) -> Iterator[Any]:
    """Names of the devices AI Hub offers now (needs a token and the network)."""
    from engine.phones.aihub import AihubError

    hub = setup.connect()
    try:
        devices = hub.get_devices()
    except Exception as error:  # network or account trouble: one line, as the adapter does
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AihubError(f"AI Hub device list: {reason}") from None
    yield Finished(result=sorted({d.name for d in devices}))


# ---- step 2: the goal against the phone ---------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Placement:
    title: str
    ms: float | None  # None: not measured on this unit
    note: str = ""
    details: str = ""  # the technical names behind ``title`` (its tooltip)


def placements_job(
    device: str, unit: str, precision: str | None, tile: int, cancel: CancelToken
) -> Iterator[Any]:
    """The shipped student (predicted), the teacher and the public reference networks
    (measured, from the profile) per tile on the chosen unit."""
    from desktop_app.model_names import shown_title
    from desktop_app.phone.known_networks import network_details, network_name
    from engine.models.registry import PHONE_MODELS, STUDENT_NAME, list_models
    from engine.phones.calibration import calibration_for
    from engine.phones.config_latency import predict_config_ms
    from engine.phones.reference_nets import reference_net

    profile = calibration_for(device).device
    column = profile.column(unit, precision)
    placed: list[Placement] = []
    # The shipped MFA models under the model menu's names ("Fast (MFAGAN)", "Phone, shipped
    # (...)"): the list named the student only, in words of its own.
    shipped = [d for d in list_models() if d.name in (STUDENT_NAME, *PHONE_MODELS)]
    for model in shipped:
        if not isinstance(model.config, MFAConfig):
            continue
        estimate = predict_config_ms(
            device, model.config, unit=unit, precision=precision, size=tile
        )
        note = "predicted"
        if "rough" in estimate.basis:  # the NPU's power law: one number would claim too much
            note += f"; rough range {estimate.low_ms:.0f}–{estimate.high_ms:.0f} ms"
        details = f"{model.name}: {model.config.encode()}"
        placed.append(
            Placement(title=shown_title(model), ms=estimate.ms, note=note, details=details)
        )
    same_size = profile.input_size[0] == tile
    for key, ms in column.fit_points().items():
        try:
            net = reference_net(key)
            title, params = net.title, net.published_params
        except KeyError:  # a key without a reference net: still a measured point
            title, params = key, None
        note = "measured" if same_size else f"measured at {profile.input_size[0]} px tiles"
        placed.append(Placement(title=network_name(key, title), ms=ms, note=note,
                                details=network_details(key, title, params)))  # fmt: skip
    yield Finished(result=sorted(placed, key=lambda p: p.ms if p.ms is not None else 1e9))


# ---- step 3: search -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SearchSummary:
    folder: Path
    data: dict[str, Any]  # engine.nas.report.as_dict
    lineage: dict[str, Any]


def read_search(folder: Path) -> SearchSummary | None:
    """A finished search's outputs, or None when the folder holds none (or a damaged one)."""
    try:
        data = json.loads((folder / SEARCH_JSON).read_text(encoding="utf-8"))
        lineage = json.loads((folder / LINEAGE_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return SearchSummary(folder=folder, data=data, lineage=lineage)


def search_request(setup: WizardSetup, *, device: str, unit: str, precision: str | None,
                   budget_ms: float, tile: int) -> SearchRequest:  # fmt: skip
    return SearchRequest(
        device=device, budget_ms=budget_ms, unit=unit, precision=precision, size=tile,
        evolution=setup.evolution, baseline=setup.baseline, supernet=setup.supernet,
        teacher=setup.teacher, patches=setup.patches,
    )  # fmt: skip


def _fresh_part(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.part-{datetime.now(UTC):%Y%m%d%H%M%S%f}")


def _replace_folder(work: Path, folder: Path) -> None:
    """Put ``work`` where ``folder`` is; an older ``folder`` stays whole until then."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
        folder.rename(old)
    work.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def search_job(request: SearchRequest, folder: Path, cancel: CancelToken) -> Iterator[Any]:
    """Run the search (candidate events pass through for the live plot) and keep its outputs
    in ``folder``: search.json, pareto.png and lineage.json (what a fine-tune card records)."""
    from engine.nas.pick import lineage
    from engine.nas.report import write_outputs

    result = yield from result_of(run_search(request, cancel))
    cancel.raise_if_cancelled()
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = _fresh_part(folder)
    try:
        write_outputs(result, work)
        (work / LINEAGE_JSON).write_text(json.dumps(lineage(result), indent=2), encoding="utf-8")
        _replace_folder(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = read_search(folder)
    yield Finished(result=summary)


@dataclass(frozen=True, kw_only=True)
class PointDetails:
    config: str
    ms: float
    low_ms: float
    high_ms: float
    macs: int
    params: int
    fidelity: float | None
    rough: bool = False  # the band is a rough one (the NPU's power law in MACs)


def point_job(
    config: str, device: str, unit: str, precision: str | None, tile: int,
    fidelity: float | None, cancel: CancelToken,
) -> Iterator[Any]:  # fmt: skip
    """Predicted latency (with its band), MACs and parameters of one subnet config.

    All from the config (``mfa_ops``), no network built or traced: this runs as the search
    ends, often beside the fine-tuning's start, and tracing would compete for the GIL.
    """
    from engine.phones.config_latency import predict_config_ms
    from engine.phones.mfa_ops import mfa_ops

    cfg = MFAConfig.decode(config)
    estimate = predict_config_ms(device, cfg, unit=unit, precision=precision, size=tile)
    cost = mfa_ops(cfg, tile, tile)
    yield Finished(
        result=PointDetails(
            config=config, ms=estimate.ms, low_ms=estimate.low_ms, high_ms=estimate.high_ms,
            macs=cost.macs, params=cost.params, fidelity=fidelity,
            rough="rough" in estimate.basis,
        )
    )  # fmt: skip


def model_latency_job(
    name: str, device: str, unit: str, precision: str | None, tile: int, cancel: CancelToken
) -> Iterator[Any]:
    """(title, predicted ms a tile) of an existing MFA model on the target."""
    from desktop_app.model_names import shown_title
    from engine.models.registry import get_model
    from engine.phones.config_latency import predict_config_ms

    descriptor = get_model(name)
    if not isinstance(descriptor.config, MFAConfig):
        raise UsageError(f"model {descriptor.title!r} is not an MFA student; nothing to place")
    estimate = predict_config_ms(device, descriptor.config, unit=unit, precision=precision,
                                 size=tile)  # fmt: skip
    yield Finished(result=(shown_title(descriptor), estimate.ms))


# ---- step 4: fine-tune ----------------------------------------------------------------------


def finetune_data(setup: WizardSetup, photos: str) -> list[Path]:
    return list(setup.photos) + ([Path(photos)] if photos else [])


@dataclass(frozen=True, kw_only=True)
class DataPlan:
    """What a fine-tune trains and checks itself on, as the wizard's step 4 says it."""

    samples: tuple[str, ...]  # the bundled sample photos' names
    own: int  # the user's photos found (0: none given)
    train: int  # photos learnt from
    val: int  # photos kept aside to check progress on
    train_crops: int  # per photo learnt from
    val_crops: int  # per photo kept aside
    exact: bool  # the split is by content: exact for 2 photos, about for more

    def text(self) -> str:
        samples = ", ".join(self.samples)
        n = len(self.samples)
        if self.own:
            what = f"your {count(self.own, 'photo')} and the {count(n, 'sample photo')}"
        else:
            what = f"the {count(n, 'sample photo')} ({samples})"
        about = "" if self.exact else "about "
        line = (
            f"Trains on {what}: {about}{self.train} to learn from "
            f"({count(self.train_crops, 'crop')} each), {about}{self.val} kept aside to "
            f"check progress on ({count(self.val * self.val_crops, 'crop')})."
        )
        if not self.own:
            line += " Add a folder of your own photos for a model of your pictures."
        return line


def _image_count(folder: Path) -> int:
    from engine.distill.data import IMAGE_SUFFIXES

    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def data_plan(setup: WizardSetup, photos: str) -> DataPlan:
    """The photos ``finetune_data`` gives the engine, split as it splits them (one in ten,
    at least one, kept for validation; the crops per photo of the supernet's recipe)."""
    from engine.distill.data import IMAGE_SUFFIXES
    from engine.nas.finetune import RECIPE
    from engine.nas.train_config import load_supernet_config, supernet_config_to_dict

    data = supernet_config_to_dict(load_supernet_config(RECIPE))["data"]
    samples = tuple(
        sorted(p.stem for d in setup.photos if d.is_dir() for p in d.rglob("*")
               if p.suffix.lower() in IMAGE_SUFFIXES)
    )  # fmt: skip
    own = _image_count(Path(photos)) if photos else 0
    total = len(samples) + own
    val = min(max(round(total * data["val_fraction"]), 1), max(total - 1, 1))
    return DataPlan(
        samples=samples, own=own, train=max(total - val, 0), val=val,
        train_crops=data["crops_per_image"], val_crops=data["val_crops_per_image"],
        exact=total <= 2,
    )  # fmt: skip


def has_checkpoint(folder: Path) -> bool:
    from engine.distill.checkpoint import CHECKPOINT_NAME

    return (folder / CHECKPOINT_NAME).is_file()


def finetune_job(
    setup: WizardSetup, config: str, *, steps: int, data: Sequence[Path], out: Path, name: str,
    search: dict[str, Any], cancel: CancelToken,
) -> Iterator[Any]:  # fmt: skip
    """Fine-tune the pick into user model ``name``; resumes a cancelled run in ``out``."""
    from engine.nas.finetune import finetune_subnet

    lineage = search | {"pick": config}
    yield from finetune_subnet(
        setup.supernet, MFAConfig.decode(config), steps=steps, data=data, out=out, name=name,
        search=lineage, resume=has_checkpoint(out),
        command="MFAGAN Studio: Compress for my phone", cancel=cancel,
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class StepTiming:
    setup_s: float  # data scan, teacher cache: before the first step
    step_s: float  # median seconds a step


def measure_finetune_job(
    setup: WizardSetup, config: str, data: Sequence[Path], scratch: Path, cancel: CancelToken
) -> Iterator[Any]:
    """Time a 3-step fine-tuning in ``scratch`` (removed after): this computer's speed."""
    from engine.distill.trainer import TrainStep
    from engine.nas.finetune import finetune_subnet

    started = time.perf_counter()
    first: float | None = None
    seconds: list[float] = []
    try:
        for event in finetune_subnet(
            setup.supernet, MFAConfig.decode(config), steps=3, data=data, out=scratch,
            name=None, cancel=cancel,
        ):  # fmt: skip
            if isinstance(event, TrainStep):
                first = first if first is not None else time.perf_counter() - started
                seconds.append(event.seconds)
            elif not isinstance(event, Finished):
                yield event
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    yield Finished(
        result=StepTiming(setup_s=first or 0.0, step_s=float(np.median(seconds or [0.0])))
    )


# ---- step 5: compare ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Comparison:
    source: Path
    images: dict[str, QImage]  # title -> picture, all at the output size
    psnr_vs_teacher: dict[str, float]  # title -> PSNR-Y (dB) against the teacher's picture


def _center_crop(color: np.ndarray, side: int) -> np.ndarray:
    height, width = color.shape[:2]
    top, left = max(0, (height - side) // 2), max(0, (width - side) // 2)
    return color[top : top + side, left : left + side]


def compare_job(
    photo: Path, models: dict[str, str], teacher: str, side: int, cancel: CancelToken
) -> Iterator[Any]:
    """Upscale the middle ``side`` x ``side`` of ``photo`` with each model (title -> spec)
    and the teacher; PSNR-Y of each against the teacher's result."""
    from dataclasses import replace

    from engine.inference.upscale import TargetSize, Upscaler, upscale_image
    from engine.measure.metrics import to_uint8, y_scores
    from engine.models.registry import get_model

    image = read_image(photo)
    crop = replace(image, color=_center_crop(image.color, side), alpha=None)
    outputs: dict[str, np.ndarray] = {}
    for title, spec in {**models, "Teacher": teacher}.items():
        cancel.raise_if_cancelled()
        yield Notice(message=f"upscaling with {title}")
        upscaler = Upscaler(get_model(spec), backend="torch")
        yield from upscaler.prepare()
        result = yield from result_of(
            upscale_image(upscaler, crop, TargetSize(scale=upscaler.descriptor.scale), cancel)
        )
        outputs[title] = to_uint8(result.color)
    reference = outputs["Teacher"]
    scores = {
        title: y_scores(pixels, reference, border=4)[0]
        for title, pixels in outputs.items()
        if title != "Teacher"
    }
    images = {title: _as_qimage(pixels) for title, pixels in outputs.items()}
    # The before side's "Original": the crop itself, each pixel a block (no smoothing).
    scale = reference.shape[0] // crop.color.shape[0]
    original = np.repeat(np.repeat(to_uint8(crop.color), scale, axis=0), scale, axis=1)
    images["Original"] = _as_qimage(original)
    yield Finished(result=Comparison(source=photo, images=images, psnr_vs_teacher=scores))


def _as_qimage(pixels: np.ndarray) -> QImage:
    from engine.imageio import ImageData

    return to_qimage(ImageData(color=pixels.astype(np.float32) / 255.0, bit_depth=8))


# ---- step 6: export -------------------------------------------------------------------------


def export_job(setup: WizardSetup, request: ExportRequest, cancel: CancelToken) -> Iterator[Any]:
    hub = setup.connect() if "aihub" in request.formats else None
    yield from export_bundle(request, cancel=cancel, hub=hub)
