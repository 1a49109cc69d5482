"""Publishing a supernet: measured card, portable command, precision choice, loadable file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.nas.publish import portable_command
from engine.nas.supernet import load_supernet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_publish_writes_a_measured_card(
    tmp_path: Path, capsys, tiny_teacher_for_eval, tiny_supernet_toml
) -> None:
    config = tiny_supernet_toml
    config.write_text(config.read_text().replace("steps = 8", "steps = 2"))
    eval_dir = tiny_teacher_for_eval(tmp_path / "teacher.safetensors", tmp_path / "Set2")
    run = tmp_path / "run"
    assert main(["supernet", "train", "--config", str(config), "--out", str(run), "--quiet"]) == 0
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
