"""A training run's progress line, shared by the Retrain page and the phone wizard."""

from __future__ import annotations

from desktop_app.model_names import RUN_STAGE_TEXT
from desktop_app.widgets.run_progress import run_progress_text
from engine.events import Progress


def test_the_step_line_names_the_run() -> None:
    event = Progress(stage="distill", done=3, total=400)
    assert run_progress_text(event, training="Fine-tuning") == "Fine-tuning: step 3 of 400"
    assert run_progress_text(event, training="Training") == "Training: step 3 of 400"


def test_stages_in_plain_words_with_the_engines_detail() -> None:
    scan = Progress(stage="scan", done=1, total=9, message="a.jpg")
    assert run_progress_text(scan, training="Training") == f"{RUN_STAGE_TEXT['scan']} (a.jpg)"
    measure = Progress(stage="measure", done=0, total=3)
    assert run_progress_text(measure, training="Training") == "Measure"  # named by no table
    words = run_progress_text(measure, training="Training", stages={"measure": "Measuring"})
    assert words == "Measuring"
