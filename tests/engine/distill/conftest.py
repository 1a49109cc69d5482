"""A tiny but real distillation setup: photos, a small RRDBNet teacher file, a fast config."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from skimage import data as skdata

from engine.distill.config import DistillConfig, load_config
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")

TINY_TOML = """
student = "b2-c16-g8-h11-conv-x4"
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


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four real photos (two folders), a 2-block RRDBNet teacher file and tiny.toml."""
    root = tmp_path_factory.mktemp("tiny_distill")
    for index, name in enumerate(PHOTOS):
        folder = root / ("photos_a" if index < 2 else "photos_b")
        folder.mkdir(exist_ok=True)
        Image.fromarray(getattr(skdata, name)()[:96, :128]).save(folder / f"{name}.png")
    torch.manual_seed(0)
    teacher = RRDBNet(RRDBNetConfig(num_block=2, num_feat=8, num_grow_ch=4))
    state = {k: v.contiguous() for k, v in teacher.state_dict().items()}
    save_file(state, str(root / "teacher.safetensors"))
    (root / "tiny.toml").write_text(TINY_TOML)
    return root


@pytest.fixture
def tiny_config(tiny_root: Path) -> DistillConfig:
    config = load_config(tiny_root / "tiny.toml")
    return dataclasses.replace(config, teacher=str(tiny_root / "teacher.safetensors"))


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny nets run 10-50x slower with 2 OpenMP threads on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
