"""One step per export format: produce the file, run it in its own runtime, measure it.

Each step returns ``ExportedFile``s whose ``checks`` hold the largest absolute difference
from PyTorch's float output on the validation crops and the fidelity figures
(``engine.export.fidelity``). Float files must match PyTorch within 1/255 or the export
fails; INT8 files are reported, not judged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any

from engine.events import Event, Notice, Progress
from engine.export import facts, quantize, tflite, torchscript
from engine.export import onnx as onnx_export
from engine.export.bundle import ExportedFile
from engine.export.context import ExportContext
from engine.export.fidelity import Runner, measure
from engine.inference.backends import EXPORT_TOLERANCE

ORDER = ("onnx", "onnx-int8", "torchscript", "tflite", "tflite-int8", "aihub")
NCHW, NHWC = "NCHW", "NHWC"


def ordered(requested: tuple[str, ...]) -> list[str]:
    return [name for name in ORDER if name in requested]


def _file(
    context: ExportContext, suffix: str, fmt: str, precision: str, layout: str, data: bytes,
    started: float, checks: dict[str, Any], runtime: str,
) -> ExportedFile:  # fmt: skip
    side, channels = context.request.size, context.descriptor.in_channels
    shape = (1, channels, side, side) if layout == NCHW else (1, side, side, channels)
    return ExportedFile(
        name=f"{context.stem}{suffix}",
        format=fmt,
        precision=precision,
        layout=layout,
        input_shape=shape,
        runtime=runtime,
        data=data,
        seconds=time.perf_counter() - started,
        checks=checks,
    )


def _float_onnx(context: ExportContext) -> bytes:
    if context.float_onnx is None:
        context.float_onnx = onnx_export.export_fixed(
            context.module, side=context.request.size, in_channels=context.descriptor.in_channels
        )
    return context.float_onnx


def _ort(data: bytes) -> Runner:
    session = onnx_export.session(data)
    return lambda batch: onnx_export.run_session(session, batch)


def step_onnx(context: ExportContext) -> Generator[Event, None, list[ExportedFile]]:
    started = time.perf_counter()
    fixed = _float_onnx(context)
    checks = yield from context.checked(_ort(fixed), tolerance=EXPORT_TOLERANCE)
    runtime = f"onnxruntime {facts.version('onnxruntime')}"
    files = [_file(context, ".onnx", "onnx", "float32", NCHW, fixed, started, checks, runtime)]
    started = time.perf_counter()
    dynamic = onnx_export.export_dynamic(context.descriptor)
    checks = yield from context.checked(_ort(dynamic), tolerance=EXPORT_TOLERANCE)
    entry = _file(context, "", "onnx", "float32", NCHW, dynamic, started, checks, runtime)
    # Desktop file: any height and width (multiples of size_multiple), checked here at the
    # tile size and by the backend at a second size when it was first exported.
    shape = (1, context.descriptor.in_channels, -1, -1)
    files.append(replace(entry, name=f"{context.base}-dynamic.onnx", input_shape=shape))
    return files


def step_onnx_int8(context: ExportContext) -> Generator[Event, None, list[ExportedFile]]:
    started = time.perf_counter()
    assert context.calibration is not None
    yield Progress(stage="quantize", done=0, total=1, message=context.request.quant.label())
    context.int8_onnx = quantize.quantize_int8(
        _float_onnx(context), context.calibration, context.request.quant
    )
    yield Progress(stage="quantize", done=1, total=1)
    checks = yield from context.checked(_ort(context.int8_onnx), tolerance=None)
    checks["quantization"] = context.request.quant.as_dict() | {
        "format": "QDQ", "weights": "int8 per channel", "activations": "uint8 per tensor"
    }  # fmt: skip
    runtime = f"onnxruntime {facts.version('onnxruntime')}"
    data = context.int8_onnx
    return [_file(context, "-int8.onnx", "onnx", "int8", NCHW, data, started, checks, runtime)]


def step_torchscript(context: ExportContext) -> Generator[Event, None, list[ExportedFile]]:
    started = time.perf_counter()
    archive = torchscript.trace(
        context.module, side=context.request.size, in_channels=context.descriptor.in_channels
    )
    checks = yield from context.checked(
        torchscript.TorchScriptRunner(archive), tolerance=EXPORT_TOLERANCE
    )
    runtime = f"torch.jit {facts.version('torch')}"
    return [
        _file(context, ".pt", "torchscript", "float32", NCHW, archive, started, checks, runtime)
    ]


def step_tflite(context: ExportContext) -> Generator[Event, None, list[ExportedFile]]:
    tflite.require()
    started = time.perf_counter()
    yield Progress(stage="convert", done=0, total=1, message="litert-torch (float)")
    model = tflite.convert_float(
        context.module, side=context.request.size, in_channels=context.descriptor.in_channels
    )
    checks = yield from context.checked(tflite.LiteRTRunner(model), tolerance=EXPORT_TOLERANCE)
    runtime = f"ai-edge-litert {facts.version('ai-edge-litert')}"
    return [_file(context, ".tflite", "tflite", "float32", NHWC, model, started, checks, runtime)]


def step_tflite_int8(context: ExportContext) -> Generator[Event, None, list[ExportedFile]]:
    tflite.require()
    started = time.perf_counter()
    assert context.calibration is not None
    yield Progress(stage="convert", done=0, total=1, message="litert-torch (int8)")
    model = tflite.convert_int8(context.module, context.calibration)
    checks = yield from context.checked(tflite.LiteRTRunner(model), tolerance=None)
    checks["quantization"] = {
        "method": "PT2E static, minmax observers",
        "weights": "int8 per channel", "activations": "int8 per tensor",
    }  # fmt: skip
    runtime = f"ai-edge-litert {facts.version('ai-edge-litert')}"
    suffix = "-int8.tflite"
    return [_file(context, suffix, "tflite", "int8", NHWC, model, started, checks, runtime)]


STEPS: dict[str, Callable[[ExportContext], Generator[Event, None, list[ExportedFile]]]] = {
    "onnx": step_onnx,
    "onnx-int8": step_onnx_int8,
    "torchscript": step_torchscript,
    "tflite": step_tflite,
    "tflite-int8": step_tflite_int8,
}


def aihub(context: ExportContext, hub: Any) -> Generator[Event, None, dict[str, Any]]:
    """Compile + profile on the device's AI Hub phone; the compiled file joins the bundle."""
    from engine.phones.aihub import AihubRequest, run_on_aihub

    request = context.request
    if request.unit == "npu":
        if context.int8_onnx is None:
            assert context.calibration is not None
            context.int8_onnx = quantize.quantize_int8(
                _float_onnx(context), context.calibration, request.quant
            )
        source = context.int8_onnx  # the phone NPUs run integer models
    else:
        source = _float_onnx(context)
    upload = context.work / f".{context.stem}-aihub-source.onnx"
    upload.write_bytes(source)
    crops = context.validation[:4] if request.aihub_inference else None
    try:
        result = yield from run_on_aihub(
            AihubRequest(
                model=upload,
                device=facts.aihub_device(request.device),
                unit=request.unit,
                runtime=request.runtime,
                name=context.stem,
                inputs=crops,
                target_dir=context.work,
                about=facts.measured_model(context, "int8" if request.unit == "npu" else "float32"),
            ),
            hub,
            cancel=context.cancel,
        )
    finally:
        upload.unlink(missing_ok=True)
    data = result.as_dict()
    if crops is not None and result.outputs is not None:
        local = _ort(source)(crops)
        data["phone_vs_local_psnr_y_db"] = measure(
            result.outputs, local, None, border=context.descriptor.scale
        ).as_dict()["psnr_y_vs_float_db"]
        yield Notice(
            message=f"AI Hub output vs local: {data['phone_vs_local_psnr_y_db']} dB PSNR-Y"
        )
    yield Notice(message=f"AI Hub {result.device}: {result.inference_ms:.2f} ms per tile")
    return data


__all__ = ["STEPS", "ExportContext", "aihub", "ordered"]
