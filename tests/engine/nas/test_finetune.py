"""Fine-tuning a subnet: extract, full G + D distillation, evaluation, a registered model
whose card records its lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.distill.fine_tune import FINE_TUNE_CONTEXT
from engine.distill.trainer import TrainStep
from engine.errors import UsageError
from engine.events import Finished
from engine.models.mfa import MFAConfig
from engine.models.registry import get_model
from engine.nas.finetune import (
    continued_schedule,
    default_schedule,
    feature_pairs_for,
    finetune_subnet,
)
from engine.nas.supernet import load_supernet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_finetune_registers_a_model_with_lineage(
    tmp_path: Path, tiny_teacher_for_eval, tiny_supernet_toml
) -> None:
    config = tiny_supernet_toml
    config.write_text(config.read_text().replace("steps = 8", "steps = 2"))
    eval_dir = tiny_teacher_for_eval(tmp_path / "teacher.safetensors", tmp_path / "Set2")
    run = tmp_path / "run"
    assert main(["supernet", "train", "--config", str(config), "--out", str(run), "--quiet"]) == 0
    subnet = MFAConfig.decode("b2-c16-g8-h10-conv-x4")
    stages, result = set(), None
    for event in finetune_subnet(
        run / "supernet.safetensors",
        subnet,
        steps=10,
        data=[tmp_path / "photos_a", tmp_path / "photos_b"],
        out=tmp_path / "ft",
        name="nas-pick",
        search={"device": "snapdragon-865", "budget_ms": 15.0},
        eval_datasets=[eval_dir],
    ):
        if isinstance(event, TrainStep):
            stages.add(event.stage)
        if isinstance(event, Finished):
            result = event.result
    assert stages == {"teacher_d", "warmup", "gan"}  # the student D trains too
    assert result is not None and result.model is not None
    card = json.loads(result.model.with_suffix(".json").read_text())
    assert card["config"] == subnet.encode()
    assert card["nas"]["config"] == subnet.encode()
    assert card["nas"]["search"] == {"device": "snapdragon-865", "budget_ms": 15.0}
    assert len(card["nas"]["supernet_sha256"]) == 64
    assert card["init"]["training"]["supernet"] == "supernet.safetensors"
    assert card["evaluation"]["Set2"]["student"]["psnr_teacher"] > 0
    # Whole-photo targets: the teacher ran on each crop in context, not on the crop alone.
    assert card["training"]["distill_config"]["data"]["teacher_context"] == FINE_TUNE_CONTEXT
    assert get_model("nas-pick").config == subnet


def test_first_step_starts_from_the_extracted_subnet(tmp_path: Path, tiny_supernet_toml) -> None:
    config = tiny_supernet_toml
    config.write_text(config.read_text().replace("steps = 8", "steps = 1"))
    run = tmp_path / "run"
    assert main(["supernet", "train", "--config", str(config), "--out", str(run), "--quiet"]) == 0
    subnet = MFAConfig.decode("b3-c16-g16-h011-conv-x4")
    events = finetune_subnet(
        run / "supernet.safetensors",
        subnet,
        steps=1,
        data=[tmp_path / "photos_a", tmp_path / "photos_b"],
        out=tmp_path / "ft",
        name=None,
    )
    for _ in events:
        pass
    from engine.distill.export import load_student

    init = load_student(tmp_path / "ft" / "subnet_init.safetensors")
    expected = load_supernet(run / "supernet.safetensors").extract(subnet)
    for key, value in expected.state_dict().items():
        assert (init.state_dict()[key] == value).all()


def test_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at least 1 step"):
        next(
            finetune_subnet(
                None, MFAConfig.decode("b2-c16-g8-h00-conv-x4"), steps=0, data=[], out=tmp_path
            )
        )
    assert feature_pairs_for(MFAConfig.decode("b2-c16-g8-h00-conv-x4"), [[2, 11], [5, 22]]) == (
        (0, 11),
        (1, 22),
    )
    assert feature_pairs_for(MFAConfig.decode("b5-c16-g8-h00000-conv-x4"), [[2, 11]]) == ()


def test_a_finished_run_continues_to_more_steps(tmp_path: Path, tiny_supernet_toml) -> None:
    """Issue 21: continuing a finished fine-tune to more steps was refused ("differs in:
    schedule") because the default schedule moves its stages with the total."""
    config = tiny_supernet_toml
    config.write_text(config.read_text().replace("steps = 8", "steps = 1"))
    run = tmp_path / "run"
    assert main(["supernet", "train", "--config", str(config), "--out", str(run), "--quiet"]) == 0
    subnet, out = MFAConfig.decode("b2-c16-g8-h10-conv-x4"), tmp_path / "ft"

    def tune(steps: int, resume: bool) -> list[int]:
        done = []
        for event in finetune_subnet(
            run / "supernet.safetensors", subnet, steps=steps,
            data=[tmp_path / "photos_a", tmp_path / "photos_b"], out=out, resume=resume,
        ):  # fmt: skip
            if isinstance(event, TrainStep):
                done.append(event.step)
        return done

    assert tune(10, resume=False)[-1] == 10
    assert tune(14, resume=True) == [11, 12, 13, 14]  # only the new steps
    schedule = continued_schedule(out, 14)
    assert schedule is not None and schedule.steps == 14
    # The stages stay where the 10-step run put them; default_schedule(14) would move them.
    assert (schedule.teacher_d_steps, schedule.warmup_steps) == (1, 6)
    assert default_schedule(14).warmup_steps != 6
    assert schedule.lr_factor(13) < schedule.lr_factor(10) < 1.0  # stretched, then annealed
