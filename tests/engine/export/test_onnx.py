from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from engine.export import onnx as onnx_export
from engine.models.mfa import MFAGenerator
from engine.models.registry import get_model

from .conftest import TINY


def test_fixed_export_is_static_clipped_and_stamped_with_ir_8() -> None:
    net = MFAGenerator(TINY, seed=1).eval()
    data = onnx_export.export_fixed(net, side=24)
    model = onnx.load_from_string(data)
    assert model.ir_version == onnx_export.ONNX_IR_VERSION == 8
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [17]
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 24, 24]
    assert model.graph.node[-1].op_type == "Clip"
    x = np.random.default_rng(0).random((2, 3, 24, 24), dtype=np.float32) * 1.5
    got = onnx_export.run_session(onnx_export.session(data), x)
    with torch.inference_mode():
        expected = net(torch.from_numpy(x)).clamp(0, 1).numpy()
    assert np.abs(got - expected).max() < 1e-5
    assert got.min() >= 0.0 and got.max() <= 1.0


def test_ir_version_newer_than_onnxruntime_reads_is_pinned() -> None:
    """onnx 1.23 stamps IR 14 by default; older onnxruntime builds refuse above 13."""
    net = MFAGenerator(TINY, seed=1).eval()
    model = onnx.load_from_string(onnx_export.export_fixed(net, side=16))
    model.ir_version = onnx.IR_VERSION  # what a plain onnx.save of a new model would write
    assert onnx_export.pin_ir_version(model).ir_version == 8
    onnx_export.session(model.SerializeToString())  # loads


def test_dynamic_export_runs_at_any_size(tiny_model: str) -> None:
    descriptor = get_model(tiny_model)
    data = onnx_export.export_dynamic(descriptor)
    assert onnx.load_from_string(data).ir_version == 8
    session = onnx_export.session(data)
    x = np.random.default_rng(1).random((1, 3, 18, 26), dtype=np.float32)
    got = onnx_export.run_session(session, x)
    with torch.inference_mode():
        expected = descriptor.load()(torch.from_numpy(x)).numpy()
    assert got.shape == (1, 3, 72, 104)
    assert np.abs(got - expected).max() < 1e-5


def test_a_model_the_exporter_cannot_take_is_a_model_error() -> None:
    class NotTraceable(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.linalg.svd(x[0, 0])[0][None, None]  # no ONNX op for an SVD

    from engine.errors import ModelError

    with pytest.raises(ModelError, match="cannot export to ONNX"):
        onnx_export.export_fixed(NotTraceable(), side=8)
