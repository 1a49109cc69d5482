"""Helpers shared by tests (importable as ``support``: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.models.descriptor import ModelDescriptor


class NearestX4(nn.Module):
    """A 'model' whose exact output is known: nearest-neighbour x4."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(x, scale_factor=4, mode="nearest")


def make_descriptor(module: nn.Module, *, name: str = "nearest", scale: int = 4) -> ModelDescriptor:
    module.eval()
    return ModelDescriptor(
        name=name,
        title=name,
        architecture="test",
        scale=scale,
        in_channels=3,
        out_channels=3,
        size_multiple=1,
        config=None,
        trained=True,
        load=lambda: module,
        weights_id=lambda: hashlib.sha256(name.encode()).hexdigest(),
    )


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rgb_noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
