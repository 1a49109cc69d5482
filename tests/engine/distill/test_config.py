"""Config files: exact round trip, misspellings refused, paths relative to the file."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from engine.distill.config import (
    COSINE_FLOOR,
    DistillConfig,
    ScheduleConfig,
    config_from_dict,
    config_to_dict,
    load_config,
    with_overrides,
)
from engine.errors import UsageError
from engine.models.mfa import MFAConfig


def test_round_trip_through_json(tiny_config: DistillConfig):
    text = json.dumps(config_to_dict(tiny_config))
    assert config_from_dict(json.loads(text)) == tiny_config


def test_toml_values_and_relative_data_dirs(tiny_root: Path):
    config = load_config(tiny_root / "tiny.toml")
    assert config.student == MFAConfig.decode("b2-c16-g8-h11-conv-x4")
    assert config.data.dirs == (tiny_root / "photos_a", tiny_root / "photos_b")
    assert config.schedule.batch_size == 2
    assert config.losses == DistillConfig().losses  # untouched sections keep the defaults


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[schedule]\nstep = 5\n", "unknown key.*schedule: step"),
        ("lossses = {}\n", "unknown key.*lossses"),
        ('student = "b4-c32"\n', "not an MFA config"),
        ("[schedule]\nsteps = 2.5\n", "schedule.steps must be int"),
        ("[data]\nhr_crop = 30\n", "multiple of 4"),
        ('student = "b2-c16-g8-h11-conv-x2"\n', "must be x4"),
        ('[schedule]\nlr_schedule = "step"\n', "lr_schedule must be one of constant, cosine"),
        ("[data]\nteacher_context = -1\n", "teacher_context must be >= 0"),
        ("[data]\ndegradations_per_image = -2\n", "degradations_per_image must be >= 0"),
    ],
)
def test_bad_configs_are_refused_with_a_clear_message(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_config(path)


def test_overrides_skip_missing_flags_and_reach_nested_sections(tiny_config: DistillConfig):
    changed = with_overrides(tiny_config, {"schedule.steps": 99, "init": None, "seed": 3})
    assert changed.schedule.steps == 99 and changed.seed == 3
    assert changed.init is None and changed.data == tiny_config.data


def test_stage_boundaries():
    schedule = ScheduleConfig(steps=10, teacher_d_steps=2, warmup_steps=3)
    stages = [schedule.stage(step) for step in range(10)]
    assert stages == ["teacher_d"] * 2 + ["warmup"] * 3 + ["gan"] * 5


def test_cosine_schedule_anneals_student_steps_only():
    schedule = ScheduleConfig(steps=102, teacher_d_steps=2, warmup_steps=50, lr_schedule="cosine")
    factors = [schedule.lr_factor(step) for step in range(102)]
    assert factors[:3] == [1.0, 1.0, 1.0]  # the teacher D's steps do not move the curve
    assert factors[52] == pytest.approx(COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5)
    assert all(a > b for a, b in itertools.pairwise(factors[2:]))
    assert factors[-1] > COSINE_FLOOR
    assert ScheduleConfig(steps=102).lr_factor(80) == 1.0
