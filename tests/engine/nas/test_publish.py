"""Publishing a supernet: measured card, portable command, precision choice, loadable file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from safetensors.torch import load_file
from skimage import data as skdata
from support import make_descriptor, tiny_distill_setup

from engine.cli import main
from engine.distill.teacher_net import rrdbnet_from_state
from engine.models import registry
from engine.nas.publish import portable_command
from engine.nas.supernet import load_supernet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = """
[space]
blocks = [2, 3]
widths = [16, 24]
inner_widths = [8, 16]
downsamples = ["conv"]
"""


def test_publish_writes_a_measured_card(tmp_path: Path, capsys, monkeypatch) -> None:
    _, config = tiny_distill_setup(tmp_path)
    # The tiny RRDBNet file is the teacher of the run; eval gets it as a plain module.
    teacher_file = str(tmp_path / "teacher.safetensors")
    teacher = make_descriptor(rrdbnet_from_state(load_file(teacher_file)), name="teacher")
    real = registry.get_model
    monkeypatch.setattr(
        registry, "get_model", lambda name: teacher if name == teacher_file else real(name)
    )
    text = config.read_text().replace('"b2-c16-g8-h11-conv-x4"', '"b3-c24-g16-h111-conv-x4"')
    (tmp_path / "supernet.toml").write_text(text.replace("steps = 8", "steps = 2") + TINY)
    run = tmp_path / "run"
    args = ["supernet", "train", "--config", str(tmp_path / "supernet.toml"), "--out", str(run)]
    assert main([*args, "--quiet"]) == 0
    eval_dir = tmp_path / "Set2"
    eval_dir.mkdir()
    for name in ("camera", "coffee"):
        Image.fromarray(getattr(skdata, name)()[:64, :48]).save(eval_dir / f"{name}.png")
    models = tmp_path / "models"
    publish = ["supernet", "publish", str(run), "--eval", str(eval_dir)]
    assert main([*publish, "--models-dir", str(models), "--quiet"]) == 0
    assert "Set2 b3-c24-g16-h111-conv-x4: fidelity" in capsys.readouterr().out
    card = json.loads((models / "mfagan-supernet.json").read_text())
    subnets = card["evaluation"]["Set2"]["subnets"]
    assert next(iter(subnets)) == "b3-c24-g16-h111-conv-x4" and len(subnets) == 4
    assert all(s["psnr_teacher"] > 0 for s in subnets.values())
    sizes = card["precision_choice"]["file_bytes"]
    assert sizes["float16"] < 0.6 * sizes["float32"]
    assert card["training"]["data"] == ["photos_a", "photos_b"]
    assert str(tmp_path) not in json.dumps(card)
    assert card["precision"] == "float16"  # tiny and untrained: fp16 changes nothing measurable
    load_supernet(models / "mfagan-supernet.safetensors")


def test_portable_command() -> None:
    command = "mfagan supernet train --config /x/y/r.toml --data /d/T91 --out /r/run --quiet"
    assert portable_command(command, ["/d/T91"], Path("/r/run")) == (
        "mfagan supernet train --config r.toml --data DATASETS/T91 --out RUN --quiet"
    )
