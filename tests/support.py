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


TINY_DISTILL_TOML = """
student = "b2-c16-g8-h11-conv-x4"
teacher = "{teacher}"
teacher_d_ndf = 8
student_d_ndf = 4

[data]
dirs = ["photos_a", "photos_b"]
hr_crop = 32
crops_per_image = 2
val_fraction = 0.3

[schedule]
steps = 8
teacher_d_steps = 2
warmup_steps = 3
batch_size = 2
val_every = 3
checkpoint_every = 2
"""


def tiny_distill_setup(root: Path) -> tuple[list[Path], Path]:
    """Four real photos in two folders, a 2-block RRDBNet teacher file and ``tiny.toml``.

    The real teacher needs seconds per crop; this one needs milliseconds and runs the same
    trainer code. Returns (photo folders, config file).
    """
    from PIL import Image
    from safetensors.torch import save_file
    from skimage import data as skdata

    from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

    folders = [root / "photos_a", root / "photos_b"]
    for index, name in enumerate(("astronaut", "chelsea", "coffee", "rocket")):
        folder = folders[index // 2]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(getattr(skdata, name)()[:96, :128]).save(folder / f"{name}.png")
    torch.manual_seed(0)
    teacher = RRDBNet(RRDBNetConfig(num_block=2, num_feat=8, num_grow_ch=4))
    state = {k: v.contiguous() for k, v in teacher.state_dict().items()}
    save_file(state, str(root / "teacher.safetensors"))
    config = root / "tiny.toml"
    config.write_text(TINY_DISTILL_TOML.format(teacher=root / "teacher.safetensors"))
    return folders, config
