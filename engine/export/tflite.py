"""TFLite (LiteRT) float and INT8 through ``litert-torch``, checked in the LiteRT interpreter.

Both packages are optional (``pip install 'mfagan-studio[phone]'``: about 1 GB of jax,
transformers and friends beside torch); without them ``--format tflite`` says so in one line.

The file takes and returns NHWC float32 in [0, 1] (channel-last is what Android bitmaps,
LiteRT's GPU delegate and NPUs work in; litert-torch would otherwise put transposes at both
ends), and ends in a clip to [0, 1].

``torch.add(x, y, alpha=a)`` (the student's scaled residual) has no lowering in litert-torch
0.10; the graph is traced with torch.fx and rewritten to ``x + y * a``, the same function.
INT8 is PT2E static quantization with litert-torch's quantizer: int8 weights per output
channel, int8 activations calibrated on photo crops at the export shape.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import operator
import os
import sys
from collections.abc import Iterator

import numpy as np
import torch
import torch.fx as fx
from torch import nn

from engine.errors import ModelError, UsageError
from engine.export.onnx import ClippedOutput

INSTALL_HINT = "pip install 'mfagan-studio[phone]' (litert-torch and ai-edge-litert, about 1 GB)"


def missing_reason() -> str | None:
    """Why TFLite export cannot run here, or None when it can (finds, does not import)."""
    for module in ("litert_torch", "ai_edge_litert"):
        if importlib.util.find_spec(module) is None:
            return (
                f"TFLite export needs litert-torch and ai-edge-litert ({module} is missing): "
                + (INSTALL_HINT)
            )
    return None


def require() -> None:
    reason = missing_reason()
    if reason is not None:
        raise UsageError(reason)


def without_alpha(module: nn.Module) -> nn.Module:
    """``module`` with every ``add(x, y, alpha=a)`` rewritten as ``x + y * a``.

    Modules torch.fx cannot trace are returned unchanged (they may not use alpha at all).
    """
    try:
        graph_module = fx.symbolic_trace(module)
    except Exception:
        return module
    graph = graph_module.graph
    for node in list(graph.nodes):
        alpha = node.kwargs.get("alpha")
        is_add = (node.op == "call_function" and node.target in (torch.add, operator.add)) or (
            node.op == "call_method" and node.target in ("add", "add_")
        )
        if alpha is None or not is_add:
            continue
        base, other = node.args[:2]
        with graph.inserting_before(node):
            scaled = graph.call_function(operator.mul, (other, alpha))
        node.args = (base, scaled, *node.args[2:])
        node.kwargs = {k: v for k, v in node.kwargs.items() if k != "alpha"}
    graph.lint()
    graph_module.recompile()
    return graph_module


class _ChannelLast(nn.Module):
    """NHWC in, NHWC out around an NCHW network (clipped to [0, 1])."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = ClippedOutput(without_alpha(module))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """litert-torch, jax and absl print stage timings and logs from Python and from C++ on
    file descriptors 1 and 2; keep the user's terminal (and the progress bar) clean."""
    logging.getLogger("absl").setLevel(logging.ERROR)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def convert_float(module: nn.Module, *, side: int, in_channels: int = 3) -> bytes:
    """Float32 .tflite bytes of ``module`` at (1, side, side, C) NHWC."""
    require()
    sample = (torch.rand(1, side, side, in_channels),)
    try:
        with _quiet():
            import litert_torch

            edge = litert_torch.convert(_ChannelLast(module).eval(), sample)
            return edge.model_content()  # serializing prints its own progress lines
    except Exception as error:
        raise ModelError(f"litert-torch cannot convert this model ({_first_line(error)})") from None


def convert_int8(module: nn.Module, calibration: np.ndarray) -> bytes:
    """INT8 .tflite bytes, calibrated on ``calibration`` (NCHW batch at the export shape)."""
    require()
    with _quiet():  # importing them prints absl and jax notices from C++
        import litert_torch
        from litert_torch.quantize import pt2e_quantizer
        from litert_torch.quantize.quant_config import QuantConfig
        from torchao.quantization.pt2e import quantize_pt2e

    nhwc = torch.from_numpy(np.ascontiguousarray(calibration.transpose(0, 2, 3, 1)))
    sample = (nhwc[:1],)
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True)
    )
    try:
        with _quiet():
            graph = torch.export.export(_ChannelLast(module).eval(), sample).module()
            prepared = quantize_pt2e.prepare_pt2e(graph, quantizer)
            with torch.no_grad():
                for index in range(len(nhwc)):
                    prepared(nhwc[index : index + 1])
            converted = quantize_pt2e.convert_pt2e(prepared, fold_quantize=False)
            edge = litert_torch.convert(
                converted, sample, quant_config=QuantConfig(pt2e_quantizer=quantizer)
            )
            return edge.model_content()
    except Exception as error:
        raise ModelError(
            f"litert-torch cannot quantize this model ({_first_line(error)})"
        ) from None


class LiteRTRunner:
    """Runs a .tflite file in the LiteRT interpreter (XNNPACK) on NCHW batches."""

    def __init__(self, model: bytes, *, threads: int = 1) -> None:
        require()
        with _quiet():
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_content=model, num_threads=threads)
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self._input["shape"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        outputs = []
        for image in batch:
            nhwc = np.ascontiguousarray(image.transpose(1, 2, 0)[None], dtype=np.float32)
            self._interpreter.set_tensor(self._input["index"], nhwc)
            self._interpreter.invoke()
            outputs.append(
                self._interpreter.get_tensor(self._output["index"])[0].transpose(2, 0, 1)
            )
        return np.stack(outputs)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
