"""Publishing a finished run as the shipped student: measured card, picture, README table."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata
from support import make_descriptor

import engine.models.registry as registry
from engine.cli import main
from engine.distill.config import DistillConfig
from engine.distill.publish import (
    END_MARKER,
    PICTURE_CROP,
    START_MARKER,
    PublishRequest,
    detailed_window,
    judge,
    publish,
    render_table,
)
from engine.distill.report import LABEL_HEIGHT
from engine.distill.trainer import DistillRequest, distill
from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Finished, Progress
from engine.files import TEMP_SUFFIX
from engine.measure.evaluate import DEFAULT_TEACHER
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

SHIPPED_ENDS = (".safetensors", "-d.safetensors", ".json")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory, tiny_root: Path) -> Path:
    from engine.distill.config import load_config

    config: DistillConfig = load_config(tiny_root / "tiny.toml")
    out = tmp_path_factory.mktemp("publish") / "run"
    for event in distill(DistillRequest(config=config, out_dir=out, command="mfagan distill x")):
        if isinstance(event, Finished):
            return out
    raise AssertionError("the run did not finish")


@pytest.fixture
def request_for(tmp_path: Path, finished_run: Path, monkeypatch: pytest.MonkeyPatch):
    # A 2-block RRDBNet "teacher" keeps the test fast; the student is the run's real file.
    torch.manual_seed(0)
    net = RRDBNet(RRDBNetConfig(num_block=2, num_feat=8, num_grow_ch=4))
    teacher = make_descriptor(net, name="teacher")
    real = registry.get_model
    monkeypatch.setattr(
        registry, "get_model", lambda name: teacher if name == "teacher" else real(name)
    )
    testset = tmp_path / "Tiny5"
    testset.mkdir()
    Image.fromarray(skdata.camera()[:64, :72]).save(testset / "camera.png")
    Image.fromarray(skdata.coffee()[100:164, 200:268]).save(testset / "coffee.png")
    photo = tmp_path / "photo.png"
    Image.fromarray(skdata.astronaut()[:256, :240]).save(photo)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{START_MARKER}\nold table\n{END_MARKER}\nafter\n")

    def make(**changes) -> PublishRequest:
        base = PublishRequest(
            run_dir=finished_run,
            datasets=(testset,),
            pictures=(photo,),
            models_dir=tmp_path / "models",
            picture_out=tmp_path / "docs" / "side.png",
            readme=readme,
            teacher="teacher",
            command="mfagan publish run",
        )
        return dataclasses.replace(base, **changes)

    return make


def _result(request: PublishRequest, cancel: CancelToken | None = None):
    return next(e.result for e in publish(request, cancel=cancel) if isinstance(e, Finished))


def test_publish_writes_student_card_picture_and_readme(request_for, finished_run: Path):
    request = request_for()
    result = _result(request)
    models = request.models_dir
    assert result.student == models / "mfagan-x4.safetensors"
    best = finished_run / "student_best.safetensors"
    assert result.student.read_bytes() == best.read_bytes()
    assert (models / "mfagan-x4-d.safetensors").read_bytes() == (
        finished_run / "student_best-d.safetensors"
    ).read_bytes()

    card = json.loads((models / "mfagan-x4.json").read_text())
    run_card = json.loads((finished_run / "student_best.json").read_text())
    assert card["config"] == run_card["config"] and card["training"] == run_card["training"]
    assert card["name"] == "mfagan" and card["weights"] == "mfagan-x4.safetensors"
    scores = card["evaluation"]["Tiny5"]
    assert scores["images"] == 2
    gain = scores["student"]["psnr_teacher"] - scores["bicubic"]["psnr_teacher"]
    assert scores["goals"]["fidelity_gain_db"] == pytest.approx(gain, abs=1e-3)
    assert scores["goals"]["fidelity_gain_met"] == (gain >= 3.0)
    margin = scores["student"]["psnr_gt"] - scores["teacher"]["psnr_gt"]
    assert scores["goals"]["psnr_gt_met"] == (margin >= 0)
    damaged = card["evaluation"]["Tiny5 damaged"]
    assert damaged["images"] == 2 and "real-world damage" in damaged["protocol"]
    damaged_gain = damaged["student"]["psnr_teacher"] - damaged["bicubic"]["psnr_teacher"]
    assert damaged["goals"]["fidelity_gain_db"] == pytest.approx(damaged_gain, abs=1e-3)
    # On damaged inputs the teacher restores what the ground truth never lost: no GT goal.
    assert damaged["goals"]["psnr_gt_met"] is None
    assert damaged["bicubic"]["psnr_gt"] < scores["bicubic"]["psnr_gt"]
    assert result.goals_met == (gain >= 3.0 and margin >= 0 and damaged_gain >= 3.0)
    assert card["teacher_macs"] > card["cost"]["macs"] > 0
    assert card["published"]["command"] == "mfagan publish run"
    phone = card["predicted_latency"]
    assert phone["device"] == "Snapdragon 865" and phone["macs"] == card["cost"]["macs"]
    assert phone["gpu"]["low_ms"] <= phone["gpu"]["ms"] <= phone["gpu"]["high_ms"]

    with Image.open(request.picture_out) as picture:
        # One photo, clean and damaged: two rows.
        assert picture.size == (5 * PICTURE_CROP, LABEL_HEIGHT + 2 * PICTURE_CROP)
    text = request.readme.read_text()
    assert text.startswith("# x\n\nbefore\n") and text.endswith(f"{END_MARKER}\nafter\n")
    assert "old table" not in text
    assert "| Tiny5 | student |" in text and "](docs/side.png)" in text
    assert "| Tiny5 damaged | student |" in text and "Tiny5 damaged: fidelity" in text
    assert f"GPU {phone['gpu']['ms']:.1f} ms" in text


def test_an_unfinished_run_is_refused(request_for, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no finished run"):
        _result(request_for(run_dir=empty))


def test_cancel_writes_nothing(request_for):
    request = request_for()
    cancel = CancelToken()
    with pytest.raises(Cancelled):
        for event in publish(request, cancel=cancel):
            if isinstance(event, Progress) and event.stage == "picture":
                cancel.cancel()
    assert not request.models_dir.exists()
    assert not request.picture_out.exists()
    assert "old table" in request.readme.read_text()


def test_detailed_window_finds_the_textured_part():
    rng = np.random.default_rng(0)
    image = np.full((64, 128, 3), 120, np.uint8)
    image[:, 96:] = rng.integers(0, 255, (64, 32, 3), dtype=np.uint8)
    top, left = detailed_window(image, 32)
    assert top in (0, 16, 32) and left == 96
    with pytest.raises(UsageError, match="smaller than"):
        detailed_window(image, 100)


def test_the_table_tells_every_run_behind_a_fine_tuned_student():
    def training(steps: int, command: str) -> dict:
        return {"steps": steps, "data": ["/d/T91", "/d/BSDS200"], "command": command}

    card = {
        "config": "b2-c8-g8-h11-conv-x4",
        "cost": {"macs": 10, "params": 1234},
        "teacher_macs": 1000,
        "training": training(200, "mfagan distill --init first.safetensors"),
        "init": {
            "weights": "first.safetensors",
            "weights_sha256": "ab" * 32,
            "training": training(3000, "mfagan distill --config a.toml"),
            "init": {"weights": "someone.safetensors", "weights_sha256": "cd" * 32},
        },
        "evaluation": {
            "Set5": {
                "protocol": "modcrop 4",
                "bicubic": {
                    "psnr_gt": 1.0,
                    "ssim_gt": 0.1,
                    "psnr_teacher": 1.0,
                    "ssim_teacher": 0.1,
                },
                "teacher": {
                    "psnr_gt": 2.0,
                    "ssim_gt": 0.2,
                    "psnr_teacher": None,
                    "ssim_teacher": None,
                },
                "student": {
                    "psnr_gt": 3.0,
                    "ssim_gt": 0.3,
                    "psnr_teacher": 5.0,
                    "ssim_teacher": 0.5,
                },
                "goals": judge(
                    {
                        "bicubic": {"psnr_teacher": 1.0, "psnr_gt": 1.0},
                        "teacher": {"psnr_gt": 2.0},
                        "s": {"psnr_teacher": 5.0, "psnr_gt": 3.0},
                    },
                    "s",
                    "teacher",
                ),
            }
        },
        "published": {"command": "mfagan publish run", "date": "2026-11-30"},
    }
    first_line = render_table(card).splitlines()[0]
    assert (
        "started from `someone.safetensors` (sha256 cdcdcdcdcdcd…), "
        "then fine-tuned for 3000 steps on T91, BSDS200 (`mfagan distill --config a.toml`), "
        "then fine-tuned for 200 steps on T91, BSDS200 "
        "(`mfagan distill --init first.safetensors`). Protocols: Set5: modcrop 4."
    ) in first_line
    assert "1,234 parameters, 100× fewer MACs" in first_line
    plain = {k: v for k, v in card.items() if k != "init"}
    assert "; trained for 200 steps on T91, BSDS200 (`mfagan" in render_table(plain)


def test_lr_folders_are_scored_for_fidelity_only(request_for, tmp_path: Path):
    inputs = tmp_path / "Phone"
    inputs.mkdir()
    Image.fromarray(skdata.chelsea()[:40, :44]).save(inputs / "cat.jpg", quality=40)
    result = _result(request_for(degrade=("bicubic",), lr_dirs=(inputs,), pictures=()))
    assert list(result.evaluation) == ["Tiny5", "Phone (LR as given)"]
    phone = result.evaluation["Phone (LR as given)"]
    assert phone["student"]["psnr_gt"] is None and phone["goals"]["psnr_gt_met"] is None
    assert phone["student"]["psnr_teacher"] is not None


def _publish_cli(request: PublishRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """``mfagan publish`` on ``request``'s files, with its tiny teacher as the default one."""
    tiny = registry.get_model("teacher")
    real = registry.get_model
    monkeypatch.setattr(
        registry, "get_model", lambda name: tiny if name == DEFAULT_TEACHER else real(name)
    )
    folders = ["--models-dir", str(request.models_dir), "--picture-out", str(request.picture_out)]
    return main(
        [
            *("publish", str(request.run_dir), "--eval", str(request.datasets[0])),
            *("--degrade", "bicubic", "--picture", str(request.pictures[0]), *folders),
            *("--readme", str(request.readme), "--quiet"),
        ]
    )


def _full_disk_on(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """ENOSPC when the data of ``name`` (under any temporary name) reaches the disk."""
    real_open, opened = os.open, {}

    def recording_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = Path(path).name
        return fd

    def fsync(fd: int) -> None:
        if name in opened.get(fd, ""):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "open", recording_open)
    monkeypatch.setattr(os, "fsync", fsync)


def _read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """No file can be created in ``folder`` (a mount gone read-only after the checks;
    faked: permission bits do not stop root)."""
    real_open = os.open

    def read_only_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and Path(path).parent == folder:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)


@pytest.mark.parametrize(
    ("case", "failing"),
    [
        ("full disk", "side.png"),  # the first file written
        ("full disk", "mfagan-x4.json"),  # after the weights
        ("full disk", "README.md"),  # the last
        ("read-only", "mfagan-x4.safetensors"),
        ("read-only", "README.md"),  # its folder went read-only after the checks
    ],
)
def test_a_publish_that_cannot_write_is_one_line_exit_1_and_changes_nothing(
    case: str, failing: str, request_for, tmp_path: Path, monkeypatch, capsys
):
    """Issue 19: the shipped student, its card, picture and README stay as they were (no
    new weights beside an old card), and no temporary is left."""
    request = request_for()
    shipped = [request.models_dir / f"mfagan-x4{end}" for end in SHIPPED_ENDS]
    request.models_dir.mkdir()
    request.picture_out.parent.mkdir()
    before = {}
    for path in (*shipped, request.picture_out, request.readme):
        if not path.exists():
            path.write_bytes(f"old {path.name}".encode())
        before[path] = path.read_bytes()
    target = next(p for p in before if p.name == failing)
    if case == "full disk":
        _full_disk_on(monkeypatch, failing)
        reason = "no space left on device"
    else:
        _read_only(monkeypatch, target.parent)
        reason = "read-only file system"
    assert _publish_cli(request, monkeypatch) == 1
    assert capsys.readouterr().err == f"error: {target}: cannot write it ({reason})\n"
    assert {path: path.read_bytes() for path in before} == before
    assert [p for p in tmp_path.rglob("*") if p.name.endswith(TEMP_SUFFIX)] == []


def test_the_cli_publishes_when_it_can_write(request_for, monkeypatch, capsys):
    request = request_for()
    assert _publish_cli(request, monkeypatch) == 0
    assert "published" in capsys.readouterr().out
    assert all((request.models_dir / f"mfagan-x4{end}").is_file() for end in SHIPPED_ENDS)
    assert "| Tiny5 | student |" in request.readme.read_text()


def _no_scoring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the student is scored (minutes) before the outputs are checked."""
    import engine.distill.publish

    def refuse(*args, **kwargs):
        raise AssertionError("the student was scored before the outputs were checked")

    monkeypatch.setattr(engine.distill.publish, "evaluate", refuse)
    monkeypatch.setattr(engine.distill.publish, "run_files", refuse)


@pytest.mark.parametrize("case", ["read-only README", "README folder", "models folder"])
def test_outputs_that_cannot_be_written_are_refused_before_scoring(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    import engine.files

    docs, models = tmp_path / "docs", tmp_path / "models"
    docs.mkdir()
    readme = docs / "README.md"
    readme.write_text(f"# x\n{START_MARKER}\nold table\n{END_MARKER}\n")
    _no_scoring(monkeypatch)
    if case == "read-only README":
        readme.chmod(0o444)
        line = f"error: {readme}: cannot write it (read-only file)\n"
    else:  # a read-only mount, faked: permission bits do not stop root
        blocked = docs if case == "README folder" else tmp_path / "blocked"
        blocked.mkdir(exist_ok=True)
        models = models if case == "README folder" else blocked / "models"
        real = engine.files._read_only
        monkeypatch.setattr(engine.files, "_read_only", lambda path: path == blocked or real(path))
        where = f"{readme}: " if case == "README folder" else "--models-dir: "
        line = f"error: {where}cannot write in {blocked} (read-only file system)\n"
    code = main(
        [
            *("publish", str(tmp_path / "run"), "--eval", str(tmp_path), "--quiet"),
            *("--models-dir", str(models), "--picture-out", str(tmp_path / "side.png")),
            *("--readme", str(readme)),
        ]
    )
    assert (code, capsys.readouterr().err) == (2, line)
    assert "old table" in readme.read_text()
    assert not models.exists()
