"""ONNX fp32 for phones (fixed input shape) and desktops (dynamic height and width).

The desktop file is the onnxruntime backend's own export (``engine.inference.backends``:
dynamic axes, checked against PyTorch at a second size), copied with its IR version pinned.
The phone file is traced at exactly the export shape, because phone runtimes (ONNX Runtime
Mobile with NNAPI/QNN, AI Hub's compiler) plan memory and pick kernels for static shapes; it
ends in a clip to [0, 1], which an app would do anyway and which gives INT8 a known output
range.

IR version: ``onnx`` 1.23 stamps IR 14 on what it saves; onnxruntime before 1.24 reads at
most IR 13 and phone builds lag behind the desktop. Every file we write is stamped with the
IR version that belongs to its opset (IR 8 for opset 17), which every runtime since 2022 reads.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from engine.errors import ModelError
from engine.inference.backends import ONNX_OPSET, ensure_onnx
from engine.models.descriptor import ModelDescriptor

# Opset 17 was introduced with IR version 8 (onnx 1.12); see onnx/helper.py VERSION_TABLE.
ONNX_IR_VERSION = 8
INPUT_NAME, OUTPUT_NAME = "input", "output"


class ClippedOutput(nn.Module):
    """The network with its output clipped to the displayable range [0, 1]."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.module(x), 0.0, 1.0)


def pin_ir_version(model: onnx.ModelProto) -> onnx.ModelProto:
    """Stamp the IR version of opset 17 (see module docstring); returns the same proto."""
    model.ir_version = ONNX_IR_VERSION
    return model


def export_fixed(module: nn.Module, *, side: int, in_channels: int = 3) -> bytes:
    """Serialized ONNX of ``ClippedOutput(module)`` traced at (1, C, side, side)."""
    dummy = torch.rand(1, in_channels, side, side)
    target = ClippedOutput(module).eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            # The TorchScript exporter's deprecation and tracer warnings: every export is
            # verified against PyTorch afterwards, so they would only be noise.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                target,
                (dummy,),
                buffer,
                dynamo=False,
                opset_version=ONNX_OPSET,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
            )
    except Exception as error:
        raise ModelError(f"cannot export to ONNX ({_first_line(error)})") from error
    model = onnx.load_from_string(buffer.getvalue())
    return pin_ir_version(model).SerializeToString()


def export_dynamic(descriptor: ModelDescriptor) -> bytes:
    """The backend's verified dynamic-shape export, IR version pinned (no clip: desktops
    clamp when they convert to 8 bits, exactly as the app does)."""
    model = onnx.load(str(ensure_onnx(descriptor)))
    return pin_ir_version(model).SerializeToString()


def session(model: bytes | Path, *, threads: int = 1) -> ort.InferenceSession:
    """A CPU onnxruntime session (quiet: failures arrive as exceptions, not stderr lines)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 4
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def run_session(sess: ort.InferenceSession, batch: np.ndarray) -> np.ndarray:
    """Run an NCHW batch one image at a time (fixed-shape graphs take batch 1)."""
    name = sess.get_inputs()[0].name
    outputs = [sess.run(None, {name: batch[i : i + 1]})[0] for i in range(len(batch))]
    return np.concatenate(outputs)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
