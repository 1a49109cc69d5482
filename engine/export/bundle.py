"""The bundle's model card (JSON, every figure filled in by code) and its phone-side README.

The card holds no absolute path and no secret: files by name and sha256, calibration photos
by folder name, count and digest, crops by photo name and position.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from engine.inference.tiling import CROSSFADE, recommended_overlap
from engine.models.descriptor import ModelDescriptor

CARD_NAME = "model-card.json"
README_NAME = "README.md"
CARD_VERSION = 1
# A 12-megapixel phone photo (4000 x 3000): the tile count the card reports for it.
PHOTO_SIZE = (4000, 3000)


@dataclass(frozen=True, kw_only=True)
class ExportedFile:
    """One file of the bundle and what was measured on it."""

    name: str
    format: str
    precision: str
    layout: str
    input_shape: tuple[int, ...]
    runtime: str
    data: bytes
    seconds: float
    checks: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "format": self.format,
            "precision": self.precision,
            "input_layout": self.layout,
            "input_shape": list(self.input_shape),
            "verified_with": self.runtime,
            "bytes": len(self.data),
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "export_seconds": round(self.seconds, 2),
        } | self.checks


def tile_advice(descriptor: ModelDescriptor, side: int) -> dict[str, Any]:
    """Tile size, overlap and the tile count of a 12 MP photo for a fixed-shape file."""
    overlap = min(recommended_overlap(descriptor), side // 2)
    stride = side - overlap
    width, height = PHOTO_SIZE
    tiles = math.ceil(max(width - overlap, 1) / stride) * math.ceil(
        max(height - overlap, 1) / stride
    )
    return {
        "tile": side,
        "overlap_lr_px": overlap,
        "stride_lr_px": stride,
        "crossfade_lr_px": min(overlap // 2, CROSSFADE),
        "tiles_for_4000x3000_photo": tiles,
        "why": (
            "neighbouring tiles share the overlap; cross-fade the outputs over the middle of "
            "each shared strip (as the desktop app does) so no seam shows"
        ),
    }


def card(
    *,
    descriptor: ModelDescriptor,
    side: int,
    cost: dict[str, Any],
    files: list[ExportedFile],
    fidelity: dict[str, Any],
    predicted: dict[str, Any] | None,
    measured: dict[str, Any] | None,
    calibration: dict[str, Any] | None,
    validation: dict[str, Any],
    tools: dict[str, str],
    created: str,
) -> dict[str, Any]:
    config = descriptor.config
    scale = descriptor.scale
    return {
        "card_version": CARD_VERSION,
        "created": created,
        "model": {
            "name": descriptor.name,
            "title": descriptor.title,
            "architecture": descriptor.architecture,
            "config": config.encode() if hasattr(config, "encode") else None,
            "scale": scale,
            "trained": descriptor.trained,
            "weights_id": descriptor.weights_id(),
        },
        "cost": cost,
        "input": {
            "shape_nchw": [1, descriptor.in_channels, side, side],
            "dtype": "float32",
            "color": "RGB",
            "value_range": [0.0, 1.0],
            "layout_per_file": {f.name: f.layout for f in files},
        },
        "output": {
            "shape_nchw": [1, descriptor.out_channels, side * scale, side * scale],
            "value_range": [0.0, 1.0],
            "clipped_in_graph": True,
        },
        "tiling": tile_advice(descriptor, side),
        "files": [f.as_dict() for f in files],
        "fidelity": fidelity,
        "predicted_latency": predicted,
        "measured_latency": measured,
        "calibration": calibration,
        "validation": validation,
        "tools": tools,
    }


def card_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")


def readme(data: dict[str, Any]) -> str:
    """The phone-side README: what is in the bundle, how to run and tile it on Android."""
    model, tiling, inp = data["model"], data["tiling"], data["input"]
    side, scale = inp["shape_nchw"][2], model["scale"]
    rows = "\n".join(
        f"| `{f['file']}` | {f['format']} | {f['precision']} | {f['input_layout']} "
        f"{_shape(f['input_shape'])} | {_fidelity_cell(f)} |"
        for f in data["files"]
    )
    return f"""# {model["name"]} for phones (x{scale}, {side}x{side} tiles)

Exported by `mfagan export`; every figure here is in `{CARD_NAME}`, measured when the bundle
was written.

| file | format | precision | input | PSNR-Y vs float / vs teacher (dB) |
|---|---|---|---|---|
{rows}

Input: RGB float32 in [0, 1], {side}x{side}; output: RGB float32 in [0, 1] (clipped in the
graph), {side * scale}x{side * scale}. `.tflite` files are NHWC (what an Android `Bitmap`
unpacks to); `.onnx` and `.pt` files are NCHW.

## Run it on Android

{_runtimes(data, side, scale)}
## Tile a photo

The file takes exactly {side}x{side} pixels. Cut the photo into tiles of {tiling["tile"]} px
that overlap by {tiling["overlap_lr_px"]} px (a new tile every {tiling["stride_lr_px"]} px;
pad the right and bottom edges by mirroring), upscale each, and paste the outputs {scale}x
larger, cross-fading linearly over the middle {tiling["crossfade_lr_px"] * scale} output
pixels of each shared strip. A 4000x3000 photo takes {tiling["tiles_for_4000x3000_photo"]}
tiles; multiply by the per-tile latency in `{CARD_NAME}` (`predicted_latency`, and
`measured_latency` when an AI Hub profile ran) for the time of a whole photo.
"""


def _shape(shape: list[int]) -> str:
    """1x3x128x128; a dynamic file's free sides show as H and W."""
    named = [str(v) if v > 0 else "HW"[i - 2] if i >= 2 else "N" for i, v in enumerate(shape)]
    return "x".join(named)


def _fidelity_cell(entry: dict[str, Any]) -> str:
    fid = entry.get("fidelity") or {}
    vs_float, vs_teacher = fid.get("psnr_y_vs_float_db"), fid.get("psnr_y_vs_teacher_db")
    if vs_float is None:
        return "not measured"
    return f"{vs_float:.2f} / " + ("-" if vs_teacher is None else f"{vs_teacher:.2f}")


def _first(data: dict[str, Any], suffix: str) -> str:
    """The bundle's first .suffix file."""
    return next(f["file"] for f in data["files"] if f["file"].endswith(f".{suffix}"))


def _has(data: dict[str, Any], suffix: str) -> bool:
    return any(f["file"].endswith(f".{suffix}") for f in data["files"])


def _runtimes(data: dict[str, Any], side: int, scale: int) -> str:
    """How to run the files this bundle holds, and only those (a TFLite example above a
    bundle without a .tflite file read as if one were missing)."""
    parts = []
    if _has(data, "tflite"):
        parts.append(_litert(data, side, scale))
    if _has(data, "onnx"):
        parts.append(_onnx_runtime(side))
    if not parts:
        return (
            "This bundle has no .tflite or .onnx file to run on a phone; export it again "
            "with a TFLite or ONNX format.\n"
        )
    return "\n".join(parts)


def _litert(data: dict[str, Any], side: int, scale: int) -> str:
    return f"""\
LiteRT (`.tflite`), with `com.google.ai.edge.litert:litert:2.3.0` in Gradle (CompiledModel API):

```kotlin
val model = CompiledModel.create(context.assets, "{_first(data, "tflite")}",
    CompiledModel.Options(Accelerator.GPU))   // or Accelerator.NPU / Accelerator.CPU
val inputs = model.createInputBuffers(); val outputs = model.createOutputBuffers()
inputs[0].writeFloat(tileRgb)                 // {side}*{side}*3 floats, row-major, RGB, 0..1
model.run(inputs, outputs)
val upscaled = outputs[0].readFloat()          // {side * scale}*{side * scale}*3 floats
```
"""


def _onnx_runtime(side: int) -> str:
    return f"""\
ONNX Runtime Mobile (`.onnx`), with `com.microsoft.onnxruntime:onnxruntime-android`:

```kotlin
val env = OrtEnvironment.getEnvironment()
val options = OrtSession.SessionOptions().apply {{ addNnapi() }}   // or addQnn(...) / CPU
val session = env.createSession(modelBytes, options)
val input = OnnxTensor.createTensor(env, FloatBuffer.wrap(tileChw),
    longArrayOf(1, 3, {side}, {side}))          // planar RGB (NCHW), 0..1
val output = session.run(mapOf("input" to input))[0].value
```
`*-dynamic.onnx` takes any height and width (multiples of the model's size multiple): it is
the desktop file. The `*-int8.onnx` file is QDQ (QuantizeLinear/DequantizeLinear around each
op): NNAPI and QNN run it as integer kernels; its input and output stay float32.
"""
