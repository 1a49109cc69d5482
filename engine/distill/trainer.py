"""The distillation job: a generator of progress events that honours a CancelToken.

Stages (docs/MFAGAN.md): teacher D learns real HR vs teacher output; warm-up trains the student G
on the L1/feature terms; the GAN stage adds the student D (distilled from the teacher D) and
the adversarial terms. An EMA of the generator is what gets validated and exported.

Cancel: the run stops at the next step boundary, writes a checkpoint, raises Cancelled;
``resume=True`` continues it. A hard kill loses at most ``checkpoint_every`` steps, which a
resume recomputes identically (see engine.distill.checkpoint).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from engine.distill import steps
from engine.distill.checkpoint import (
    CHECKPOINT_NAME,
    capture,
    open_run,
    restore,
    save_checkpoint,
)
from engine.distill.config import config_to_dict
from engine.distill.nets import ema_decay, set_student_lrs, update_ema
from engine.distill.parallel import Parallel, start, stop
from engine.distill.request import DistillRequest, DistillResult, TrainStep
from engine.distill.sampler import collate, step_picks
from engine.distill.session import Session, prepare
from engine.events import Cancelled, CancelToken, Event, Finished, Notice, Progress

__all__ = ["DistillRequest", "DistillResult", "TrainStep", "distill"]


def distill(
    request: DistillRequest, *, cancel: CancelToken | None = None
) -> Iterator[Event | TrainStep]:
    """Run (or resume) a distillation; Finished.result is a DistillResult."""
    parallel = start()
    try:
        yield from _run(request, parallel, cancel or CancelToken())
    finally:
        stop(parallel)


def _run(
    request: DistillRequest, parallel: Parallel, cancel: CancelToken
) -> Iterator[Event | TrainStep]:
    checkpoint = request.out_dir / CHECKPOINT_NAME
    state = yield from open_run(
        request.out_dir,
        resume=request.resume,
        config=config_to_dict(request.config),
        main=parallel.main,
    )
    session = yield from prepare(request.config, request.out_dir, parallel, cancel)
    first = 0
    if state is not None:
        restore(session.nets, state)
        session.history = state["history"]
        first = int(state["step"])
        yield Notice(message=f"resumed from step {first} ({checkpoint})")
    session.open_log(keep_until=first)
    total = request.config.schedule.steps
    timings: list[float] = []
    for step in range(first, total):
        if parallel.any(cancel.cancelled):
            _checkpoint(session, checkpoint, step)
            raise Cancelled(f"stopped at step {step}; resume with --resume")
        began = time.perf_counter()
        stage, losses = _train_step(session, step)
        seconds = time.perf_counter() - began
        timings.append(seconds)
        if parallel.main:
            session.log.append(step + 1, stage, seconds, losses)
        yield TrainStep(step=step + 1, stage=stage, losses=losses, seconds=seconds)
        yield Progress(stage="distill", done=step + 1, total=total, message=_summary(stage, losses))
        yield from _after_step(session, checkpoint, step + 1, stage)
    yield Finished(result=session.finish(request, timings))


def _checkpoint(session: Session, path: Path, step: int) -> None:
    if session.parallel.main:
        state = capture(
            session.nets, step=step, config=config_to_dict(session.config), history=session.history
        )
        save_checkpoint(path, state)
    session.parallel.barrier()


def _after_step(session: Session, checkpoint: Path, done: int, stage: str) -> Iterator[Event]:
    schedule = session.config.schedule
    last = done == schedule.steps
    if stage != "teacher_d" and (done % schedule.val_every == 0 or last):
        if session.parallel.main:
            yield Notice(message=session.validate(done))
        session.parallel.barrier()
    if done % schedule.checkpoint_every == 0 or last:
        _checkpoint(session, checkpoint, done)


def _train_step(session: Session, step: int) -> tuple[str, dict[str, float]]:
    config, nets = session.config, session.nets
    stage = config.schedule.stage(step)
    training_d = stage == "teacher_d"
    nets.teacher_d.train(training_d).requires_grad_(training_d)
    picks = step_picks(
        step,
        seed=config.seed,
        pool_size=len(session.train_crops),
        batch_size=config.schedule.batch_size,
        rank=session.parallel.rank,
        world=session.parallel.world,
        augment=config.data.augment,
    )
    samples = [session.train_cache.load(session.train_crops[i]) for i, _ in picks]
    batch = collate(samples, [t for _, t in picks]).to(session.parallel.device)
    if training_d:
        losses = steps.teacher_d_step(nets, batch)
    else:
        gan = stage == "gan"
        set_student_lrs(nets, config.schedule, step)
        losses, fake = steps.generator_step(nets, batch, config.losses, gan=gan)
        g_steps = step - config.schedule.teacher_d_steps
        update_ema(nets.ema, nets.student.generator, ema_decay(config.schedule.ema_decay, g_steps))
        if gan:
            losses |= steps.discriminator_step(nets, batch, fake, config.losses)
    return stage, session.parallel.mean(losses)


def _summary(stage: str, losses: dict[str, float]) -> str:
    key = "l_g_total" if "l_g_total" in losses else "l_td_real"
    return f"{stage} {key}={losses[key]:.4f}"
