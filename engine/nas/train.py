"""Supernet training: the distillation trainer's machinery, with sandwich steps.

Reused from engine.distill: the run loop (run_loop: process group, resume, cancel,
checkpoint and validation cadence, events), photo scanning, the fixed crop pool and the
teacher cache shared with distillation runs of the same data settings (run_data), batches
as a pure function of the step, EMA and the metrics log. So a run resumes after ``kill -9``
on the same curve, stops at the next step on cancel (checkpoint, then Cancelled), uses CUDA
when present and splits each global batch over ``torchrun`` ranks.

Start: the largest subnet is warm-started from a trained student (``init``), then channels
are sorted by importance; only then are the optimizer and the EMA made. Validation scores a
fixed list of named subnets (engine.nas.reference) of the EMA supernet on the held-out crops;
the best mean fidelity to the teacher is kept as ``supernet_best.safetensors``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.distill import export
from engine.distill.nets import ADAM_BETAS, ema_decay, update_ema
from engine.distill.parallel import Parallel
from engine.distill.report import MetricsLog, write_json
from engine.distill.request import TrainStep
from engine.distill.run_data import RunData, prepare_data, teacher_summary
from engine.distill.run_loop import Trainer, run_training
from engine.events import CancelToken, Event
from engine.nas import sandwich
from engine.nas.reference import validation_scores
from engine.nas.supernet import Supernet, save_supernet
from engine.nas.train_config import SupernetConfig, supernet_config_to_dict

__all__ = ["SupernetRequest", "SupernetResult", "TrainStep", "train_supernet"]

FINAL_NAME = "supernet.safetensors"
BEST_NAME = "supernet_best.safetensors"
LOG_FIELDS = ("step", "seconds", *sandwich.LOSS_KEYS)


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
    """What a checkpoint keeps (engine.distill.checkpoint.Checkpointed)."""

    supernet: Supernet
    ema: Supernet
    opt: torch.optim.Optimizer

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"supernet": self.supernet, "ema": self.ema}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": self.opt}


def train_supernet(
    request: SupernetRequest, *, cancel: CancelToken | None = None
) -> Iterator[Event | TrainStep]:
    """Run (or resume) a supernet training; Finished.result is a SupernetResult."""
    return run_training(SUPERNET_TRAINING, request, cancel=cancel)


@dataclass(kw_only=True)
class _Run:
    """A supernet training as engine.distill.run_loop drives it."""

    config: SupernetConfig
    out_dir: Path
    command: str
    parallel: Parallel
    nets: _Nets
    data: RunData
    summary: dict[str, Any]
    history: dict[str, Any] = field(default_factory=dict)
    log: MetricsLog | None = None

    def train_step(self, step: int) -> tuple[str, dict[str, float]]:
        config = self.config.distill
        batch = self.data.batch(step, config, self.parallel)
        subnets = sandwich.step_subnets(
            self.config.space,
            self.config.rules,
            seed=config.seed,
            step=step,
            total=config.schedule.steps,
        )
        factor = config.schedule.lr_factor(step)
        for group in self.nets.opt.param_groups:
            group["lr"] = config.schedule.lr_g * factor
        self.nets.supernet.train()
        losses = sandwich.train_step(
            self.nets.supernet, self.nets.opt, batch, subnets, config.losses, self.config.rules
        )
        update_ema(self.nets.ema, self.nets.supernet, ema_decay(config.schedule.ema_decay, step))
        return "supernet", self.parallel.mean(losses)

    def describe(self, stage: str, losses: dict[str, float]) -> str:
        return f"l_total={losses['l_total']:.4f}"

    def validate(self, step: int) -> str:
        scores = validation_scores(self.nets.ema, self.data.val_samples, self.parallel.device)
        mean = round(sum(s["psnr_teacher"] for s in scores.values()) / len(scores), 4)
        entries = [h for h in self.history.setdefault("validation", []) if h["step"] < step]
        entries.append({"step": step, "mean_psnr_teacher": mean, "subnets": scores})
        self.history["validation"] = entries
        best = self.history.get("best")
        if best is None or mean > best["mean_psnr_teacher"]:
            self.history["best"] = entries[-1]
            save_supernet(self.out_dir / BEST_NAME, self.nets.ema)
        write_json(self.out_dir / "metrics.json", self.summary | {"history": self.history})
        names = list(scores)
        largest, smallest = scores[names[0]], scores[names[-1]]
        return (
            f"step {step}: mean fidelity {mean:.2f} dB over {len(scores)} subnets "
            f"(largest {largest['psnr_teacher']:.2f}, smallest {smallest['psnr_teacher']:.2f})"
        )

    def finish(self, timings: Sequence[float]) -> SupernetResult:
        per_step = sum(timings) / len(timings) if timings else None
        final, best = self.out_dir / FINAL_NAME, self.out_dir / BEST_NAME
        steps = self.config.distill.schedule.steps
        if self.parallel.main:
            save_supernet(final, self.nets.ema)
            card = self.summary | {
                "command": self.command,
                "steps": steps,
                "seconds_per_step": per_step,
                "history": self.history,
            }
            write_json(self.out_dir / "supernet.json", card)
        return SupernetResult(
            out_dir=self.out_dir,
            steps=steps,
            supernet=final,
            best=best if best.is_file() else None,
            best_metrics=self.history.get("best"),
            seconds_per_step=per_step,
        )


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
    """Scan, split, cache teacher outputs, build the nets; returns the _Run (yield from)."""
    config = request.config.distill
    data = yield from prepare_data(config, request.out_dir, parallel, cancel)
    nets, init = _build_nets(request.config, parallel)
    summary = {
        "config": supernet_config_to_dict(request.config),
        "data": data.counts(),
        "teacher": teacher_summary(config, data),
        "init": init or None,
    }
    return _Run(
        config=request.config,
        out_dir=request.out_dir,
        command=request.command,
        parallel=parallel,
        nets=nets,
        data=data,
        summary=summary,
    )


SUPERNET_TRAINING: Trainer[SupernetRequest] = Trainer(
    stage="supernet",
    prepare=_prepare,
    config=lambda request: supernet_config_to_dict(request.config),
    schedule=lambda request: request.config.distill.schedule,
    log_fields=LOG_FIELDS,
)
