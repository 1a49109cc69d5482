"""The distill and eval commands as a user types them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skdata
from support import NearestX4, make_descriptor

import engine.models.registry as registry
from engine.distill.__main__ import main
from engine.distill.export import load_student
from engine.paths import data_dir


def test_distill_steps_smoke(tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "run"
    args = ["distill", "--config", str(tiny_root / "tiny.toml"), "--steps", "3", "--out", str(out)]
    args += ["--teacher", str(tiny_root / "teacher.safetensors"), "--name", "cli-smoke", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "registered as 'cli-smoke'" in printed
    card = json.loads((data_dir() / "models" / "cli-smoke.json").read_text())
    assert card["training"]["steps"] == 3
    assert card["training"]["command"].startswith("mfagan ")
    # The card names no folder of this machine: data sets by name and digest, paths as $RUNS.
    assert str(tiny_root) not in json.dumps(card) and str(tmp_path) not in json.dumps(card)
    assert {d["name"] for d in card["training"]["data"]} <= {p.name for p in tiny_root.iterdir()}
    assert all(len(d["sha256"]) == 64 for d in card["training"]["data"])
    assert len(load_student(out / "student.safetensors").body) == 2
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["distill", "--steps", "2"], "no training data"),
        (["distill", "--init", "default", "--data", "."], "not shipped yet"),
        (["distill", "--data", ".", "--name", "bicubic"], "built-in model"),
        (["distill", "--data", ".", "--student-config", "b9"], "not an MFA config"),
    ],
)
def test_distill_usage_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
):
    monkeypatch.setattr(registry, "STUDENT_WEIGHTS", tmp_path / "missing.safetensors")
    assert main([*args, "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1



def test_a_models_folder_that_cannot_take_the_result_fails_before_training(
    tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
):
    import engine.distill.trainer as trainer

    models = data_dir() / "models"
    models.parent.mkdir(parents=True, exist_ok=True)
    models.write_text("a file, not a folder")
    monkeypatch.setattr(trainer, "distill", lambda *a, **k: pytest.fail("trained first"))
    out = tmp_path / "run"
    args = ["distill", "--config", str(tiny_root / "tiny.toml"), "--out", str(out)]
    assert main([*args, "--name", "blocked", "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert str(models) in error and "is a file" in error and len(error.splitlines()) == 1
    assert not out.exists() and models.read_text() == "a file, not a folder"


def test_eval_json(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch, astronaut_png: Path):
    teacher = make_descriptor(NearestX4(), name="teacher")
    monkeypatch.setattr(registry, "get_model", lambda name: teacher)
    code = main(["eval", "--dataset", str(astronaut_png.parent), "--teacher", "teacher", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["scores"]) == {"bicubic", "teacher"}
    assert report["images"] == ["astronaut.png"]
    assert 15 < report["scores"]["bicubic"]["psnr_gt"] < 40


def test_init_default_fine_tunes_the_shipped_student_with_its_discriminators(
    tiny_root: Path, tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture
):
    teacher = str(tiny_root / "teacher.safetensors")
    first = tmp_path / "first"
    args = ["distill", "--config", str(tiny_root / "tiny.toml"), "--teacher", teacher]
    assert main([*args, "--steps", "2", "--out", str(first), "--no-register", "--quiet"]) == 0
    monkeypatch.setattr(registry, "STUDENT_WEIGHTS", first / "student.safetensors")
    photos = tmp_path / "my_photos"
    photos.mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(skdata, name)()).save(photos / f"{name}.png")
    args = ["distill", "--init", "default", "--data", str(photos), "--teacher", teacher]
    args += ["--steps", "2", "--batch-size", "2", "--out", str(tmp_path / "tuned")]
    assert main([*args, "--name", "tuned-on-mine"]) == 0
    assert "discriminators initialised from" in capsys.readouterr().err
    card = json.loads((data_dir() / "models" / "tuned-on-mine.json").read_text())
    tuned = card["training"]["distill_config"]
    assert tuned["init"] == "default" and tuned["student"] == "b2-c16-g8-h11-conv-x4"
    assert (tuned["teacher_d_ndf"], tuned["student_d_ndf"]) == (8, 4)
    assert tuned["schedule"]["teacher_d_steps"] == 0 and tuned["data"]["hr_crop"] == 128
    assert tuned["data"]["teacher_context"] == 16  # the teacher sees around each crop
    shipped = (first / "student.safetensors").read_bytes()
    assert card["init"]["weights_sha256"] == hashlib.sha256(shipped).hexdigest()
    rows = (tmp_path / "tuned" / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[1] for r in rows[1:]] == ["gan", "gan"]


def test_publish_an_unfinished_run_is_a_one_line_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
):
    code = main(["publish", str(tmp_path), "--eval", str(tmp_path), "--quiet"])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert "no finished run" in error and len(error.splitlines()) == 1
