"""ONNX INT8: onnxruntime static QDQ quantization calibrated on photos at the export shape.

Weights int8 per output channel (symmetric), activations uint8 per tensor; the graph keeps
QuantizeLinear/DequantizeLinear pairs around each op (QDQ), the format ONNX Runtime Mobile,
NNAPI, QNN and AI Hub's compiler turn into integer kernels.

Pitfalls handled here (each has a test):
- DepthToSpace (pixel shuffle) is not in onnxruntime's QDQ registry: the quantizer leaves it
  in float between a DequantizeLinear and the next QuantizeLinear, which is numerically the
  same as quantizing it (it only moves values) and runs everywhere.
- Resize: the student's resizes are nearest (a pure copy, exact under Q/DQ); linear resizes
  change numerics under Q/DQ, so a model with one keeps that node in float.
- The final clip: onnxruntime drops a Clip that follows a quantized op and lets the output
  QuantizeLinear saturate instead; calibrated on the clipped output, its range is [0, 1].
- IR version: the quantizer saves with the installed onnx's IR version; it is pinned again.

``keep_float`` leaves chosen parts in float, the standard remedies when INT8 loses too much:
``"first"`` (the first conv: its input is the raw image), ``"last"`` (the last conv, whose
output becomes pixels) and ``"tail"`` (everything after the last conv: pixel shuffle, the
upsampled input skip, the add and the clip). ``"tail"`` alone changes no 8-bit pixel for
8-bit photos: the input and the clipped output are quantized onto the 1/255 grid they
already lie on; it matters together with ``"last"``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from engine.errors import ModelError
from engine.export.onnx import pin_ir_version
from engine.export.quant_recipe import KeepFloat, QuantRecipe

_METHODS = {
    "minmax": CalibrationMethod.MinMax,
    "percentile": CalibrationMethod.Percentile,
    "entropy": CalibrationMethod.Entropy,
}


class _Batches(CalibrationDataReader):
    def __init__(self, name: str, batch: np.ndarray) -> None:
        self._items: Iterator[dict[str, np.ndarray]] = iter(
            {name: batch[i : i + 1]} for i in range(len(batch))
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def float_nodes(model: onnx.ModelProto, keep_float: tuple[KeepFloat, ...]) -> list[str]:
    """Names of the nodes ``keep_float`` asks to leave unquantized (plus linear resizes)."""
    nodes = list(model.graph.node)
    convs = [i for i, node in enumerate(nodes) if node.op_type == "Conv"]
    keep: set[int] = set()
    if convs and "first" in keep_float:
        keep.add(convs[0])
    if convs and "last" in keep_float:
        keep.add(convs[-1])
    if convs and "tail" in keep_float:
        keep.update(range(convs[-1] + 1, len(nodes)))
    for i, node in enumerate(nodes):
        mode = next((a.s for a in node.attribute if a.name == "mode"), b"nearest")
        if node.op_type == "Resize" and mode != b"nearest":
            keep.add(i)
    return [nodes[i].name for i in sorted(keep)]


def quantize_int8(float_model: bytes, calibration: np.ndarray, recipe: QuantRecipe) -> bytes:
    """QDQ INT8 model calibrated on ``calibration`` (NCHW, exactly the model's input shape)."""
    model = onnx.load_from_string(float_model)
    expected = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if list(calibration.shape[1:]) != expected[1:]:
        raise ModelError(
            f"calibration crops are {tuple(calibration.shape[1:])}, the model takes "
            f"{tuple(expected[1:])}: calibrate at exactly the export shape"
        )
    with tempfile.TemporaryDirectory(prefix="mfagan-quant-") as tmp:
        source, prepared, output = (Path(tmp) / n for n in ("f.onnx", "p.onnx", "q.onnx"))
        source.write_bytes(float_model)
        # Shape inference + graph cleanup first, as onnxruntime recommends for QDQ.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        prepared_model = onnx.load(str(prepared))
        quantize_static(
            str(prepared),
            str(output),
            _Batches(model.graph.input[0].name, calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=_METHODS[recipe.method],
            nodes_to_exclude=float_nodes(prepared_model, recipe.keep_float),
            extra_options={
                "WeightSymmetric": True,
                "ActivationSymmetric": False,
                "CalibPercentile": recipe.percentile,
            },
        )
        return pin_ir_version(onnx.load(str(output))).SerializeToString()
