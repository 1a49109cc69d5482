"""TorchScript (traced) for PyTorch Mobile / ExecuTorch-era apps and C++ hosts.

Traced at exactly the export shape, with the output clipped to [0, 1] like every phone file:
the tracer records the nearest-resize sizes as constants, so the file is only promised (and
only checked) at that shape. Loading it back needs no Python source (unlike ``torch.load``
of a pickled module) and executes no pickled code.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from torch import nn

from engine.errors import ModelError
from engine.export.onnx import ClippedOutput


def trace(module: nn.Module, *, side: int, in_channels: int = 3) -> bytes:
    """Serialized ``torch.jit`` archive of ``ClippedOutput(module)`` traced at (1, C, S, S)."""
    dummy = torch.rand(1, in_channels, side, side)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # torch.jit's deprecation and tracer warnings: the result is verified afterwards.
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(ClippedOutput(module).eval(), (dummy,), check_trace=False)
            torch.jit.save(traced, buffer)
    except Exception as error:
        text = str(error).strip().splitlines()
        raise ModelError(f"cannot trace to TorchScript ({text[0] if text else error!r})") from None
    return buffer.getvalue()


class TorchScriptRunner:
    """Runs a TorchScript archive on NCHW batches, one image at a time."""

    def __init__(self, archive: bytes) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._module = torch.jit.load(io.BytesIO(archive), map_location="cpu").eval()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            outputs = [self._module(torch.from_numpy(batch[i : i + 1])) for i in range(len(batch))]
        return torch.cat(outputs).numpy()
