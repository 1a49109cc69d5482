"""Checkpoints are atomic, and a run killed with SIGKILL resumes onto the same loss curve."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.distill.__main__ import main
from engine.distill.checkpoint import load_checkpoint, save_checkpoint

REPO = Path(__file__).resolve().parents[3]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"format": 1, "step": 4, "config": {}})

    def broken_save(state: dict, file) -> None:
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"format": 1, "step": 6, "config": {}})
    monkeypatch.undo()
    assert load_checkpoint(path, config={})["step"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def _step_of(path: Path) -> int:
    try:
        return int(torch.load(path, weights_only=True)["step"])
    except (OSError, RuntimeError, EOFError):
        return 0


def _losses(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(file)]


def test_kill_9_then_resume_continues_the_same_curve(tiny_root: Path, tmp_path: Path):
    common = [
        "--config",
        str(tiny_root / "tiny.toml"),
        "--teacher",
        str(tiny_root / "teacher.safetensors"),
    ]
    common += ["--no-register", "--quiet"]
    killed = tmp_path / "killed"
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "engine.distill", "distill", *common, "--steps", "5000"]
    process = subprocess.Popen([*command, "--out", str(killed)], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 120
        while _step_of(killed / "checkpoint.pt") < 4:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    step = _step_of(killed / "checkpoint.pt")
    # What a kill in the middle of a write leaves: the killed writer's temporary.
    orphan = killed / f".checkpoint.pt.{process.pid}-0123abcd.part"
    orphan.write_bytes(b"half a checkpoint")
    target = str(step + 3)
    assert main(["distill", *common, "--steps", target, "--out", str(killed), "--resume"]) == 0
    assert not orphan.exists() and not list(killed.glob(".*.part"))
    assert main(["distill", *common, "--steps", target, "--out", str(tmp_path / "whole")]) == 0
    a = load_file(str(killed / "student.safetensors"))
    b = load_file(str(tmp_path / "whole" / "student.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _losses(killed / "metrics.csv") == _losses(tmp_path / "whole" / "metrics.csv")


def test_a_checkpoint_from_before_a_new_setting_still_resumes(tmp_path: Path):
    from engine.distill.config import DistillConfig, config_to_dict
    from engine.errors import UsageError

    current = config_to_dict(DistillConfig())
    older = config_to_dict(DistillConfig())
    del older["schedule"]["lr_schedule"]  # written by a version without the setting
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"format": 1, "step": 7, "config": older})
    assert load_checkpoint(path, config=current)["step"] == 7
    changed = config_to_dict(DistillConfig()) | {"seed": 5}
    with pytest.raises(UsageError, match="differs in: seed"):
        load_checkpoint(path, config=changed)


@pytest.mark.parametrize("kind", ["empty", "code", "damaged"])
def test_an_unusable_checkpoint_is_one_line_without_torch_advice(kind: str, tmp_path: Path, capfd):
    from engine.errors import UsageError

    class RunsCode:
        def __reduce__(self):
            return (os.system, ("echo this must never run",))

    path = tmp_path / "checkpoint.pt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "code":
        torch.save({"format": 1, "step": 3, "config": {}, "payload": RunsCode()}, path)
    else:
        torch.save({"format": 1, "step": 3, "config": {}}, path)
        path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(UsageError) as caught:
        load_checkpoint(path, config={})
    message = str(caught.value)
    assert "\n" not in message and "weights_only" not in message and "()" not in message
    assert str(path) in message
    expected = {"empty": "empty (0 bytes)", "code": "holds code", "damaged": "damaged"}[kind]
    assert expected in message
    assert "this must never run" not in capfd.readouterr().out
