"""The distillation job: a generator of progress events that honours a CancelToken.

Stages (docs/MFAGAN.md): teacher D learns real HR vs teacher output; warm-up trains the student G
on the L1/feature terms; the GAN stage adds the student D (distilled from the teacher D) and
the adversarial terms (engine.distill.steps). An EMA of the generator is what gets validated
and exported (engine.distill.session).

Cancel: the run stops at the next step boundary, writes a checkpoint, raises Cancelled;
``resume=True`` continues it. A hard kill loses at most ``checkpoint_every`` steps, which a
resume recomputes identically (engine.distill.run_loop, engine.distill.checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.distill.config import config_to_dict
from engine.distill.report import CSV_FIELDS
from engine.distill.request import DistillRequest, DistillResult, TrainStep
from engine.distill.run_loop import Trainer, run_training
from engine.distill.session import prepare
from engine.events import CancelToken, Event

__all__ = ["DistillRequest", "DistillResult", "TrainStep", "distill"]

DISTILLATION: Trainer[DistillRequest] = Trainer(
    stage="distill",
    prepare=prepare,
    config=lambda request: config_to_dict(request.config),
    schedule=lambda request: request.config.schedule,
    log_fields=CSV_FIELDS,
    # While only the teacher D trains, the student has not moved.
    unvalidated_stages=frozenset({"teacher_d"}),
)


def distill(
    request: DistillRequest, *, cancel: CancelToken | None = None
) -> Iterator[Event | TrainStep]:
    """Run (or resume) a distillation; Finished.result is a DistillResult."""
    return run_training(DISTILLATION, request, cancel=cancel)
