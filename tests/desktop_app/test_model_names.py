"""Shipped models and the user's own are told apart (issue 21.9): About gives the shipped
phone model the app's licence, and the lists name a shipped phone model and one made by the
phone wizard so a person can tell which is which."""

from __future__ import annotations

import json

from desktop_app.about import YOURS, about_html, licence_of
from desktop_app.model_names import is_shipped, run_notice_words, shown_title
from desktop_app.widgets.upscale_options import builtin_entries
from engine.distill.export import save_student
from engine.events import Notice, TrainingSetup
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.registry import PHONE_MODELS, get_model, user_models_dir

SHIPPED_PHONE = "mfagan-sd865"
WIZARD_MODEL = "phone-snapdragon-865"


def _register(name: str, *, phone: bool) -> None:
    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(True, False))
    weights = folder / f"{name}.safetensors"
    save_student(weights, MFAGenerator(config, seed=3))
    card = {"name": name} | ({"nas": {"config": config.encode()}} if phone else {})
    weights.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")


def test_shipped_and_own_models_have_names_a_person_can_tell_apart(tmp_path) -> None:
    _register(WIZARD_MODEL, phone=True)
    _register("faces", phone=False)
    shipped, ours, plain = (get_model(n) for n in (SHIPPED_PHONE, WIZARD_MODEL, "faces"))
    assert is_shipped(shipped) and not is_shipped(ours) and not is_shipped(plain)
    assert shown_title(shipped) == "Phone, shipped (Snapdragon 865 GPU, 15 ms)"
    assert PHONE_MODELS[SHIPPED_PHONE] == shipped.title  # the engine's own title, reworded
    assert shown_title(ours) == f"Your phone model: {WIZARD_MODEL}"
    assert shown_title(plain) == "Your model: faces"
    labels = [entry.label for entry in builtin_entries()]
    assert "Phone, shipped (Snapdragon 865 GPU, 15 ms)" in labels
    assert f"Your phone model: {WIZARD_MODEL}" in labels
    assert not any("(yours)" in label for label in labels)


def test_about_gives_the_shipped_phone_model_the_apps_licence(tmp_path) -> None:
    _register(WIZARD_MODEL, phone=True)
    shipped, ours = get_model(SHIPPED_PHONE), get_model(WIZARD_MODEL)
    assert licence_of(ours) == YOURS
    assert "yours" not in licence_of(shipped) and "MIT" in licence_of(shipped)
    text = about_html(tmp_path / "studio.ini")
    line = next(li for li in text.split("<li>") if f"({SHIPPED_PHONE})" in li)
    assert "Phone, shipped" in line and "your own model" not in line
    line = next(li for li in text.split("<li>") if f"({WIZARD_MODEL})" in li)
    assert f"Your phone model: {WIZARD_MODEL}" in line and "your own model" in line


def test_every_training_stage_is_marked_in_plain_words() -> None:
    # The loss plot marked its stages "teacher d", "warmup" and "gan" (issue 21, item 10).
    from desktop_app.model_names import STAGE_WORDS, stage_words
    from engine.distill.config import ScheduleConfig

    schedule = ScheduleConfig(steps=30, teacher_d_steps=10, warmup_steps=10)
    stages = {schedule.stage(step) for step in range(schedule.steps)}
    assert stages == set(STAGE_WORDS)
    for stage in stages:
        words = stage_words(stage)
        assert words != stage and "_" not in words and "gan" not in words.split()


def _setup(**fields: object) -> TrainingSetup:
    given = {"train_images": 5, "val_images": 1, "train_crops": 40, "val_crops": 1, "crop_px": 128}
    return TrainingSetup(**(given | fields))  # type: ignore[arg-type]


def test_a_training_setup_is_worded_from_its_fields() -> None:
    said = run_notice_words(_setup(device="cpu", processes=1))
    assert said == "Learning from 5 photos, 1 kept aside to check progress, on the processor"
    said = run_notice_words(_setup(train_images=1, val_images=0, device="cuda:0", processes=2))
    assert said == "Learning from 1 photo, on 2 of graphics cards at once"
    assert run_notice_words(_setup(device="xpu", processes=1)).endswith(", on xpu")


def test_other_run_notices_are_shown_as_the_engine_says_them() -> None:
    line = "5 training / 1 validation images, 40 / 1 crops of 128 px; device cpu, 1 process(es)"
    assert run_notice_words(Notice(message=line)) == line  # the type decides, not the text
    assert run_notice_words(Notice(message="resumed from step 3")) == "resumed from step 3"


def test_every_shipped_models_description_gives_its_speed_or_says_why_not() -> None:
    """ "Drawings and anime" alone gave no speed, and nothing said why: the bench that the
    other descriptions quote never timed it. Its description says so; no time is made up."""
    from desktop_app.model_names import NOT_TIMED, NOT_TIMED_DETAILS
    from engine.models.registry import MEASURED_ON, MEASURED_SECONDS

    entries = {entry.spec: entry for entry in builtin_entries()}
    anime = entries["realesrgan-x4plus-anime"]
    assert "realesrgan-x4plus-anime" not in MEASURED_SECONDS  # the data does not exist
    assert anime.description.endswith("a third of Best quality's work" + NOT_TIMED)
    assert " s for " not in anime.description  # no number of our own
    assert NOT_TIMED_DETAILS in anime.tooltip
    for spec in ("realesrgan-x4plus", "mfagan", "bicubic"):
        assert MEASURED_ON in entries[spec].description, spec
        assert NOT_TIMED not in entries[spec].description, spec
    for spec in PHONE_MODELS:  # timed on the phone itself: the time is in the name
        assert " ms)" in entries[spec].label
