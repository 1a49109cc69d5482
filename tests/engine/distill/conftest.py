"""A tiny but real distillation setup: photos, a small RRDBNet teacher file, a fast config."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import tiny_distill_setup

from engine.distill.config import DistillConfig, load_config


@pytest.fixture(autouse=True)
def _one_thread_for_every_distill_test(one_torch_thread: None) -> None:
    """Tiny nets run 10-50x slower with 2 OpenMP threads on a busy 2-core machine."""


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four real photos (two folders), a 2-block RRDBNet teacher file and tiny.toml."""
    root = tmp_path_factory.mktemp("tiny_distill")
    tiny_distill_setup(root)
    return root


@pytest.fixture
def tiny_config(tiny_root: Path) -> DistillConfig:
    return load_config(tiny_root / "tiny.toml")
