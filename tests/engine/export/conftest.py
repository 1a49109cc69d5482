"""A tiny trained-looking MFA student registered as a user model, and a fast export request."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.distill.export import save_student
from engine.export.request import ExportRequest
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.registry import user_models_dir

TINY = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(True, False))
SIDE = 32  # LR tile side of the tests' exports: 8 held-out crops, milliseconds each


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Tiny nets run much slower with 2 OpenMP threads on a busy 2-core machine."""


@pytest.fixture
def tiny_model() -> str:
    """Name of a 2-block MFA student (random weights) registered in the test's data dir."""
    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    save_student(folder / "tiny.safetensors", MFAGenerator(TINY, seed=3))
    return "tiny"


@pytest.fixture
def request_for(tmp_path: Path, tiny_model: str):
    def make(*formats: str, **changes) -> ExportRequest:
        fields = {
            "model": tiny_model,
            "formats": formats,
            "out_dir": tmp_path / "bundle",
            "size": SIDE,
            "teacher": "bicubic",  # a cheap but real reference model
            "calibration_count": 8,
        }
        return ExportRequest(**(fields | changes))

    return make
