"""A tiny supernet (trained 2 steps on 4 small photos with a 2-block teacher), a fake adb on
PATH and the fake AI Hub: the whole wizard runs in seconds on the real engine code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from safetensors.torch import load_file
from support import make_descriptor, tiny_distill_setup

from desktop_app.phone.jobs import WizardSetup
from engine.distill.teacher_net import rrdbnet_from_state
from engine.models import registry
from engine.nas.evolution import EvolutionSettings
from engine.nas.valset import PatchPlan
from tests.fake_adb import install_fake_adb
from tests.fake_qai_hub import FakeHub

TINY_SPACE = """
[space]
blocks = [2, 3]
widths = [16, 24]
inner_widths = [8, 16]
downsamples = ["conv"]
"""


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Photos, teacher and a 2-step supernet under one session folder (trained once)."""
    from engine.cli import main

    root = tmp_path_factory.mktemp("tiny-supernet")
    previous = os.environ.get("MFAGAN_CACHE_DIR")
    os.environ["MFAGAN_CACHE_DIR"] = str(tmp_path_factory.getbasetemp() / "cache")
    try:
        _, config = tiny_distill_setup(root)
        text = config.read_text().replace('"b2-c16-g8-h11-conv-x4"', '"b3-c24-g16-h111-conv-x4"')
        toml = root / "supernet.toml"
        toml.write_text(text.replace("steps = 8", "steps = 2") + TINY_SPACE)
        args = ["supernet", "train", "--config", str(toml), "--out", str(root / "run"), "--quiet"]
        assert main(args) == 0
    finally:
        if previous is None:
            os.environ.pop("MFAGAN_CACHE_DIR", None)
        else:
            os.environ["MFAGAN_CACHE_DIR"] = previous
    return root


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def setup(tiny_run: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> WizardSetup:
    teacher_file = tiny_run / "teacher.safetensors"
    teacher = make_descriptor(rrdbnet_from_state(load_file(str(teacher_file))), name="teacher")
    real = registry.get_model
    # The registry would read a 2-block RRDBNet file's widths wrong: hand it over as is.
    monkeypatch.setattr(
        registry, "get_model", lambda name: teacher if name == str(teacher_file) else real(name)
    )
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(tiny_run / "no-token.ini"))
    return WizardSetup(
        supernet=tiny_run / "run" / "supernet.safetensors",
        teacher=str(teacher_file),
        patches=PatchPlan(count=2, size=16),
        evolution=EvolutionSettings(population=6, candidates=12),
        photos=(tiny_run / "photos_a", tiny_run / "photos_b"),
        hub=lambda: hub,
        export_teacher="bicubic",
        compare_side=24,
    )


@pytest.fixture
def fake_adb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Snapdragon 865 phone on a fake adb."""
    report = install_fake_adb(tmp_path, monkeypatch)
    report(devices="R58M123456\\tdevice\\n", soc="SM8250", platform="kona", model="Pixel Test")
