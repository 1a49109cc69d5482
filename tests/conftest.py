"""Shared fixtures for engine tests: isolated caches, real photos, tiny known models."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata
from support import NearestX4, make_descriptor

from engine.models.descriptor import ModelDescriptor


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never touch the user's real cache or data folder from a test."""
    root = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("MFAGAN_DATA_DIR", str(root / "data"))


@pytest.fixture
def nearest_descriptor() -> ModelDescriptor:
    return make_descriptor(NearestX4())


@pytest.fixture
def astronaut_png(tmp_path: Path) -> Path:
    """A real photo (public domain, bundled by scikit-image), cropped small for speed."""
    path = tmp_path / "astronaut.png"
    Image.fromarray(skdata.astronaut()[80:144, 160:240]).save(path)
    return path
