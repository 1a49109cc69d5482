"""End-to-end distillation on a tiny setup: learning, resume after a crash, cancel, outputs."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from engine.distill.config import DistillConfig, with_overrides
from engine.distill.export import load_student
from engine.distill.trainer import DistillRequest, DistillResult, TrainStep, distill
from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Finished, Notice, TrainingSetup


def _run(
    request: DistillRequest, *, stop_after: int | None = None, cancel: CancelToken | None = None
):
    """Consume the job; ``stop_after``: abandon it there, like a kill -9 (no final save)."""
    losses: dict[int, dict[str, float]] = {}
    events = distill(request, cancel=cancel)
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


def _loss_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(file)]


def test_tiny_distillation_lowers_its_loss(tiny_config: DistillConfig, tmp_path: Path):
    config = with_overrides(
        tiny_config,
        {
            "schedule.steps": 30,
            "schedule.teacher_d_steps": 0,
            "schedule.warmup_steps": 30,
            "schedule.val_every": 10,
        },
    )
    losses, result = _run(DistillRequest(config=config, out_dir=tmp_path / "run"))
    first = sum(losses[s]["l_g_distill"] for s in range(1, 6)) / 5
    last = sum(losses[s]["l_g_distill"] for s in range(26, 31)) / 5
    assert last < 0.7 * first
    assert isinstance(result, DistillResult)
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["validation"]
    assert history[-1]["student"]["psnr_teacher"] > history[0]["student"]["psnr_teacher"]


def test_resume_after_kill_continues_the_same_run(tiny_config: DistillConfig, tmp_path: Path):
    # Cosine: the resumed steps must also pick up the learning rate where the curve was.
    tiny_config = with_overrides(tiny_config, {"schedule.lr_schedule": "cosine"})
    whole = DistillRequest(config=tiny_config, out_dir=tmp_path / "whole")
    broken = DistillRequest(config=tiny_config, out_dir=tmp_path / "broken")
    reference, _ = _run(whole)
    _run(broken, stop_after=5)  # the last checkpoint is at step 4: step 5 is lost
    resumed, result = _run(dataclasses.replace(broken, resume=True))
    assert sorted(resumed) == [5, 6, 7, 8]
    assert all(resumed[s] == reference[s] for s in resumed)
    a = load_file(str(tmp_path / "whole" / "student.safetensors"))
    b = load_file(str(result.student))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert _loss_rows(tmp_path / "whole" / "metrics.csv") == _loss_rows(
        tmp_path / "broken" / "metrics.csv"
    )


def test_cancel_saves_a_checkpoint_and_resume_finishes(tiny_config: DistillConfig, tmp_path: Path):
    request = DistillRequest(config=tiny_config, out_dir=tmp_path / "run")
    with pytest.raises(Cancelled):
        _run(request, cancel=CancelToken())
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 3
    assert not list((tmp_path / "run").glob(".*.part"))
    losses, result = _run(dataclasses.replace(request, resume=True))
    assert sorted(losses) == [4, 5, 6, 7, 8] and result.steps == 8


def test_refuses_to_overwrite_or_resume_with_another_config(
    tiny_config: DistillConfig, tmp_path: Path
):
    request = DistillRequest(config=tiny_config, out_dir=tmp_path / "run")
    _run(request, stop_after=3)  # a checkpoint exists from step 2
    with pytest.raises(UsageError, match="--resume"):
        _run(request)
    other = with_overrides(tiny_config, {"losses.gt": 0.5})
    with pytest.raises(UsageError, match="losses"):
        _run(DistillRequest(config=other, out_dir=tmp_path / "run", resume=True))


def test_outputs_and_registration(tiny_config: DistillConfig, tmp_path: Path):
    request = DistillRequest(config=tiny_config, out_dir=tmp_path / "run", register_as="my-photos")
    _, result = _run(request)
    out = tmp_path / "run"
    rows = _loss_rows(out / "metrics.csv")
    assert [r["stage"] for r in rows] == ["teacher_d"] * 2 + ["warmup"] * 3 + ["gan"] * 3
    assert rows[0]["l_td_real"] and not rows[0]["l_g_total"]
    assert rows[-1]["l_d_distill"] and rows[-1]["l_g_gan"] and rows[-1]["l_g_feat"]
    for picture in ("losses.png", "side_by_side.png"):
        with Image.open(out / picture) as image:
            assert image.format == "PNG" and image.width > 300
    card = json.loads(result.registered.with_suffix(".json").read_text())
    run_card = json.loads((out / "student_best.json").read_text())
    assert (
        run_card["weights"] == "student_best.safetensors"
        and card["weights"] == "my-photos.safetensors"
    )
    assert card["config"] == tiny_config.student.encode()
    assert card["cost"]["params"] == sum(
        p.numel() for p in load_student(result.student).parameters()
    )
    assert card["validation"]["best"]["step"] in (3, 6, 8)
    registered = load_student(result.registered)
    best = load_student(result.best)
    assert all(
        torch.equal(a, b)
        for a, b in zip(registered.state_dict().values(), best.state_dict().values(), strict=True)
    )
    assert result.registered.with_name("my-photos-d.safetensors").is_file()


def test_a_fine_tuned_card_records_the_run_it_started_from(
    tiny_config: DistillConfig, tmp_path: Path
):
    _, parent = _run(DistillRequest(config=tiny_config, out_dir=tmp_path / "a", command="first"))
    parent_card = json.loads(parent.best.with_suffix(".json").read_text())
    child_config = with_overrides(
        tiny_config,
        {
            "init": str(parent.best),
            "schedule.steps": 2,
            "schedule.teacher_d_steps": 0,
            "schedule.warmup_steps": 2,
        },
    )
    _, child = _run(DistillRequest(config=child_config, out_dir=tmp_path / "b", command="second"))
    card = json.loads((child.best or child.student).with_suffix(".json").read_text())
    assert card["training"]["command"] == "second"
    init = card["init"]
    assert init["weights"] == "student_best.safetensors"
    assert init["weights_sha256"] == hashlib.sha256(parent.best.read_bytes()).hexdigest()
    assert init["training"] == parent_card["training"]
    assert init["validation"] == parent_card["validation"]
    assert "init" not in parent_card  # trained from scratch: nothing before it


def test_a_bare_init_file_still_gets_its_digest(tiny_config: DistillConfig, tmp_path: Path):
    _, parent = _run(DistillRequest(config=tiny_config, out_dir=tmp_path / "a"))
    bare = tmp_path / "bare.safetensors"
    bare.write_bytes(parent.best.read_bytes())
    config = with_overrides(
        tiny_config,
        {
            "init": str(bare),
            "schedule.steps": 1,
            "schedule.teacher_d_steps": 0,
            "schedule.warmup_steps": 1,
        },
    )
    _, child = _run(DistillRequest(config=config, out_dir=tmp_path / "b"))
    chosen = child.best or child.student
    card = json.loads(chosen.with_suffix(".json").read_text())
    assert card["init"] == {
        "weights": "bare.safetensors",
        "weights_sha256": hashlib.sha256(bare.read_bytes()).hexdigest(),
    }


def test_a_wider_student_starts_from_a_narrower_one(tiny_config: DistillConfig, tmp_path: Path):
    """Issue 17 item 5: a wider student begins as the trained one, its new channels unused."""
    _, parent = _run(DistillRequest(config=tiny_config, out_dir=tmp_path / "a"))
    wide = dataclasses.replace(tiny_config.student, width=24, inner_width=16)
    config = with_overrides(
        tiny_config,
        {
            "init": str(parent.best),
            "student": wide,
            "schedule.steps": 1,
            "schedule.teacher_d_steps": 0,
            "schedule.warmup_steps": 1,
        },
    )
    events = list(distill(DistillRequest(config=config, out_dir=tmp_path / "b")))
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("grown" in message for message in notices), notices
    (setup,) = [e for e in events if isinstance(e, TrainingSetup)]
    assert (setup.device, setup.processes, setup.crop_px) == ("cpu", 1, config.data.hr_crop)
    assert setup.train_images + setup.val_images == 4 and setup.val_images >= 1  # four photos
    assert setup.train_crops > 0 and setup.val_crops > 0
    result = next(e.result for e in events if isinstance(e, Finished))
    assert load_student(result.student).config == wide


def test_a_student_of_another_shape_cannot_start_from_it(
    tiny_config: DistillConfig, tmp_path: Path
):
    _, parent = _run(DistillRequest(config=tiny_config, out_dir=tmp_path / "a"))
    # Its first block switched: not the same net with more channels or blocks after it.
    flags = (not tiny_config.student.half_res[0], *tiny_config.student.half_res[1:])
    other = dataclasses.replace(tiny_config.student, half_res=flags)
    config = with_overrides(tiny_config, {"init": str(parent.best), "student": other})
    with pytest.raises(UsageError, match="can only start from a narrower or shallower one"):
        list(distill(DistillRequest(config=config, out_dir=tmp_path / "b")))


def test_a_searched_model_fine_tuned_further_keeps_its_search(
    tiny_config: DistillConfig, tmp_path: Path
):
    """Continuing the phone model on new photos must not forget which search picked it."""
    _, parent = _run(DistillRequest(config=tiny_config, out_dir=tmp_path / "a"))
    card_path = parent.best.with_suffix(".json")
    parent_card = json.loads(card_path.read_text())
    parent_card["nas"] = {"config": parent_card["config"], "search": {"budget_ms": 15.0}}
    card_path.write_text(json.dumps(parent_card))
    one_step = {
        "init": str(parent.best),
        "schedule.steps": 1,
        "schedule.teacher_d_steps": 0,
        "schedule.warmup_steps": 1,
    }
    _, same = _run(
        DistillRequest(config=with_overrides(tiny_config, one_step), out_dir=tmp_path / "b")
    )
    card = json.loads((same.best or same.student).with_suffix(".json").read_text())
    assert card["nas"] == parent_card["nas"]
    wide = dataclasses.replace(tiny_config.student, width=24)
    config = with_overrides(tiny_config, one_step | {"student": wide})
    _, other = _run(DistillRequest(config=config, out_dir=tmp_path / "c"))
    card = json.loads((other.best or other.student).with_suffix(".json").read_text())
    assert "nas" not in card  # another architecture than the search picked
