"""A distillation run as engine.distill.run_loop drives it: set-up, step, validation, finish.

``prepare`` scans the data and fills the teacher cache (engine.distill.run_data: the slow
part, shared by all ranks), then builds the networks; the teacher itself is dropped before
training starts, since only its cached outputs are needed from then on.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.distill import export, report, steps
from engine.distill.config import DistillConfig, config_to_dict
from engine.distill.nets import Nets, build_nets
from engine.distill.parallel import Parallel
from engine.distill.provenance import provenance
from engine.distill.request import DistillRequest, DistillResult
from engine.distill.run_data import RunData, prepare_data, teacher_summary
from engine.distill.validation import bicubic_scores, student_scores, val_images
from engine.errors import UsageError
from engine.events import CancelToken, Event, Notice
from engine.models import mfa_growth
from engine.models.mfa import MFAGenerator

SIDE_BY_SIDE_ROWS = 4


@dataclass(kw_only=True)
class Session:
    request: DistillRequest
    parallel: Parallel
    nets: Nets
    data: RunData
    init: dict[str, Any] | None = None
    history: dict[str, Any] = field(default_factory=dict)
    log: report.MetricsLog | None = None

    @property
    def config(self) -> DistillConfig:
        return self.request.config

    @property
    def out_dir(self) -> Path:
        return self.request.out_dir

    def train_step(self, step: int) -> tuple[str, dict[str, float]]:
        batch = self.data.batch(step, self.config, self.parallel)
        losses = steps.stage_step(self.nets, batch, self.config, step)
        return self.config.schedule.stage(step), self.parallel.mean(losses)

    def describe(self, stage: str, losses: dict[str, float]) -> str:
        key = "l_g_total" if "l_g_total" in losses else "l_td_real"
        return f"{stage} {key}={losses[key]:.4f}"

    def validate(self, step: int) -> str:
        """Score the EMA student, keep the best, refresh the report files; a one-line summary."""
        images = val_images(self.nets.ema, self.data.val_samples, self.parallel.device)
        scores = student_scores(images)
        if "bicubic" not in self.history:
            self.history["bicubic"] = bicubic_scores(images)
        runs = [h for h in self.history.setdefault("validation", []) if h["step"] < step]
        runs.append({"step": step, "student": scores})
        self.history["validation"] = runs
        best = self.history.get("best")
        if best is None or scores["psnr_teacher"] > best["student"]["psnr_teacher"]:
            self.history["best"] = {"step": step, "student": scores}
            best_path = self.out_dir / "student_best.safetensors"
            export.save_student(best_path, self.nets.ema)
            # The Ds of the same step: fine-tuning from the best student starts balanced.
            export.save_discriminators(
                export.discriminators_path(best_path), self.nets.teacher_d, self.nets.student_d.d
            )
        report.side_by_side(images[:SIDE_BY_SIDE_ROWS], self.out_dir / "side_by_side.png")
        self.write_reports()
        return (
            f"step {step}: student vs teacher {scores['psnr_teacher']:.2f} dB "
            f"(bicubic {self.history['bicubic']['psnr_teacher']:.2f}), "
            f"vs ground truth {scores['psnr_gt']:.2f} dB"
        )

    def write_reports(self) -> None:
        rows = self.log.read() if self.log else []
        report.plot_curves(rows, self.history.get("validation", []), self.out_dir / "losses.png")
        report.write_json(self.out_dir / "metrics.json", self.summary())

    def summary(self) -> dict[str, Any]:
        return {
            "config": config_to_dict(self.config),
            "data": self.data.counts(),
            "teacher": teacher_summary(self.config, self.data),
            "bicubic": self.history.get("bicubic"),
            "validation": self.history.get("validation", []),
            "best": self.history.get("best"),
        }

    def finish(self, timings: Sequence[float]) -> DistillResult:
        request = self.request
        per_step = sum(timings) / len(timings) if timings else None
        final = self.out_dir / "student.safetensors"
        best = self.out_dir / "student_best.safetensors"
        registered = None
        if self.parallel.main:
            export.save_student(final, self.nets.ema)
            export.save_discriminators(
                export.discriminators_path(final), self.nets.teacher_d, self.nets.student_d.d
            )
            chosen = best if best.is_file() else final
            # The card belongs to the file that gets registered (best by validation).
            card = self.model_card(per_step) | {"weights": chosen.name}
            report.write_json(chosen.with_suffix(".json"), card)
            self.write_reports()
            if request.register_as:
                registered = export.register_user_model(request.register_as, chosen, card)
        return DistillResult(
            out_dir=self.out_dir,
            steps=self.config.schedule.steps,
            student=final,
            best=best if best.is_file() else None,
            best_metrics=self.history.get("best"),
            registered=registered,
            seconds_per_step=per_step,
        )

    def model_card(self, per_step: float | None) -> dict[str, Any]:
        """The run's card; its command, data and config name no folder of this machine."""
        request = self.request
        init = self.config.init if self.config.init != "default" else None
        # A teacher given as a weights file (not a registry name) is a path too.
        teacher = self.config.teacher if "/" in self.config.teacher else None
        origin = provenance(request.command, self.config.data.dirs, paths=(init, teacher))
        config = config_to_dict(self.config)
        config["data"]["dirs"] = [origin.paths(d) for d in self.config.data.dirs]
        config |= {key: origin.paths(v) for key, v in (("init", init), ("teacher", teacher)) if v}
        return {
            "architecture": export.ARCHITECTURE,
            "config": self.config.student.encode(),
            "scale": self.config.student.scale,
            "training": origin.as_dict()
            | {
                "steps": self.config.schedule.steps,
                "seconds_per_step": per_step,
                "distill_config": config,
            }
            | self.summary()["data"],
            "teacher": self.summary()["teacher"] | {"spec": config["teacher"]},
            "validation": {
                "bicubic": self.history.get("bicubic"),
                "best": self.history.get("best"),
            },
            "cost": export.cost(self.nets.ema),
        } | ({"init": self.init} if self.init else {}) | self._searched()

    def _searched(self) -> dict[str, Any]:
        """A searched architecture fine-tuned further is still the search's pick: its card
        keeps the search (``nas``) that chose it, as long as the architecture is unchanged."""
        init = self.init or {}
        if "nas" in init and init.get("config") == self.config.student.encode():
            return {"nas": init["nas"]}
        return {}


def _initial_generator(
    config: DistillConfig,
) -> Generator[Event, None, tuple[MFAGenerator, Path | None]]:
    if config.init is None:
        return MFAGenerator(config.student, seed=config.seed), None
    path = export.init_weights(config.init)
    generator = export.load_student(path)
    if generator.config == config.student:
        return generator, path
    if not mfa_growth.can_grow(generator.config, config.student):
        raise UsageError(
            f"--init {config.init}: that student is {generator.config.encode()}, "
            f"not {config.student.encode()} (a student can only start from a narrower or "
            "shallower one with the same first blocks)"
        )
    yield Notice(
        message=f"{config.student.encode()} starts as {path.name} "
        f"({generator.config.encode()}) grown: the new channels and blocks begin unused"
    )
    return mfa_growth.grown(generator, config.student, seed=config.seed), path


def _load_init_discriminators(
    nets: Nets, init: Path | None, config: DistillConfig
) -> Iterator[Event]:
    """Fine-tuning starts from the Ds saved beside the student, when there are any."""
    if init is None:
        return
    path = export.discriminators_path(init)
    if path.is_file():
        export.load_discriminators(path, nets.teacher_d, nets.student_d.d)
        yield Notice(message=f"discriminators initialised from {path}")
    elif config.schedule.teacher_d_steps == 0 and config.losses.d_distill > 0:
        yield Notice(
            message=f"no {path.name} beside the student and teacher_d_steps = 0: "
            "the student D is distilled from an untrained teacher D"
        )


def prepare(request: DistillRequest, parallel: Parallel, cancel: CancelToken) -> Iterator[Event]:
    """Scan, split, cache teacher outputs, build the nets; returns the Session (yield from)."""
    config = request.config
    data = yield from prepare_data(config, request.out_dir, parallel, cancel)
    generator, init_path = yield from _initial_generator(config)
    nets = build_nets(config, data.teacher_config, parallel, generator)
    yield from _load_init_discriminators(nets, init_path, config)
    return Session(
        request=request,
        parallel=parallel,
        nets=nets,
        data=data,
        init=export.lineage(init_path) if init_path else None,
    )
