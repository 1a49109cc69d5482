"""Everything a run holds between steps, how it is set up, validated and finished.

``prepare`` scans the data, fills the teacher cache (the slow part, shared by all ranks),
then builds the networks; the teacher itself is dropped before training starts, since only
its cached outputs are needed from then on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.distill import export, report
from engine.distill.config import DistillConfig, config_to_dict
from engine.distill.data import Crop, CropPool, plan_crops, scan_images
from engine.distill.nets import Nets, build_nets, feature_pairs
from engine.distill.parallel import Parallel
from engine.distill.provenance import provenance
from engine.distill.request import DistillResult
from engine.distill.teacher_cache import Sample, TeacherCache
from engine.distill.teacher_net import load_teacher, weights_digest
from engine.distill.validation import bicubic_scores, student_scores, val_images
from engine.errors import UsageError
from engine.events import CancelToken, Event, Notice, result_of
from engine.models.mfa import MFAGenerator
from engine.models.rrdbnet import RRDBNetConfig
from engine.paths import cache_dir

if TYPE_CHECKING:
    from engine.distill.request import DistillRequest

SIDE_BY_SIDE_ROWS = 4


@dataclass(kw_only=True)
class Session:
    config: DistillConfig
    out_dir: Path
    parallel: Parallel
    nets: Nets
    pool: CropPool
    train_cache: TeacherCache
    val_samples: list[Sample]
    teacher_digest: str
    image_counts: dict[str, int]
    init: dict[str, Any] | None = None
    history: dict[str, Any] = field(default_factory=dict)
    log: report.MetricsLog | None = None

    @property
    def train_crops(self) -> tuple[Crop, ...]:
        return self.pool.train

    def open_log(self, *, keep_until: int) -> None:
        if self.parallel.main:
            self.log = report.MetricsLog(self.out_dir / "metrics.csv", keep_until=keep_until)

    def validate(self, step: int) -> str:
        """Score the EMA student, keep the best, refresh the report files; a one-line summary."""
        images = val_images(self.nets.ema, self.val_samples, self.parallel.device)
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
            "data": self.image_counts
            | {"train_crops": len(self.pool.train), "val_crops": len(self.pool.val)},
            "teacher": {"spec": self.config.teacher, "weights_sha256": self.teacher_digest},
            "bicubic": self.history.get("bicubic"),
            "validation": self.history.get("validation", []),
            "best": self.history.get("best"),
        }

    def finish(self, request: DistillRequest, timings: list[float]) -> DistillResult:
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
            card = self.model_card(request, per_step) | {"weights": chosen.name}
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

    def model_card(self, request: DistillRequest, per_step: float | None) -> dict[str, Any]:
        """The run's card; its command, data and config name no folder of this machine."""
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
        } | ({"init": self.init} if self.init else {})


def _initial_generator(config: DistillConfig) -> tuple[MFAGenerator, Path | None]:
    if config.init is None:
        return MFAGenerator(config.student, seed=config.seed), None
    path = export.init_weights(config.init)
    generator = export.load_student(path)
    if generator.config != config.student:
        raise UsageError(
            f"--init {config.init}: that student is {generator.config.encode()}, "
            f"not {config.student.encode()}"
        )
    return generator, path


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


@dataclass(frozen=True, kw_only=True)
class _Caches:
    train: TeacherCache
    val: TeacherCache
    teacher_digest: str
    teacher_config: RRDBNetConfig


def _fill_caches(
    config: DistillConfig, pool: CropPool, parallel: Parallel, cancel: CancelToken
) -> Iterator[Event]:
    """Run the teacher on every crop not cached yet (ranks share the work); returns _Caches."""
    teacher = load_teacher(config.teacher).to(parallel.device)
    digest = weights_digest(teacher)
    root = cache_dir() / "distill" / digest[:16]
    blocks = tuple(sorted({t for _, t in feature_pairs(config, teacher.config)}))
    train = TeacherCache(root=root, degradation=config.degradation, feature_blocks=blocks)
    val = TeacherCache(root=root, degradation=config.degradation)
    for cache, crops, stage in (
        (train, pool.train, "teacher cache"),
        (val, pool.val, "teacher cache (val)"),
    ):
        yield from cache.build(
            crops, teacher, cancel=cancel, rank=parallel.rank, world=parallel.world, stage=stage
        )
    parallel.barrier()
    if train.missing(pool.train) or val.missing(pool.val):
        raise RuntimeError(f"teacher cache incomplete after the build: {root}")
    # Only the teacher's config is kept: its weights and activations are not needed again.
    return _Caches(train=train, val=val, teacher_digest=digest, teacher_config=teacher.config)


def prepare(
    config: DistillConfig, out_dir: Path, parallel: Parallel, cancel: CancelToken
) -> Iterator[Event]:
    """Scan, split, cache teacher outputs, build the nets; returns the Session (yield from)."""
    if not config.data.dirs:
        raise UsageError("no training data: give at least one --data folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    images = yield from result_of(scan_images(config.data.dirs, config.data.hr_crop))
    pool = plan_crops(images, config.data, config.seed)
    n_val = len({c.image.digest for c in pool.val})
    yield Notice(
        message=f"{len(images) - n_val} training / {n_val} validation images, "
        f"{len(pool.train)} / {len(pool.val)} crops of {config.data.hr_crop} px; "
        f"device {parallel.device}, {parallel.world} process(es)"
    )
    caches = yield from _fill_caches(config, pool, parallel, cancel)
    generator, init_path = _initial_generator(config)
    nets = build_nets(config, caches.teacher_config, parallel, generator)
    yield from _load_init_discriminators(nets, init_path, config)
    return Session(
        config=config,
        out_dir=out_dir,
        parallel=parallel,
        nets=nets,
        pool=pool,
        train_cache=caches.train,
        val_samples=[caches.val.load(c) for c in pool.val],
        teacher_digest=caches.teacher_digest,
        image_counts={"train_images": len(images) - n_val, "val_images": n_val},
        init=export.lineage(init_path) if init_path else None,
    )
