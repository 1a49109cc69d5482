"""The export job: one request in, one bundle folder out, progress events on the way.

``export_bundle(request, cancel=..., hub=...)`` yields ``Progress``/``Notice`` events and
ends with ``Finished(result=ExportResult)``. The bundle is assembled in a hidden sibling
folder and moved into place at the end (``engine.export.install``: only the files of an
earlier bundle are ever replaced or removed), so a failure or a cancel leaves nothing under
``out_dir`` and an older bundle there stays whole until the new one replaces it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.errors import ModelError, StorageError, UsageError
from engine.events import CancelToken, Event, Finished, Notice, Progress
from engine.export import bundle, calibration, facts, fidelity, formats, install, tflite
from engine.export.bundle import ExportedFile
from engine.export.context import ExportContext
from engine.export.onnx import ClippedOutput
from engine.export.request import ExportRequest
from engine.models.descriptor import ModelDescriptor


@dataclass(frozen=True, kw_only=True)
class ExportResult:
    out_dir: Path
    files: tuple[str, ...]
    card: dict[str, Any]
    seconds: float


def export_bundle(
    request: ExportRequest, *, cancel: CancelToken | None = None, hub: Any = None
) -> Iterator[Event]:
    """Write the bundle of ``request`` (see the module docstring); ``hub`` replaces the
    ``qai_hub`` module for ``aihub`` (tests pass a fake)."""
    cancel = cancel or CancelToken()
    started = time.perf_counter()
    request.check()
    if {"tflite", "tflite-int8"} & set(request.formats):
        tflite.require()  # one line on what to install, before any work
    facts.device_profile_path(request.device)  # an unknown --device fails now
    if "aihub" in request.formats and hub is None:
        from engine.phones.aihub import connect

        hub = connect()  # no token: one line now, before minutes of export work
    descriptor = _load_descriptor(request)
    out_dir = request.out_dir
    install.check_model_outside(request.model, out_dir)
    install.check_out_dir(out_dir, {bundle.CARD_NAME, bundle.README_NAME, install.MANIFEST_NAME})
    work = install.work_folder(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        install.remove_stale_work(out_dir)
        work.mkdir()
    except OSError as error:
        raise _write_error(out_dir, error) from None
    try:
        result = yield from _build(request, descriptor, work, cancel, hub)
        cancel.raise_if_cancelled()
        install.install(work, out_dir)
    except BaseException as error:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(error, OSError):  # a full disk, a read-only folder: one line, no .part
            raise _write_error(out_dir, error) from None
        raise
    names = tuple(entry["file"] for entry in result["files"])
    yield Finished(
        result=ExportResult(
            out_dir=out_dir, files=names, card=result, seconds=time.perf_counter() - started
        )
    )


def _write_error(out_dir: Path, error: OSError) -> StorageError:
    """One line for an OSError met while the bundle is written: the bundle named (not its
    hidden .part folder) unless the error names a file elsewhere (a photo being read)."""
    reason = error.strerror or str(error)
    reason = reason[:1].lower() + reason[1:]
    named = Path(os.fsdecode(error.filename)) if error.filename else None
    if named is not None and not (_within(named, out_dir.parent) or _within(out_dir, named)):
        return StorageError(named, reason)
    return StorageError(out_dir, f"cannot write the bundle ({reason})")


def _within(path: Path, folder: Path) -> bool:
    return path.absolute().is_relative_to(folder.absolute())


def _build(
    request: ExportRequest, descriptor: ModelDescriptor, work: Path, cancel: CancelToken, hub: Any
) -> Generator[Event, None, dict[str, Any]]:
    context = yield from _prepare(request, descriptor, work, cancel)
    files: list[ExportedFile] = []
    measured = None
    steps = formats.ordered(request.formats)
    for index, name in enumerate(steps):
        cancel.raise_if_cancelled()
        yield Progress(stage="export", done=index, total=len(steps), message=name)
        if name == "aihub":
            measured = yield from formats.aihub(context, hub)
            continue
        produced = yield from formats.STEPS[name](context)
        for item in produced:
            (work / item.name).write_bytes(item.data)
            files.append(item)
            yield Notice(message=_summary(item, item.seconds))
    yield Progress(stage="export", done=len(steps), total=len(steps), message="model card")
    data = bundle.card(
        descriptor=descriptor,
        side=request.size,
        cost=facts.cost(context),
        files=files,
        fidelity=facts.fidelity_summary(context, files),
        predicted=facts.predicted_latency(context),
        measured=measured or facts.cached_latency(context),
        calibration=context.calibration_info,
        validation=_validation_info(request, context),
        tools=facts.tool_versions(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    (work / bundle.CARD_NAME).write_bytes(bundle.card_bytes(data))
    (work / bundle.README_NAME).write_text(bundle.readme(data), encoding="utf-8")
    return data


def _prepare(
    request: ExportRequest, descriptor: ModelDescriptor, work: Path, cancel: CancelToken
) -> Generator[Event, None, ExportContext]:
    yield Progress(stage="prepare", done=0, total=2, message="validation crops")
    module = _load_module(descriptor)
    crops = calibration.validation_crops(side=request.size, extra=request.validation_photos)
    batch = calibration.as_batch(crops)
    with torch.inference_mode():
        float_outputs = ClippedOutput(module)(torch.from_numpy(batch)).numpy()
    teacher = None
    if request.teacher is not None:
        from engine.models.registry import get_model

        teacher = yield from fidelity.teacher_images(get_model(request.teacher), batch, cancel)
    yield Progress(stage="prepare", done=2, total=2)
    context = ExportContext(
        request=request,
        descriptor=descriptor,
        module=module,
        work=work,
        validation=batch,
        float_outputs=float_outputs,
        teacher=teacher,
        cancel=cancel,
    )
    if request.needs_calibration():
        _load_calibration(context)
    return context


def _load_calibration(context: ExportContext) -> None:
    request = context.request
    crops = calibration.calibration_crops(
        request.calibration, side=request.size, count=request.calibration_count
    )
    context.calibration = calibration.as_batch(crops)
    files = calibration.photo_files(request.calibration or calibration.BUNDLED_DIR)
    context.calibration_info = {
        "source": "bundled crops" if request.calibration is None else "your photos",
        "folder": (request.calibration or calibration.BUNDLED_DIR).name,
        "photos": len(files),
        "photos_sha256": calibration.folder_digest(files),
        "crops": len(crops),
        "crop_side": request.size,
        "recipe": request.quant.as_dict(),
    }


def _validation_info(request: ExportRequest, context: ExportContext) -> dict[str, Any]:
    return {
        "crops": len(context.validation),
        "crop_side": request.size,
        "photos": [name for name, _box in calibration.HELD_OUT]
        + [path.name for path in request.validation_photos],
        "teacher": request.teacher,
        "metric": "PSNR-Y (BT.601), 8-bit outputs, scale px shaved; identical crops count 100 dB",
    }


def _summary(item: ExportedFile, seconds: float) -> str:
    fid = item.checks.get("fidelity") or {}
    teacher = fid.get("psnr_y_vs_teacher_db")
    parts = [
        f"{item.name}: {len(item.data) / 1e6:.2f} MB in {seconds:.1f} s",
        f"max |diff| vs torch {item.checks.get('max_abs_diff_vs_torch', float('nan')):.2g}",
    ]
    if fid:
        parts.append(f"PSNR-Y vs float {fid['psnr_y_vs_float_db']:.2f} dB")
    if teacher is not None:
        parts.append(f"vs teacher {teacher:.2f} dB")
    return ", ".join(parts)


def _load_descriptor(request: ExportRequest) -> ModelDescriptor:
    from engine.models.registry import get_model

    descriptor = get_model(request.model)
    if request.size % descriptor.size_multiple:
        raise UsageError(
            f"--size {request.size} is not a multiple of {descriptor.size_multiple}, "
            f"which model {descriptor.name!r} needs"
        )
    return descriptor


def _load_module(descriptor: ModelDescriptor) -> nn.Module:
    try:
        return descriptor.load().eval()
    except ModelError:
        raise
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"model {descriptor.name!r} cannot be loaded ({reason})") from None
