"""What ``mfagan bench`` measures and finds: settings, per-model costs and timings, goals."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.inference.tiling import DEFAULT_OVERLAP
from engine.measure.bench_photo import PHONE_PHOTO, PhotoRun
from engine.models.mfa import LARGEST_CONFIG
from engine.models.profiling import CostReport
from engine.models.registry import STUDENT_NAME, TEACHER_NAME

TEACHER = TEACHER_NAME
STUDENT = STUDENT_NAME
STUDENT_PREFIX = "mfagan:"  # "mfagan:<MFAConfig.encode()>": a random-init student of that config
DEFAULT_MODELS = (TEACHER, STUDENT_PREFIX + LARGEST_CONFIG.encode(), STUDENT, "bicubic")

# The targets for the default student (the paper reports 42.9x compute, 8.3x memory).
GOALS: tuple[tuple[str, float], ...] = (
    ("macs", 50.0),
    ("memory_access_bytes", 10.0),
    ("peak_activation_bytes", 10.0),
)
METRIC_TITLES = {
    "macs": "MACs",
    "memory_access_bytes": "memory-access cost",
    "peak_activation_bytes": "peak activation",
}
# Issue 18, "in the same run": the phone photo with --backend auto against --backend onnx
# (onnxruntime fp32, what the app ran before auto), and auto's peak memory on it.
PHOTO_BACKENDS = ("onnx", "auto")
PHOTO_SPEEDUP_GOAL = 2.0
PHOTO_PEAK_RSS_GOAL_GIB = 2.5


@dataclass(frozen=True, kw_only=True)
class BenchSettings:
    """One bench run. ``models`` are registry names or ``mfagan:<config>`` specs.

    Ratios are ``reference`` / model; goals are checked for ``goal_model``. ``time_size`` is
    the side of the square LR photo timed end to end (None: no timing); every model runs with
    the same ``tile`` / ``overlap``, ``repeats`` times, the reference ``reference_repeats``
    times (the teacher needs minutes per 512x512 photo on two cores).
    """

    models: tuple[str, ...] = DEFAULT_MODELS
    reference: str = TEACHER
    goal_model: str = STUDENT
    profile_sizes: tuple[int, ...] = (128, 256)
    time_size: int | None = 512
    # Every runtime this computer has, and what --backend auto picks among them (issue 18).
    backends: tuple[str, ...] = ("torch", "onnx", "openvino", "auto")
    repeats: int = 5
    reference_repeats: int = 2
    # 2x2 tiles of a 512 px photo with 16 px overlap: tiling costs ~13% extra pixels, not 2x.
    tile: int | None = 272
    overlap: int = DEFAULT_OVERLAP
    image: Path | None = None  # None: the bundled astronaut photo
    # A phone photo upscaled end to end by goal_model (bench_photo), once per backend of
    # photo_backends, in that order; None: not measured.
    photo: tuple[int, int] | None = PHONE_PHOTO
    photo_backends: tuple[str, ...] = PHOTO_BACKENDS

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("no models to bench")
        if min(self.profile_sizes, default=1) < 1 or (self.time_size or 1) < 1:
            raise ValueError("sizes must be positive")
        if self.repeats < 1 or self.reference_repeats < 1:
            raise ValueError("repeats must be at least 1")

    @classmethod
    def quick(cls) -> BenchSettings:
        """A smoke run: small sizes, one repeat, the same models and backends."""
        return cls(
            profile_sizes=(64,), time_size=64, repeats=1, reference_repeats=1, photo=(400, 300)
        )

    def repeats_for(self, name: str) -> int:
        return self.reference_repeats if name == self.reference else self.repeats

    @property
    def photo_goals(self) -> bool:
        """Whether the photo goals are judged: both runs are made, on a photo at least as big
        as a phone's (on --quick's small photo, starting the child outweighs upscaling)."""
        if self.photo is None or not set(PHOTO_BACKENDS) <= set(self.photo_backends):
            return False
        return self.photo[0] * self.photo[1] >= PHONE_PHOTO[0] * PHONE_PHOTO[1]


@dataclass(frozen=True, kw_only=True)
class Timing:
    """Wall times of one model on one backend for the whole photo (tiling included)."""

    backend: str
    runs_s: tuple[float, ...] = ()
    start_rss_bytes: int | None = None  # resident memory when the timed runs began
    peak_rss_bytes: int | None = None
    error: str = ""
    runtime: str = ""  # what ran: "openvino-bf16" for openvino, the pick for auto

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.runs_s) if self.runs_s else None


@dataclass(frozen=True, kw_only=True)
class ModelBench:
    name: str
    title: str
    config: str
    costs: tuple[CostReport, ...]
    timings: tuple[Timing, ...] = ()

    def cost_at(self, size: int) -> CostReport | None:
        return next((c for c in self.costs if c.input_shape[-2:] == (size, size)), None)

    def timing(self, backend: str) -> Timing | None:
        return next((t for t in self.timings if t.backend == backend), None)


@dataclass(frozen=True, kw_only=True)
class GoalCheck:
    """One goal: ``ratio`` (for photo_peak_rss_gib: GiB) against ``target``.

    ``lr_size`` is None for the photo goals; ``ratio`` is None where the run it needs failed,
    which fails the goal. ``at_most``: the value must stay at or under the target (memory).
    """

    metric: str
    lr_size: int | None
    ratio: float | None
    target: float
    at_most: bool = False

    @property
    def passed(self) -> bool:
        if self.ratio is None:
            return False
        return self.ratio <= self.target if self.at_most else self.ratio >= self.target


@dataclass(frozen=True, kw_only=True)
class BenchResult:
    settings: BenchSettings
    machine: str
    date: str
    models: tuple[ModelBench, ...]
    goals: tuple[GoalCheck, ...] = field(default=())
    photos: tuple[PhotoRun, ...] = ()  # one per settings.photo_backends, in that order

    def model(self, name: str) -> ModelBench | None:
        return next((m for m in self.models if m.name == name), None)

    def photo_run(self, backend: str) -> PhotoRun | None:
        return next((p for p in self.photos if p.backend == backend), None)

    @property
    def photo(self) -> PhotoRun | None:
        """The --backend auto run (what a user runs), else the last one made."""
        return self.photo_run("auto") or (self.photos[-1] if self.photos else None)

    @property
    def photo_speedup(self) -> float | None:
        """onnxruntime's time / auto's on the phone photo; None unless both ran."""
        onnx, auto = self.photo_run("onnx"), self.photo_run("auto")
        if onnx is None or auto is None or onnx.seconds is None or auto.seconds is None:
            return None
        return _ratio(onnx.seconds, auto.seconds)

    def cost_ratio(self, name: str, metric: str, size: int) -> float | None:
        """reference / model for a CostReport field; None when either side is missing or 0."""
        ref, mine = self.model(self.settings.reference), self.model(name)
        ref_cost = ref.cost_at(size) if ref else None
        my_cost = mine.cost_at(size) if mine else None
        if ref_cost is None or my_cost is None:
            return None
        return _ratio(getattr(ref_cost, metric), getattr(my_cost, metric))

    def speedup(self, name: str, backend: str) -> float | None:
        """Reference time / model time on ``backend``: how much faster the model is."""
        ref, mine = self.model(self.settings.reference), self.model(name)
        ref_t = ref.timing(backend) if ref else None
        my_t = mine.timing(backend) if mine else None
        if ref_t is None or my_t is None or ref_t.median_s is None or my_t.median_s is None:
            return None
        return _ratio(ref_t.median_s, my_t.median_s)

    @property
    def goals_passed(self) -> bool:
        return bool(self.goals) and all(goal.passed for goal in self.goals)

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON: settings, machine, per-model costs and timings, goals."""
        s = self.settings
        return {
            "machine": self.machine,
            "date": self.date,
            "reference": s.reference,
            "goal_model": s.goal_model,
            "profile_sizes": list(s.profile_sizes),
            "time_size": s.time_size,
            "tile": s.tile,
            "overlap": s.overlap,
            "models": [_model_dict(self, m) for m in self.models],
            "goals": [
                {
                    "metric": g.metric,
                    "lr_size": g.lr_size,
                    "ratio": g.ratio,
                    "target": g.target,
                    "at_most": g.at_most,
                    "passed": g.passed,
                }
                for g in self.goals
            ],
            "goals_passed": self.goals_passed,
            "photo": self.photo.as_dict() if self.photo else None,
            "photos": [run.as_dict() for run in self.photos],
            "photo_speedup": self.photo_speedup,
        }


def check_goals(result: BenchResult) -> tuple[GoalCheck, ...]:
    """One check per goal metric and profiled size (none without reference or goal model),
    then the two phone-photo goals where ``settings.photo_goals``."""
    checks = []
    for size in result.settings.profile_sizes:
        for metric, target in GOALS:
            ratio = result.cost_ratio(result.settings.goal_model, metric, size)
            if ratio is not None:
                checks.append(GoalCheck(metric=metric, lr_size=size, ratio=ratio, target=target))
    if result.settings.photo_goals:
        auto = result.photo_run("auto")
        # A failed auto run fails the memory goal too: a killed child must not pass on a low peak.
        peak = auto.peak_rss_bytes if auto and not auto.error else None
        checks += [
            GoalCheck(
                metric="photo_speedup",
                lr_size=None,
                ratio=result.photo_speedup,
                target=PHOTO_SPEEDUP_GOAL,
            ),
            GoalCheck(
                metric="photo_peak_rss_gib",
                lr_size=None,
                ratio=None if peak is None else peak / 2**30,
                target=PHOTO_PEAK_RSS_GOAL_GIB,
                at_most=True,
            ),
        ]
    return tuple(checks)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _model_dict(result: BenchResult, model: ModelBench) -> dict[str, Any]:
    return {
        "name": model.name,
        "title": model.title,
        "config": model.config,
        "costs": [
            cost.as_dict()
            | {
                f"{metric}_ratio": result.cost_ratio(model.name, metric, cost.input_shape[-1])
                for metric in METRIC_TITLES
            }
            for cost in model.costs
        ],
        "timings": [
            {
                "backend": t.backend,
                "runtime": t.runtime,
                "runs_s": list(t.runs_s),
                "median_s": t.median_s,
                "start_rss_bytes": t.start_rss_bytes,
                "peak_rss_bytes": t.peak_rss_bytes,
                "speedup": result.speedup(model.name, t.backend),
                "error": t.error,
            }
            for t in model.timings
        ],
    }
