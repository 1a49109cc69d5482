"""Helpers for the desktop app tests (import as ``tests.desktop_app.helpers``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata

# The teacher needs minutes per photo on a CPU; bicubic runs the same pipeline in milliseconds.
FAST_MODEL = "bicubic"
WAIT_MS = 60_000  # generous: the test machine is shared and slow


def save_photo(path: Path, name: str = "astronaut", *, box: tuple[int, int] = (48, 64)) -> Path:
    """A real photo (scikit-image's public-domain set), cropped small for speed."""
    pixels = getattr(skdata, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=2)
    height, width = box
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[100 : 100 + height, 100 : 100 + width]).save(path)
    return path


TINY_TOML = """
student = "b2-c16-g8-h11-conv-x4"
teacher = "{teacher}"
teacher_d_ndf = 8
student_d_ndf = 4

[data]
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
    """Four real photos in two folders, a 2-block RRDBNet teacher file and a fast config.

    The real teacher needs seconds per crop; this one needs milliseconds and runs the same
    trainer code. Returns (photo folders, config file).
    """
    import torch
    from safetensors.torch import save_file

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
    config.write_text(TINY_TOML.format(teacher=root / "teacher.safetensors"))
    return folders, config
