"""Retrain plan: the form's config, stage proportions, and estimates from measurements."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from desktop_app.retrain.plan import (
    CROP_REUSE,
    Measurement,
    Timings,
    build_config,
    estimate,
    explain_estimate,
    measurement_from,
    scaled_schedule,
    stage_steps,
    steps_for_minutes,
)
from desktop_app.widgets.eta import format_duration
from engine.distill.config import DistillConfig, ScheduleConfig

SCRATCH = Path("scratch.toml")


@pytest.fixture(autouse=True)
def from_scratch_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "scratch.toml": the from-scratch recipe, whether or not a student ships."""
    monkeypatch.chdir(tmp_path)
    SCRATCH.write_text("")


def test_a_short_budget_keeps_every_stage() -> None:
    schedule = scaled_schedule(ScheduleConfig(), 500)  # the full recipe is 40,000 steps
    assert stage_steps(schedule) == {"teacher_d": 12, "warmup": 100, "gan": 388}
    assert schedule.val_every == 50 and schedule.checkpoint_every == 25
    tiny = scaled_schedule(ScheduleConfig(), 3)
    assert tiny.steps == 3 and tiny.val_every == 1 and sum(stage_steps(tiny).values()) == 3


def test_build_config_uses_the_folders_and_budget(tmp_path: Path) -> None:
    config = build_config([tmp_path / "a", tmp_path / "b"], 200, SCRATCH)
    assert config.data.dirs == (tmp_path / "a", tmp_path / "b")
    assert config.schedule.steps == 200
    assert config.teacher == "realesrgan-x4plus"


def measured(**steps: float) -> Measurement:
    timings = Timings(
        steps={stage: [seconds * 3, seconds] for stage, seconds in steps.items()},
        teacher_calls=[10.0, 4.0, 1.0, 1.5],
        validation=5.0,
    )
    return measurement_from(timings, DistillConfig())


def test_measurement_separates_start_up_from_steady_costs() -> None:
    m = measured(teacher_d=2.0, warmup=1.0, gan=3.0)
    assert m.teacher_crop == 1.0
    assert m.steps == {"teacher_d": 2.0, "warmup": 1.0, "gan": 3.0}
    # One-off: the teacher's first call beyond its fastest, and each stage's first step
    # beyond its fastest (the helper times every stage at 3x, then 1x).
    assert m.startup == pytest.approx((10 - 1) + 2 * (2.0 + 1.0 + 3.0))
    assert Measurement.from_settings(m.as_settings()) == m
    assert Measurement.from_settings({"teacher_crop": 1.0}) is None


def test_estimate_adds_every_part() -> None:
    config = build_config([Path("photos")], 500, SCRATCH)
    m = measured(teacher_d=2.0, warmup=1.0, gan=3.0)
    assert m.fits(config)
    guess = estimate(config, 10, m)
    assert guess.crops == 10 * config.data.crops_per_image
    assert guess.teacher_seconds == pytest.approx(guess.crops * 1.0)
    assert guess.train_seconds == pytest.approx(12 * 2.0 + 100 * 1.0 + 388 * 3.0)
    assert guess.checks == 10 and guess.validation_seconds == pytest.approx(50.0)
    assert guess.total == pytest.approx(
        m.startup + guess.teacher_seconds + guess.train_seconds + 50.0
    )


def test_time_budget_becomes_steps_that_fit() -> None:
    m = measured(teacher_d=2.0, warmup=1.0, gan=3.0)

    def config_for(steps: int) -> DistillConfig:
        return build_config([Path("photos")], steps, SCRATCH, photos=10)

    steps = steps_for_minutes(config_for, 10, 60, m)
    assert estimate(config_for(steps), 10, m).total <= 60 * 60
    assert estimate(config_for(steps + 1), 10, m).total > 60 * 60
    slow_teacher = dataclasses.replace(m, teacher_crop=1000.0)
    assert steps_for_minutes(config_for, 10, 1, slow_teacher) == 1  # not even one crop fits


def test_the_teacher_pass_scales_with_the_steps_asked_for() -> None:
    """10 steps need 10 × 16 samples, about 20 crops: not the recipe's crops for every photo
    (the issue: "10 steps ≈ 25 min" from a fixed teacher pass over every crop)."""
    m = measured(teacher_d=2.0, warmup=1.0, gan=3.0)
    recipe = build_config([Path("photos")], 10, SCRATCH).data.crops_per_image
    short = build_config([Path("photos")], 10, SCRATCH, photos=6)
    assert short.schedule.batch_size * 10 / CROP_REUSE <= 6 * short.data.crops_per_image
    assert short.data.crops_per_image < recipe
    long = build_config([Path("photos")], 100_000, SCRATCH, photos=6)
    assert long.data.crops_per_image == recipe  # never more than the recipe
    assert estimate(short, 6, m).teacher_seconds < estimate(long, 6, m).teacher_seconds
    text = explain_estimate(short, 6, m)
    crops = 6 * short.data.crops_per_image
    assert text.startswith("<b>10 steps ≈ ")
    assert f"teacher pass {format_duration(crops * 1.0)}: {crops} crops × 1.0 s" in text
    assert f"({short.data.crops_per_image} a photo: 10 steps of" in text
    assert "training " in text and "start-up" in text and "Timed " in text


def test_a_measurement_for_other_crops_does_not_fit() -> None:
    m = measured(teacher_d=2.0, warmup=1.0, gan=3.0)
    config = build_config([Path("photos")], 500, SCRATCH)
    other = config.__class__(data=config.data.__class__(hr_crop=64), schedule=config.schedule)
    assert not m.fits(other)
    assert not measured(gan=3.0).fits(config)  # stages it did not time
    framed = dataclasses.replace(config, data=dataclasses.replace(config.data, teacher_context=16))
    assert not m.fits(framed)  # timed on the crop alone, not on its window


def test_with_a_shipped_student_the_form_fine_tunes_that_student(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.models.registry as registry
    from engine.distill.discriminator import PatchDiscriminator
    from engine.distill.export import discriminators_path, save_discriminators, save_student
    from engine.models.mfa import MFAConfig, MFAGenerator

    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(True, False))
    shipped = tmp_path / "mfagan-x4.safetensors"
    save_student(shipped, MFAGenerator(config))
    save_discriminators(
        discriminators_path(shipped), PatchDiscriminator(ndf=8), PatchDiscriminator(ndf=4)
    )
    monkeypatch.setattr(registry, "STUDENT_WEIGHTS", shipped)
    tuned = build_config([tmp_path / "mine"], 300, None)
    assert tuned.init == "default" and tuned.student == config
    assert (tuned.teacher_d_ndf, tuned.student_d_ndf) == (8, 4)
    assert tuned.schedule.steps == 300 and tuned.schedule.teacher_d_steps == 0
