"""Shared fixtures for engine tests: isolated caches, real photos, tiny known models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image
from skimage import data as skdata
from support import NearestX4, make_descriptor

from engine.models.descriptor import ModelDescriptor


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Never touch the user's real folders. The cache (converted teacher, ONNX exports) is
    shared by the session for speed; user data (registered models) is private to each test."""
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("MFAGAN_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def nearest_descriptor() -> ModelDescriptor:
    return make_descriptor(NearestX4())


@pytest.fixture
def astronaut_png(tmp_path: Path) -> Path:
    """A real photo (public domain, bundled by scikit-image), cropped small for speed."""
    path = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()[80:144, 160:240]).save(path)
    return path


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Tiny tensors run faster on one thread, above all on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
