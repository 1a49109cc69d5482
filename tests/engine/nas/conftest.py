"""A tiny supernet setup (photos, a 2-block RRDBNet teacher file, a small search space) and
a tiny teacher for ``mfagan eval``."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata
from support import NearestX4, make_descriptor, tiny_distill_setup

from engine.models import registry

TINY_SPACE = """
[space]
blocks = [2, 3]
widths = [16, 24]
inner_widths = [8, 16]
downsamples = ["conv"]
"""


@pytest.fixture
def tiny_supernet_toml(tmp_path: Path) -> Path:
    """Photos and teacher under ``tmp_path``; the supernet config file (8 steps)."""
    _, config = tiny_distill_setup(tmp_path)
    text = config.read_text().replace('"b2-c16-g8-h11-conv-x4"', '"b3-c24-g16-h111-conv-x4"')
    path = tmp_path / "supernet.toml"
    path.write_text(text + TINY_SPACE)
    return path


@pytest.fixture
def tiny_teacher_for_eval(monkeypatch: pytest.MonkeyPatch):
    """``mfagan eval`` gets a nearest-x4 stand-in for the run's tiny teacher file (probing a
    real RRDBNet's receptive field costs seconds per image). Call it with the teacher file
    and an eval folder to fill; returns the folder."""

    def patch(teacher_file: Path, eval_dir: Path) -> Path:
        teacher = make_descriptor(NearestX4(), name="teacher")
        real = registry.get_model
        monkeypatch.setattr(
            registry,
            "get_model",
            lambda name: teacher if name == str(teacher_file) else real(name),
        )
        eval_dir.mkdir(exist_ok=True)
        for name in ("camera", "coffee"):
            Image.fromarray(getattr(skdata, name)()[:64, :48]).save(eval_dir / f"{name}.png")
        return eval_dir

    return patch
