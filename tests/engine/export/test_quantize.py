from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from skimage import data as skdata

from engine.errors import ModelError
from engine.export import calibration
from engine.export import onnx as onnx_export
from engine.export.fidelity import measure
from engine.export.quantize import QuantRecipe, float_nodes, quantize_int8
from engine.models.mfa import MFAGenerator
from engine.models.registry import STUDENT_WEIGHTS, get_model

from .conftest import TINY

SKIMAGE_DATA = Path(skdata.__file__).parent


def _float_and_calibration(side: int = 24):
    net = MFAGenerator(TINY, seed=2).eval()
    data = onnx_export.export_fixed(net, side=side)
    cal = calibration.as_batch(calibration.calibration_crops(None, side=side, count=4))
    return net, data, cal


def _ops(model: onnx.ModelProto) -> list[str]:
    return [node.op_type for node in model.graph.node]


def test_int8_is_qdq_with_per_channel_weights_and_pinned_ir() -> None:
    _net, data, cal = _float_and_calibration()
    model = onnx.load_from_string(quantize_int8(data, cal, QuantRecipe()))
    assert model.ir_version == 8
    ops = _ops(model)
    assert ops.count("QuantizeLinear") > 5 and ops.count("DequantizeLinear") > 5
    inits = {i.name: i for i in model.graph.initializer}
    conv_weight_dq = [
        n for n in model.graph.node
        if n.op_type == "DequantizeLinear" and inits.get(n.input[0]) is not None
        and inits[n.input[0]].data_type == onnx.TensorProto.INT8
    ]  # fmt: skip
    assert conv_weight_dq, "no int8 weights"
    # Per channel: one scale per output channel of the weight, not one per tensor.
    for node in conv_weight_dq:
        scale = inits[node.input[1]]
        assert len(scale.dims) == 1 and scale.dims[0] == inits[node.input[0]].dims[0]


def test_pixel_shuffle_resize_and_final_clip_survive_quantization() -> None:
    """DepthToSpace stays (float between DQ and Q), nearest Resize is quantized, and the
    clip's range lives on in the output quantizer: outputs never leave [0, 1]."""
    net, data, cal = _float_and_calibration()
    int8 = quantize_int8(data, cal, QuantRecipe())
    model = onnx.load_from_string(int8)
    ops = _ops(model)
    assert "DepthToSpace" in ops and "Resize" in ops
    producers = {out: n for n in model.graph.node for out in n.output}
    d2s = next(n for n in model.graph.node if n.op_type == "DepthToSpace")
    assert producers[d2s.input[0]].op_type == "DequantizeLinear"
    x = np.random.default_rng(3).random((3, 3, 24, 24), dtype=np.float32)
    got = onnx_export.run_session(onnx_export.session(int8), x)
    with torch.inference_mode():
        expected = net(torch.from_numpy(x)).clamp(0, 1).numpy()
    assert got.min() >= 0.0 and got.max() <= 1.0
    assert np.abs(got - expected).mean() < 0.02


def test_keep_float_leaves_the_named_parts_unquantized() -> None:
    _net, data, cal = _float_and_calibration()
    model = onnx.load_from_string(data)
    convs = [n.name for n in model.graph.node if n.op_type == "Conv"]
    kept = float_nodes(model, ("first", "last", "tail"))
    assert convs[0] in kept and convs[-1] in kept
    assert {"DepthToSpace", "Resize", "Add", "Clip"} <= {
        n.op_type for n in model.graph.node if n.name in kept
    }
    # "tail": the skip add and the clip run in float (the last conv's output is still int8).
    int8 = onnx.load_from_string(quantize_int8(data, cal, QuantRecipe(keep_float=("tail",))))
    producers = {out: n for n in int8.graph.node for out in n.output}
    add = [n for n in int8.graph.node if n.op_type == "Add"][-1]
    assert all(producers[i].op_type != "DequantizeLinear" for i in add.input if i in producers)
    assert int8.graph.node[-1].op_type == "Clip"  # the float tail keeps its clip
    # "last" + "tail": the pixel shuffle takes the float output of a float conv.
    recipe = QuantRecipe(keep_float=("last", "tail"))
    int8 = onnx.load_from_string(quantize_int8(data, cal, recipe))
    producers = {out: n for n in int8.graph.node for out in n.output}
    d2s = next(n for n in int8.graph.node if n.op_type == "DepthToSpace")
    assert producers[d2s.input[0]].op_type == "Conv"


def test_linear_resize_is_kept_in_float() -> None:
    class Bilinear(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.interpolate(x, scale_factor=4, mode="bilinear")

    model = onnx.load_from_string(onnx_export.export_fixed(Bilinear(), side=8))
    resize = next(n.name for n in model.graph.node if n.op_type == "Resize")
    assert resize in float_nodes(model, ())


def test_calibration_must_have_the_export_shape() -> None:
    _net, data, _cal = _float_and_calibration(side=24)
    wrong = calibration.as_batch(calibration.calibration_crops(None, side=32, count=2))
    with pytest.raises(ModelError, match="exactly the export shape"):
        quantize_int8(data, wrong, QuantRecipe())


@pytest.mark.skipif(not STUDENT_WEIGHTS.is_file(), reason="the shipped student is not here")
def test_int8_of_the_shipped_student_stays_close_on_real_photos() -> None:
    """Real weights, real photos (held-out crops + scikit-image's chelsea and rocket)."""
    net = get_model("mfagan").load()
    side = 48
    data = onnx_export.export_fixed(net, side=side)
    cal = calibration.as_batch(calibration.calibration_crops(None, side=side, count=16))
    extra = (SKIMAGE_DATA / "chelsea.png", SKIMAGE_DATA / "rocket.jpg")
    val = calibration.as_batch(calibration.validation_crops(side=side, extra=extra, per_photo=2))
    with torch.inference_mode():
        reference = net(torch.from_numpy(val)).clamp(0, 1).numpy()
    int8 = onnx_export.run_session(
        onnx_export.session(quantize_int8(data, cal, QuantRecipe())), val
    )
    result = measure(int8, reference, None, border=4)
    # Measured 49.8 dB mean at 128 px (docs/EXPORT.md); far below it means a broken graph.
    assert result.vs_float_db > 40.0, result
