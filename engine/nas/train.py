"""Supernet training: the distillation trainer's machinery, with sandwich steps.

Reused from engine.distill: photo scanning and the fixed crop pool (data), degradations and
the teacher cache (shared with distillation runs of the same data settings), batches as a
pure function of the step (sampler), atomic checkpoints with RNG states (checkpoint), the
torchrun process group and device choice (parallel), EMA, validation metrics and the
progress-event protocol. So a run resumes after ``kill -9`` on the same curve, stops at the
next step on cancel (checkpoint, then Cancelled), uses CUDA when present and splits each
global batch over ``torchrun`` ranks.

Start: the largest subnet is warm-started from a trained student (``init``), then channels
are sorted by importance; only then are the optimizer and the EMA made. Validation scores a
fixed list of named subnets (engine.nas.reference) of the EMA supernet on the held-out crops;
the best mean fidelity to the teacher is kept as ``supernet_best.safetensors``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.distill import export
from engine.distill.checkpoint import (
    CHECKPOINT_NAME,
    capture,
    open_run,
    restore,
    save_checkpoint,
)
from engine.distill.data import CropPool, plan_crops, scan_images
from engine.distill.nets import ADAM_BETAS, ema_decay, feature_pairs, update_ema
from engine.distill.parallel import Parallel, start, stop
from engine.distill.report import write_json
from engine.distill.sampler import collate, step_picks
from engine.distill.teacher_cache import Sample, TeacherCache
from engine.distill.teacher_net import load_teacher, weights_digest
from engine.distill.trainer import TrainStep
from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Event, Finished, Notice, Progress, result_of
from engine.nas import sandwich
from engine.nas.log import StepLog
from engine.nas.reference import validation_scores
from engine.nas.supernet import Supernet, save_supernet
from engine.nas.train_config import SupernetConfig, supernet_config_to_dict
from engine.paths import cache_dir

FINAL_NAME = "supernet.safetensors"
BEST_NAME = "supernet_best.safetensors"


@dataclass(frozen=True, kw_only=True)
class SupernetRequest:
    config: SupernetConfig
    out_dir: Path
    resume: bool = False
    command: str = ""


@dataclass(frozen=True, kw_only=True)
class SupernetResult:
    out_dir: Path
    steps: int
    supernet: Path
    best: Path | None
    best_metrics: dict[str, Any] | None
    seconds_per_step: float | None


@dataclass(kw_only=True)
class _Nets:
    """What a checkpoint keeps (the duck type engine.distill.checkpoint expects)."""

    supernet: Supernet
    ema: Supernet
    opt: torch.optim.Optimizer

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"supernet": self.supernet, "ema": self.ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": self.opt}


@dataclass(kw_only=True)
class _Run:
    config: SupernetConfig
    out_dir: Path
    parallel: Parallel
    nets: _Nets
    pool: CropPool
    cache: TeacherCache
    val_samples: list[Sample]
    summary: dict[str, Any]
    history: dict[str, Any]


def train_supernet(
    request: SupernetRequest, *, cancel: CancelToken | None = None
) -> Iterator[Event | TrainStep]:
    """Run (or resume) a supernet training; Finished.result is a SupernetResult."""
    parallel = start()
    try:
        yield from _train(request, parallel, cancel or CancelToken())
    finally:
        stop(parallel)


def _train(
    request: SupernetRequest, parallel: Parallel, cancel: CancelToken
) -> Iterator[Event | TrainStep]:
    checkpoint = request.out_dir / CHECKPOINT_NAME
    config_dict = supernet_config_to_dict(request.config)
    state = yield from open_run(
        request.out_dir, resume=request.resume, config=config_dict, main=parallel.main
    )
    run = yield from _prepare(request, parallel, cancel)
    first = 0
    if state is not None:
        restore(run.nets, state)
        run.history = state["history"]
        first = int(state["step"])
        yield Notice(message=f"resumed from step {first} ({checkpoint})")
    log = StepLog(request.out_dir / "metrics.csv", keep_until=first) if parallel.main else None
    total = request.config.distill.schedule.steps
    timings: list[float] = []
    for step in range(first, total):
        if parallel.any(cancel.cancelled):
            _checkpoint(run, checkpoint, step)
            raise Cancelled(f"stopped at step {step}; resume with --resume")
        began = time.perf_counter()
        losses = _step(run, step)
        seconds = time.perf_counter() - began
        timings.append(seconds)
        if log is not None:
            log.append(step + 1, seconds, losses)
        yield TrainStep(step=step + 1, stage="supernet", losses=losses, seconds=seconds)
        yield Progress(
            stage="supernet", done=step + 1, total=total, message=f"l_total={losses['l_total']:.4f}"
        )
        schedule = request.config.distill.schedule
        if (step + 1) % schedule.val_every == 0 or step + 1 == total:
            if parallel.main:
                yield Notice(message=_validate(run, step + 1))
            parallel.barrier()
        if (step + 1) % schedule.checkpoint_every == 0 or step + 1 == total:
            _checkpoint(run, checkpoint, step + 1)
    yield Finished(result=_finish(run, request, timings))


def _step(run: _Run, step: int) -> dict[str, float]:
    config = run.config.distill
    picks = step_picks(
        step,
        seed=config.seed,
        pool_size=len(run.pool.train),
        batch_size=config.schedule.batch_size,
        rank=run.parallel.rank,
        world=run.parallel.world,
        augment=config.data.augment,
    )
    samples = [run.cache.load(run.pool.train[i]) for i, _ in picks]
    batch = collate(samples, [t for _, t in picks]).to(run.parallel.device)
    subnets = sandwich.step_subnets(
        run.config.space, run.config.rules, seed=config.seed, step=step, total=config.schedule.steps
    )
    factor = config.schedule.lr_factor(step)
    for group in run.nets.opt.param_groups:
        group["lr"] = config.schedule.lr_g * factor
    run.nets.supernet.train()
    losses = sandwich.train_step(
        run.nets.supernet, run.nets.opt, batch, subnets, config.losses, run.config.rules
    )
    update_ema(run.nets.ema, run.nets.supernet, ema_decay(config.schedule.ema_decay, step))
    return run.parallel.mean(losses)


def _checkpoint(run: _Run, path: Path, step: int) -> None:
    if run.parallel.main:
        state = capture(
            run.nets,
            step=step,
            config=supernet_config_to_dict(run.config),
            history=run.history,
        )
        save_checkpoint(path, state)
    run.parallel.barrier()


def _validate(run: _Run, step: int) -> str:
    scores = validation_scores(run.nets.ema, run.val_samples, run.parallel.device)
    mean = round(sum(s["psnr_teacher"] for s in scores.values()) / len(scores), 4)
    entries = [h for h in run.history.setdefault("validation", []) if h["step"] < step]
    entries.append({"step": step, "mean_psnr_teacher": mean, "subnets": scores})
    run.history["validation"] = entries
    best = run.history.get("best")
    if best is None or mean > best["mean_psnr_teacher"]:
        run.history["best"] = entries[-1]
        save_supernet(run.out_dir / BEST_NAME, run.nets.ema)
    write_json(run.out_dir / "metrics.json", run.summary | {"history": run.history})
    names = list(scores)
    largest, smallest = scores[names[0]], scores[names[-1]]
    return (
        f"step {step}: mean fidelity {mean:.2f} dB over {len(scores)} subnets "
        f"(largest {largest['psnr_teacher']:.2f}, smallest {smallest['psnr_teacher']:.2f})"
    )


def _finish(run: _Run, request: SupernetRequest, timings: list[float]) -> SupernetResult:
    per_step = sum(timings) / len(timings) if timings else None
    final, best = run.out_dir / FINAL_NAME, run.out_dir / BEST_NAME
    if run.parallel.main:
        save_supernet(final, run.nets.ema)
        card = run.summary | {
            "command": request.command,
            "steps": run.config.distill.schedule.steps,
            "seconds_per_step": per_step,
            "history": run.history,
        }
        write_json(run.out_dir / "supernet.json", card)
    return SupernetResult(
        out_dir=run.out_dir,
        steps=run.config.distill.schedule.steps,
        supernet=final,
        best=best if best.is_file() else None,
        best_metrics=run.history.get("best"),
        seconds_per_step=per_step,
    )


# ---- preparation ---------------------------------------------------------------------------


def _fill_cache(
    config: SupernetConfig, pool: CropPool, parallel: Parallel, cancel: CancelToken
) -> Iterator[Event]:
    """The teacher cache of a distillation run with the same data settings; returns
    (train cache, val cache, teacher digest)."""
    distill = config.distill
    teacher = load_teacher(distill.teacher).to(parallel.device)
    digest = weights_digest(teacher)
    root = cache_dir() / "distill" / digest[:16]
    blocks = tuple(sorted({t for _, t in feature_pairs(distill, teacher.config)}))
    train = TeacherCache(root=root, degradation=distill.degradation, feature_blocks=blocks)
    val = TeacherCache(root=root, degradation=distill.degradation)
    for cache, crops, stage in ((train, pool.train, "teacher cache"), (val, pool.val, "val")):
        yield from cache.build(
            crops, teacher, cancel=cancel, rank=parallel.rank, world=parallel.world, stage=stage
        )
    parallel.barrier()
    if train.missing(pool.train) or val.missing(pool.val):
        raise RuntimeError(f"teacher cache incomplete after the build: {root}")
    return train, val, digest


def _build_nets(config: SupernetConfig, parallel: Parallel) -> tuple[_Nets, dict[str, Any]]:
    distill = config.distill
    supernet = Supernet(config.space, seed=distill.seed)
    init: dict[str, Any] = {}
    if distill.init is not None:
        path = export.init_weights(distill.init)
        filled = supernet.warm_start(export.load_student(path))
        init = export.lineage(path) | {"filled": len(filled)}
    if config.rules.sort_channels:
        supernet.sort_channels_by_importance()
    supernet = supernet.to(parallel.device)
    ema = copy.deepcopy(supernet).eval().requires_grad_(False)
    opt = torch.optim.Adam(supernet.parameters(), lr=distill.schedule.lr_g, betas=ADAM_BETAS)
    return _Nets(supernet=supernet, ema=ema, opt=opt), init


def _prepare(request: SupernetRequest, parallel: Parallel, cancel: CancelToken) -> Iterator[Event]:
    config = request.config.distill
    if not config.data.dirs:
        raise UsageError("no training data: give at least one --data folder")
    request.out_dir.mkdir(parents=True, exist_ok=True)
    images = yield from result_of(scan_images(config.data.dirs, config.data.hr_crop))
    pool = plan_crops(images, config.data, config.seed)
    n_val = len({c.image.digest for c in pool.val})
    yield Notice(
        message=f"{len(images) - n_val} training / {n_val} validation images, "
        f"{len(pool.train)} / {len(pool.val)} crops of {config.data.hr_crop} px; "
        f"device {parallel.device}, {parallel.world} process(es)"
    )
    train, val, digest = yield from _fill_cache(request.config, pool, parallel, cancel)
    nets, init = _build_nets(request.config, parallel)
    summary = {
        "config": supernet_config_to_dict(request.config),
        "data": {
            "train_images": len(images) - n_val,
            "val_images": n_val,
            "train_crops": len(pool.train),
            "val_crops": len(pool.val),
        },
        "teacher": {"spec": config.teacher, "weights_sha256": digest},
        "init": init or None,
    }
    return _Run(
        config=request.config,
        out_dir=request.out_dir,
        parallel=parallel,
        nets=nets,
        pool=pool,
        cache=train,
        val_samples=[val.load(c) for c in pool.val],
        summary=summary,
        history={},
    )
