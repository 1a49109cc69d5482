"""Supernet training end to end on a tiny setup: learning, resume after a crash, cancel, CLI."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from support import tiny_distill_setup

from engine.cli import main
from engine.distill.config import with_overrides
from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Finished
from engine.nas.supernet import load_supernet
from engine.nas.train import SupernetRequest, SupernetResult, TrainStep, train_supernet
from engine.nas.train_config import (
    SupernetConfig,
    load_supernet_config,
    supernet_config_from_dict,
    supernet_config_to_dict,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY_SPACE = """
[space]
blocks = [2, 3]
widths = [16, 24]
inner_widths = [8, 16]
downsamples = ["conv"]
[supernet]
random_subnets = 1
"""


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny_supernet")
    _, config = tiny_distill_setup(root)
    text = config.read_text().replace('"b2-c16-g8-h11-conv-x4"', '"b3-c24-g16-h111-conv-x4"')
    (root / "supernet.toml").write_text(text + TINY_SPACE)
    return root


@pytest.fixture
def tiny_config(tiny_root: Path) -> SupernetConfig:
    config = load_supernet_config(tiny_root / "supernet.toml")
    distill = with_overrides(
        config.distill,
        {"schedule.teacher_d_steps": 0, "schedule.warmup_steps": 0, "losses.feat": 0.0},
    )
    return dataclasses.replace(config, distill=distill)


def _steps(config: SupernetConfig, **schedule) -> SupernetConfig:
    distill = with_overrides(config.distill, {f"schedule.{k}": v for k, v in schedule.items()})
    return dataclasses.replace(config, distill=distill)


def _run(request: SupernetRequest, *, stop_after=None, cancel=None):
    """Consume the job; ``stop_after``: abandon it there, like a kill -9 (no final save)."""
    losses: dict[int, dict[str, float]] = {}
    events = train_supernet(request, cancel=cancel)
    for event in events:
        if isinstance(event, TrainStep):
            losses[event.step] = event.losses
            if event.step == stop_after:
                events.close()
                return losses, None
            if cancel is not None and event.step == 3:
                cancel.cancel()
        if isinstance(event, Finished):
            return losses, event.result
    raise AssertionError("the job ended without Finished")


def test_config_round_trip_and_checks(tiny_config: SupernetConfig) -> None:
    assert supernet_config_from_dict(supernet_config_to_dict(tiny_config)) == tiny_config
    mapping = supernet_config_to_dict(tiny_config)
    with pytest.raises(UsageError, match="unknown key"):
        supernet_config_from_dict(mapping | {"supernet": {"rulez": "x"}})
    with pytest.raises(UsageError, match="rule must be one of"):
        supernet_config_from_dict(mapping | {"supernet": {"rule": "x"}})
    with pytest.raises(UsageError, match="largest subnet"):
        supernet_config_from_dict(mapping | {"student": "b2-c16-g8-h11-conv-x4"})


def test_shipped_recipe_parses() -> None:
    recipe = Path(__file__).parents[3] / "resources" / "training" / "mfagan-supernet.toml"
    config = load_supernet_config(recipe)
    assert config.rules.rule == "sandwich" and config.distill.init == "default"


@pytest.mark.parametrize("rule", ["sandwich", "progressive"])
def test_tiny_supernet_lowers_its_loss(tiny_config: SupernetConfig, tmp_path: Path, rule):
    config = _steps(tiny_config, steps=30, val_every=15, lr_g=1e-3)
    config = dataclasses.replace(config, rules=dataclasses.replace(config.rules, rule=rule))
    losses, result = _run(SupernetRequest(config=config, out_dir=tmp_path / "run"))
    first = sum(losses[s]["l_largest"] for s in range(1, 6)) / 5
    last = sum(losses[s]["l_largest"] for s in range(26, 31)) / 5
    assert last < 0.8 * first
    assert isinstance(result, SupernetResult) and result.best is not None
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]
    first_val, last_val = metrics["validation"][0], metrics["validation"][-1]
    assert last_val["mean_psnr_teacher"] > first_val["mean_psnr_teacher"]
    load_supernet(result.supernet)  # a loadable file
    with (tmp_path / "run" / "metrics.csv").open() as file:
        assert [int(r["step"]) for r in csv.DictReader(file)] == list(range(1, 31))


def test_resume_after_kill_is_bit_identical(tiny_config: SupernetConfig, tmp_path: Path):
    config = _steps(tiny_config, steps=8, checkpoint_every=2, val_every=4, lr_schedule="cosine")
    reference, _ = _run(SupernetRequest(config=config, out_dir=tmp_path / "a"))
    broken = SupernetRequest(config=config, out_dir=tmp_path / "b")
    _run(broken, stop_after=5)  # checkpoint at 4; step 5 is lost as in a kill -9
    resumed, result = _run(dataclasses.replace(broken, resume=True))
    assert sorted(resumed) == [5, 6, 7, 8]
    assert all(resumed[s] == reference[s] for s in resumed)
    a = load_supernet(tmp_path / "a" / "supernet.safetensors").state_dict()
    b = load_supernet(result.supernet).state_dict()
    assert all((a[k] == b[k]).all() for k in a)


def test_cancel_checkpoints_and_refuses_to_overwrite(tiny_config: SupernetConfig, tmp_path):
    config = _steps(tiny_config, steps=6, checkpoint_every=100, val_every=100)
    request = SupernetRequest(config=config, out_dir=tmp_path / "run")
    with pytest.raises(Cancelled):
        _run(request, cancel=CancelToken())
    with pytest.raises(UsageError, match="--resume"):
        _run(request)
    losses, result = _run(dataclasses.replace(request, resume=True))
    assert sorted(losses) == [4, 5, 6] and result is not None


def test_cli_trains_and_reports_bad_input(tiny_root: Path, tmp_path: Path, capsys):
    args = ["supernet", "train", "--config", str(tiny_root / "supernet.toml")]
    out = tmp_path / "cli"
    assert main([*args, "--out", str(out), "--steps", "2", "--init", "none", "--quiet"]) == 0
    assert (out / "supernet.safetensors").is_file()
    assert "supernet:" in capsys.readouterr().out
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[supernet]\nrule = 3\n")
    assert main(["supernet", "train", "--config", str(bad), "--out", str(out)]) == 2
    assert "supernet.rule" in capsys.readouterr().err


def test_two_process_gloo_matches_one_process(tiny_root: Path, tmp_path: Path):
    """Gradients all-reduced by hand (several subnets a step): 2 ranks x batch 1 == batch 2."""
    repo = Path(__file__).resolve().parents[3]
    common = ["supernet", "train", "--config", str(tiny_root / "supernet.toml")]
    common += ["--steps", "4", "--init", "none", "--quiet"]
    env = os.environ | {"PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1"}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command = [*torchrun, "--nproc_per_node", "2", "-m", "engine.nas", *common]
    command += ["--batch-size", "1", "--out", str(tmp_path / "ddp")]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert main([*common, "--batch-size", "2", "--out", str(tmp_path / "one")]) == 0
    ddp = load_file(str(tmp_path / "ddp" / "supernet.safetensors"))
    one = load_file(str(tmp_path / "one" / "supernet.safetensors"))
    assert ddp.keys() == one.keys()
    assert all(torch.allclose(ddp[k], one[k], atol=1e-5) for k in ddp)


def test_step_subnets_follow_the_rules() -> None:
    from engine.nas.sandwich import step_subnets
    from engine.nas.space import DEFAULT_SPACE
    from engine.nas.train_config import SupernetRules

    sandwich = SupernetRules(random_subnets=3)
    picks = step_subnets(DEFAULT_SPACE, sandwich, seed=1, step=5, total=100)
    assert picks[:2] == [DEFAULT_SPACE.largest(), DEFAULT_SPACE.smallest()] and len(picks) == 5
    assert picks == step_subnets(DEFAULT_SPACE, sandwich, seed=1, step=5, total=100)
    assert picks != step_subnets(DEFAULT_SPACE, sandwich, seed=1, step=6, total=100)
    progressive = SupernetRules(rule="progressive", random_subnets=3)
    early = [
        c
        for step in range(25)
        for c in step_subnets(DEFAULT_SPACE, progressive, seed=1, step=step, total=100)
    ]
    assert all(c.width == 48 and c.inner_width == 32 and all(c.half_res) for c in early)
    assert len({c.num_blocks for c in early}) == 5  # depth is elastic from the start
    late = [
        c
        for step in range(75, 100)
        for c in step_subnets(DEFAULT_SPACE, progressive, seed=1, step=step, total=100)
    ]
    assert {c.width for c in late} == set(DEFAULT_SPACE.widths)
    assert all(DEFAULT_SPACE.contains(c) for c in early + late)
