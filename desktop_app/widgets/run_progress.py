"""A training run's progress line, as the Retrain page and the phone wizard's fine-tuning
both show it: the step while it trains, else its preparation stage in plain words."""

from __future__ import annotations

from collections.abc import Mapping

from desktop_app.model_names import RUN_STAGE_TEXT
from desktop_app.wording import first_upper
from engine.events import Progress


def run_progress_text(
    event: Progress, *, training: str, stages: Mapping[str, str] = RUN_STAGE_TEXT
) -> str:
    """``training`` names the run in the step line ("Training", "Fine-tuning"); a stage
    ``stages`` does not name is shown as the engine calls it, with its detail in brackets."""
    if event.stage == "distill":
        return f"{training}: step {event.done} of {event.total}"
    text = stages.get(event.stage, first_upper(event.stage))
    return text + (f" ({event.message})" if event.message else "")
