"""The model card's measured facts: cost, predicted latency, fidelity summary, tool versions.

Predicted latency comes from the phone profile's calibrated latency models
(``engine.phones``); the device profile also names the AI Hub phone of ``--format aihub``.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import engine
from engine.export.bundle import ExportedFile
from engine.export.fidelity import measure

if TYPE_CHECKING:
    from engine.export.context import ExportContext


def measured_model(context: ExportContext, precision: str) -> dict[str, Any]:
    config = context.descriptor.config
    report = cost(context)
    return {
        "name": context.descriptor.name,
        "architecture": context.descriptor.architecture,
        "config": config.encode() if hasattr(config, "encode") else None,
        "weights_id": context.descriptor.weights_id(),
        "input_shape": [
            1,
            context.descriptor.in_channels,
            context.request.size,
            context.request.size,
        ],
        "precision": precision,
        "params": report["params"],
        "macs": report["macs"],
    }


def device_profile_path(device: str | None) -> Path:
    """The phone profile file of ``device`` (default: the Snapdragon 865); UsageError naming
    the known profiles otherwise."""
    from engine.phones.device import DEFAULT_DEVICE, profile_path

    return DEFAULT_DEVICE if device is None else profile_path(device)


def aihub_device(device: str | None) -> str:
    from engine.phones.device import load_device_profile

    return load_device_profile(device_profile_path(device)).aihub_devices[0]


def predicted_latency(context: ExportContext) -> dict[str, Any] | None:
    """The phone profile's predicted latency of one tile, per unit, precision and runtime."""
    from engine.phones.calibration import calibration
    from engine.phones.predict import predict_latency

    side = context.request.size
    prediction = predict_latency(
        context.module,
        height=side,
        width=side,
        in_channels=context.descriptor.in_channels,
        calibrated=calibration(device_profile_path(context.request.device)),
    )
    data = prediction.as_dict()
    keys = ("device", "profile", "aihub_devices", "input_size", "extrapolated_size")
    return {key: data.get(key) for key in keys} | {
        "per": "one tile",
        "gpu": data["gpu"],
        "npu": data["npu"],
        "columns": data.get("columns"),
    }


def cost(context: ExportContext) -> dict[str, Any]:
    from engine.models.profiling import profile_model

    side = context.request.size
    report = profile_model(
        context.module, height=side, width=side, in_channels=context.descriptor.in_channels
    )
    return {"lr_size": [side, side]} | report.as_dict()


def fidelity_summary(context: ExportContext, files: list[ExportedFile]) -> dict[str, Any]:
    """Float (PyTorch) fidelity to the teacher and, per exported file, what it keeps of it."""
    reference = measure(
        context.float_outputs, context.float_outputs, context.teacher,
        border=context.descriptor.scale,
    )  # fmt: skip
    summary: dict[str, Any] = {"teacher": context.request.teacher}
    # Without a teacher there is no fidelity to report: the keys are left out, not null.
    if reference.vs_teacher_db is not None:
        summary["float_psnr_y_vs_teacher_db"] = round(reference.vs_teacher_db, 3)
        summary["int8_loss_vs_teacher_db"] = {
            f.name: round(reference.vs_teacher_db - f.checks["fidelity"]["psnr_y_vs_teacher_db"], 3)
            for f in files
            if f.precision == "int8"
        }
    return summary


def tool_versions() -> dict[str, str]:
    names = ("torch", "onnx", "onnxruntime", "litert-torch", "ai-edge-litert", "qai-hub")
    versions = {"mfagan-studio": engine.__version__}
    for name in names:
        found = version(name)
        if found != "not installed":
            versions[name] = found
    return versions


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cached_latency(context: ExportContext) -> dict[str, Any] | None:
    """The latest earlier AI Hub profile of these very weights at this input shape on the
    device's AI Hub phone (from the per-device cache), or None."""
    from engine.phones.aihub import cached_measurements

    shape = [1, context.descriptor.in_channels, context.request.size, context.request.size]
    weights = context.descriptor.weights_id()
    matches = [
        entry
        for entry in cached_measurements(aihub_device(context.request.device))
        if (entry.get("model") or {}).get("weights_id") == weights
        and (entry.get("model") or {}).get("input_shape") == shape
    ]
    return (matches[-1] | {"from_cache": True}) if matches else None
