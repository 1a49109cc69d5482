"""The loop every training run shares; a trainer says what a step and a validation are.

Distillation (engine.distill.trainer), supernet training (engine.nas.train) and any other
trainer describe themselves once (:class:`Trainer`: a ``prepare`` generator that sets up a
:class:`Run` from a request, the request's config and schedule, the metrics columns) and call
:func:`run_training` with a request. The loop owns all the rest, so that every trainer
resumes, cancels and splits its work over ``torchrun`` ranks the same way:

- the process group is joined first and left whatever happens (engine.distill.parallel);
- a checkpoint in ``out_dir`` is checked against the config before the slow set-up, so a
  mismatch fails fast and a fresh run never overwrites one (engine.distill.checkpoint);
- a resumed run restores modules, optimizers, RNG states and ``Run.history``, then goes on
  at the step after its checkpoint: batches are a pure function of the step, so the curve
  continues bit for bit after ``kill -9``;
- before each step a cancel seen by any rank checkpoints the run and raises Cancelled;
  after it, rank 0 appends a metrics.csv row and every rank yields TrainStep and Progress;
- every ``val_every`` steps and after the last, rank 0 validates (a Notice) while the other
  ranks wait; every ``checkpoint_every`` steps and after the last, a checkpoint;
- Finished carries what ``Run.finish`` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from engine.distill.checkpoint import (
    CHECKPOINT_NAME,
    Checkpointed,
    capture,
    open_run,
    restore,
    save_checkpoint,
)
from engine.distill.config import ScheduleConfig
from engine.distill.parallel import Parallel, start, stop
from engine.distill.report import MetricsLog
from engine.distill.request import TrainStep
from engine.events import Cancelled, CancelToken, Event, Finished, Notice, Progress

METRICS_NAME = "metrics.csv"


class Run(Protocol):
    """A prepared run, as the loop drives it.

    ``history`` (validation results, best so far) goes into every checkpoint and comes back
    on resume; ``log`` is set by the loop on rank 0 once the run is prepared (else None).
    """

    nets: Checkpointed
    history: dict[str, Any]
    log: MetricsLog | None

    def train_step(self, step: int) -> tuple[str, dict[str, float]]:
        """Train step ``step`` (0-based) on this rank's slice: its stage and the losses
        averaged over ranks (``Parallel.mean``)."""
        ...

    def describe(self, stage: str, losses: dict[str, float]) -> str:
        """The Progress line of a step."""
        ...

    def validate(self, step: int) -> str:
        """Score the run after ``step`` steps (rank 0 only): a one-line summary."""
        ...

    def finish(self, timings: Sequence[float]) -> Any:
        """Write the final files; the result Finished carries (every rank calls it)."""
        ...


class Request(Protocol):
    @property
    def out_dir(self) -> Path: ...  # the run folder: checkpoint, metrics.csv, outputs

    @property
    def resume(self) -> bool: ...  # continue the run in out_dir


R = TypeVar("R", bound=Request)


@dataclass(frozen=True, kw_only=True)
class Trainer(Generic[R]):
    """What kind of run it is; a module-level constant of each trainer."""

    stage: str  # Progress.stage of the training steps, e.g. "distill"
    prepare: Callable[[R, Parallel, CancelToken], Generator[Event, None, Run]]
    config: Callable[[R], dict[str, Any]]  # the run's config as its checkpoint records it
    schedule: Callable[[R], ScheduleConfig]  # steps, val_every, checkpoint_every
    log_fields: tuple[str, ...]  # metrics.csv columns
    unvalidated_stages: frozenset[str] = frozenset()  # no validation after these stages


def run_training(
    trainer: Trainer[R], request: R, *, cancel: CancelToken | None = None
) -> Iterator[Event | TrainStep]:
    """Run (or resume) ``request``; Finished.result is what its Run.finish returns."""
    parallel = start()
    try:
        yield from _train(_Plan.of(trainer, request), parallel, cancel or CancelToken())
    finally:
        stop(parallel)


@dataclass(frozen=True, kw_only=True)
class _Plan(Generic[R]):
    """One request's run: the trainer and what it says about the request."""

    trainer: Trainer[R]
    request: R
    config: dict[str, Any]
    schedule: ScheduleConfig
    checkpoint: Path

    @classmethod
    def of(cls, trainer: Trainer[R], request: R) -> _Plan[R]:
        return cls(
            trainer=trainer,
            request=request,
            config=trainer.config(request),
            schedule=trainer.schedule(request),
            checkpoint=request.out_dir / CHECKPOINT_NAME,
        )


def _train(plan: _Plan, parallel: Parallel, cancel: CancelToken) -> Iterator[Event | TrainStep]:
    request, trainer = plan.request, plan.trainer
    state = yield from open_run(
        request.out_dir, resume=request.resume, config=plan.config, main=parallel.main
    )
    run = yield from trainer.prepare(request, parallel, cancel)
    first = 0
    if state is not None:
        restore(run.nets, state)
        run.history = state["history"]
        first = int(state["step"])
        yield Notice(message=f"resumed from step {first} ({plan.checkpoint})")
    if parallel.main:
        path = request.out_dir / METRICS_NAME
        run.log = MetricsLog(path, keep_until=first, fields=trainer.log_fields)
    total = plan.schedule.steps
    timings: list[float] = []
    for step in range(first, total):
        if parallel.any(cancel.cancelled):
            _checkpoint(plan, run, parallel, step)
            raise Cancelled(f"stopped at step {step}; resume with --resume")
        began = time.perf_counter()
        stage, losses = run.train_step(step)
        seconds = time.perf_counter() - began
        timings.append(seconds)
        if run.log is not None:
            run.log.append(step + 1, stage, seconds, losses)
        yield TrainStep(step=step + 1, stage=stage, losses=losses, seconds=seconds)
        message = run.describe(stage, losses)
        yield Progress(stage=trainer.stage, done=step + 1, total=total, message=message)
        yield from _after_step(plan, run, parallel, step + 1, stage)
    yield Finished(result=run.finish(timings))


def _after_step(
    plan: _Plan, run: Run, parallel: Parallel, done: int, stage: str
) -> Iterator[Event]:
    schedule = plan.schedule
    last = done == schedule.steps
    if stage not in plan.trainer.unvalidated_stages and (done % schedule.val_every == 0 or last):
        if parallel.main:
            yield Notice(message=run.validate(done))
        parallel.barrier()
    if done % schedule.checkpoint_every == 0 or last:
        _checkpoint(plan, run, parallel, done)


def _checkpoint(plan: _Plan, run: Run, parallel: Parallel, step: int) -> None:
    if parallel.main:
        state = capture(run.nets, step=step, config=plan.config, history=run.history)
        save_checkpoint(plan.checkpoint, state)
    parallel.barrier()
