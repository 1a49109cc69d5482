"""Bicubic interpolation as a model: the baseline in every comparison."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BicubicUpsampler(nn.Module):
    """Bicubic upscaling by ``scale`` (Keys a=-0.75, half-pixel centres), clamped to [0, 1].

    Exports to ONNX as a single cubic ``Resize`` plus ``Clip``; the clamp removes the
    overshoot bicubic produces at sharp edges, which would otherwise wrap when quantised.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        if scale < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return out.clamp(0.0, 1.0)
