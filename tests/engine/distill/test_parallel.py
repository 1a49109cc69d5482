"""DDP for real: two gloo processes under torchrun equal one process with twice the batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from engine.distill.__main__ import main
from engine.distill.config import DistillConfig
from engine.models.mfa import MFAGenerator

REPO = Path(__file__).resolve().parents[3]


def test_two_process_gloo_matches_one_process(
    tiny_root: Path, tiny_config: DistillConfig, tmp_path: Path
):
    common = [
        "--config",
        str(tiny_root / "tiny.toml"),
        "--teacher",
        str(tiny_root / "teacher.safetensors"),
    ]
    common += ["--steps", "8", "--no-register", "--quiet"]
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ]
    command = [*torchrun, "-m", "engine.distill", "distill", *common]
    command += ["--batch-size", "1", "--out", str(tmp_path / "ddp")]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert main(["distill", *common, "--batch-size", "2", "--out", str(tmp_path / "one")]) == 0
    ddp = load_file(str(tmp_path / "ddp" / "student.safetensors"))
    one = load_file(str(tmp_path / "one" / "student.safetensors"))
    assert ddp.keys() == one.keys()
    # Same samples, gradients averaged over ranks: equal up to float summation order.
    assert all(torch.allclose(ddp[k], one[k], atol=1e-6) for k in ddp)
    initial = MFAGenerator(tiny_config.student, seed=tiny_config.seed).state_dict()
    assert any(not torch.allclose(ddp[k], initial[k], atol=1e-3) for k in ddp)  # it trained
