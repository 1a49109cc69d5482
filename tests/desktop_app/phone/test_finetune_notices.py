"""The fine-tune step words the run's TrainingSetup from its fields, as the Retrain page
does; other notices are shown as the engine says them."""

from __future__ import annotations

from pathlib import Path

from desktop_app.phone.context import WizardContext
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.step_finetune import FinetuneStep
from desktop_app.workers import JobRunner
from engine.events import Notice, TrainingSetup


def test_the_run_setup_is_said_in_plain_words(qtbot, tmp_path: Path, monkeypatch) -> None:
    ctx = WizardContext(JobRunner(), WizardSetup(), tmp_path / "wizard")
    step = FinetuneStep(ctx)
    qtbot.addWidget(step)
    monkeypatch.setattr(step, "_refresh_validation", lambda: None)  # no run folder to view
    lines: list[str] = []
    ctx.status.connect(lines.append)
    step._on_event(TrainingSetup(
        train_images=3, val_images=1, train_crops=24, val_crops=1, crop_px=96,
        device="cuda:0", processes=1,
    ))  # fmt: skip
    step._on_event(Notice(message="resumed from step 3"))
    assert lines == [
        "Learning from 3 photos, 1 kept aside to check progress, on the graphics card",
        "resumed from step 3",
    ]
