"""The retrain form as a distillation config, and an honest estimate of its duration.

The form gives photo folders and a budget (steps, or minutes turned into steps). The base
config is the user's config file if given, else fine-tuning of the shipped student when it
exists, else training a student from scratch; its stages are scaled to the step budget
keeping their proportions (a 500-step run still pre-trains the teacher D, warms up, then
trains the GAN).

Estimates are only made from measurements on this computer: ``calibration_config`` is the
same run cut down to a couple of steps per stage on two photos; the seconds it measures
per teacher crop and per step of each stage, times the real run's counts, give the estimate.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.widgets.eta import format_duration
from desktop_app.wording import count
from engine.distill.config import DistillConfig, ScheduleConfig, load_config
from engine.distill.fine_tune import fine_tune_config
from engine.models import registry

STAGES = ("teacher_d", "warmup", "gan")
# Training augments each crop into its 8 flips and rotations: a short run needs about one
# teacher-made crop per 8 samples it draws, not the recipe's full set per photo, so the
# teacher pass (minutes per few crops on a CPU) shrinks with the steps asked for.
CROP_REUSE = 8
CALIBRATION_STEPS = 3  # per stage; the last step of each is the one that counts
TEACHER_CROP = "teacher_crop"


def shipped_student_available() -> bool:
    return registry.STUDENT_WEIGHTS.is_file()


def base_config(config_file: Path | None) -> DistillConfig:
    if config_file is not None:
        return load_config(config_file)
    if shipped_student_available():
        return fine_tune_config("default")
    return DistillConfig()


def scaled_schedule(schedule: ScheduleConfig, steps: int) -> ScheduleConfig:
    """The same stage proportions over ``steps``; validation ~10 times, checkpoints ~20."""
    ratio = steps / schedule.steps
    teacher_d = min(steps, round(schedule.teacher_d_steps * ratio))
    warmup = min(steps - teacher_d, round(schedule.warmup_steps * ratio))
    return dataclasses.replace(
        schedule,
        steps=steps,
        teacher_d_steps=teacher_d,
        warmup_steps=warmup,
        val_every=max(1, min(schedule.val_every, steps // 10 or 1)),
        checkpoint_every=max(1, min(schedule.checkpoint_every, steps // 20 or 1)),
    )


def crops_needed(steps: int, batch_size: int) -> int:
    """Teacher-made crops a run of ``steps`` needs: its samples over CROP_REUSE."""
    return -(-steps * batch_size // CROP_REUSE)


def crops_per_photo(recipe: int, steps: int, batch_size: int, photos: int) -> int:
    """The recipe's crops per photo, fewer when the run is too short to use them all."""
    wanted = -(-crops_needed(steps, batch_size) // max(photos, 1))
    return max(1, min(recipe, wanted))


def build_config(
    folders: Sequence[Path], steps: int, config_file: Path | None, photos: int = 0
) -> DistillConfig:
    return configure(base_config(config_file), folders, steps, photos)


def configure(
    base: DistillConfig, folders: Sequence[Path], steps: int, photos: int = 0
) -> DistillConfig:
    """The run of the form: the base recipe over ``steps``; with the number of (good)
    ``photos`` known, only as many crops per photo as those steps will use."""
    schedule = scaled_schedule(base.schedule, steps)
    data = dataclasses.replace(base.data, dirs=tuple(folders))
    if photos:
        per_photo = crops_per_photo(data.crops_per_image, steps, schedule.batch_size, photos)
        data = dataclasses.replace(data, crops_per_image=per_photo)
    return dataclasses.replace(base, data=data, schedule=schedule)


def stage_steps(schedule: ScheduleConfig) -> dict[str, int]:
    teacher_d = min(schedule.teacher_d_steps, schedule.steps)
    warmup = min(schedule.warmup_steps, schedule.steps - teacher_d)
    return {"teacher_d": teacher_d, "warmup": warmup, "gan": schedule.steps - teacher_d - warmup}


def calibration_config(config: DistillConfig, photos: Sequence[Path]) -> DistillConfig:
    """The run cut down: two photos, one crop each, two steps of each stage it uses."""
    counts = stage_steps(config.schedule)
    per = {stage: CALIBRATION_STEPS if counts[stage] else 0 for stage in STAGES}
    schedule = dataclasses.replace(
        config.schedule,
        steps=sum(per.values()),
        teacher_d_steps=per["teacher_d"],
        warmup_steps=per["warmup"],
        val_every=10_000,
        checkpoint_every=10_000,
    )
    data = dataclasses.replace(
        config.data, dirs=tuple(photos), crops_per_image=1, val_crops_per_image=1
    )
    return dataclasses.replace(config, data=data, schedule=schedule)


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """Seconds measured on this computer: per teacher crop, per step of each stage, per
    validation check, and once per run for start-up (PyTorch's first calls on each new shape
    are many times slower than the rest)."""

    teacher_crop: float
    steps: dict[str, float]
    validation: float
    startup: float
    batch_size: int
    hr_crop: int
    when: float
    teacher_context: int = 0

    def as_settings(self) -> dict[str, float]:
        return {
            TEACHER_CROP: self.teacher_crop,
            **{f"step_{k}": v for k, v in self.steps.items()},
            "validation": self.validation,
            "startup": self.startup,
            "batch_size": float(self.batch_size),
            "hr_crop": float(self.hr_crop),
            "teacher_context": float(self.teacher_context),
            "when": self.when,
        }

    @classmethod
    def from_settings(cls, values: dict[str, float]) -> Measurement | None:
        if not {TEACHER_CROP, "validation", "startup", "when"} <= set(values):
            return None
        steps = {k.removeprefix("step_"): v for k, v in values.items() if k.startswith("step_")}
        return cls(
            teacher_crop=values[TEACHER_CROP],
            steps=steps,
            validation=values["validation"],
            startup=values["startup"],
            batch_size=int(values.get("batch_size", 0)),
            hr_crop=int(values.get("hr_crop", 0)),
            when=values["when"],
            teacher_context=int(values.get("teacher_context", 0)),
        )

    def fits(self, config: DistillConfig) -> bool:
        """Measured with the same batch, crop size and teacher context, and for every stage
        the run uses."""
        needed = {s for s, n in stage_steps(config.schedule).items() if n}
        return (
            self.batch_size == config.schedule.batch_size
            and self.hr_crop == config.data.hr_crop
            and self.teacher_context == config.data.teacher_context
            and needed <= set(self.steps)
        )


@dataclass(frozen=True, kw_only=True)
class Timings:
    """What a calibration run saw: every step's seconds by stage, and the other costs."""

    steps: dict[str, list[float]]
    teacher_calls: list[float]  # the teacher on one crop, called a few times
    validation: float  # the check after the last step (and the final save)


def measurement_from(timings: Timings, config: DistillConfig) -> Measurement:
    """Steady costs are the fastest timing of each kind (a busy moment only ever slows a
    call down); what the first calls took beyond that is start-up, paid once per run."""
    steady_teacher = min(timings.teacher_calls)
    steady_steps = {stage: min(times) for stage, times in timings.steps.items() if times}
    extra = timings.teacher_calls[0] - steady_teacher
    extra += sum(times[0] - steady_steps[stage] for stage, times in timings.steps.items() if times)
    return Measurement(
        teacher_crop=steady_teacher,
        steps=steady_steps,
        validation=timings.validation,
        startup=extra,
        batch_size=config.schedule.batch_size,
        hr_crop=config.data.hr_crop,
        when=time.time(),
        teacher_context=config.data.teacher_context,
    )


@dataclass(frozen=True, kw_only=True)
class Estimate:
    startup_seconds: float
    teacher_seconds: float
    train_seconds: float
    validation_seconds: float
    crops: int
    checks: int

    @property
    def total(self) -> float:
        return (
            self.startup_seconds
            + self.teacher_seconds
            + self.train_seconds
            + self.validation_seconds
        )


def estimate(config: DistillConfig, photos: int, measured: Measurement) -> Estimate:
    """At most this long on an otherwise idle computer (cached teacher crops cost nothing)."""
    schedule = config.schedule
    crops = photos * config.data.crops_per_image
    counts = stage_steps(schedule)
    train = sum(n * measured.steps.get(stage, 0.0) for stage, n in counts.items())
    trained_g = schedule.steps - counts["teacher_d"]  # no checks while only the D learns
    checks = -(-trained_g // schedule.val_every) if trained_g > 0 else 0
    return Estimate(
        startup_seconds=measured.startup,
        teacher_seconds=crops * measured.teacher_crop,
        train_seconds=train,
        validation_seconds=checks * measured.validation,
        crops=crops,
        checks=checks,
    )


MAX_STEPS = 1_000_000
# The measurement cannot tell whether other programs were at work while it ran (it keeps the
# fastest of its timings, which a busy moment only slows), so the estimate never claims an
# idle computer; it says which way the truth lies.
SLOWER_WHEN_BUSY = "longer while other programs keep the computer busy"


def explain_estimate(config: DistillConfig, photos: int, measured: Measurement) -> str:
    """The estimate as the form shows it (rich text): the total, then where it comes from."""
    guess = estimate(config, photos, measured)
    schedule = config.schedule
    steps, batch = schedule.steps, schedule.batch_size
    per_step = guess.train_seconds / max(steps, 1)
    per_photo = config.data.crops_per_image
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(measured.when))
    checks, steps_text = count(guess.checks, "check"), count(steps, "step")
    return (
        f"<b>{steps_text} ≈ {format_duration(guess.total)}</b> on this computer, from its "
        f"fastest timings ({SLOWER_WHEN_BUSY}):<br>"
        f"· teacher pass {format_duration(guess.teacher_seconds)}: {count(guess.crops, 'crop')} "
        f"× {measured.teacher_crop:.1f} s ({per_photo} a photo: {steps_text} of {batch} "
        f"use each crop up to {CROP_REUSE} ways, flipped and turned)<br>"
        f"· training {format_duration(guess.train_seconds)}: {steps_text} × {per_step:.2f} s<br>"
        f"· {checks} {format_duration(guess.validation_seconds)}, start-up "
        f"{format_duration(guess.startup_seconds)}<br>"
        f"Timed {when}; <b>Measure</b> again after changing computer or settings."
    )


def estimate_summary(config: DistillConfig, photos: int, measured: Measurement) -> str:
    """The estimate in a line or two (rich text); ``explain_estimate``, where it comes
    from, goes into the tooltip: at a 1024x700 window the whole sum made the form taller
    than the window."""
    guess = estimate(config, photos, measured)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(measured.when))
    return (
        f"<b>{count(config.schedule.steps, 'step')} ≈ {format_duration(guess.total)}</b> "
        f"on this computer (measured {when}; point here for the sum). <b>Measure</b> again "
        "after changing computer or settings."
    )


def steps_for_minutes(
    config_for: Callable[[int], DistillConfig], photos: int, minutes: int, measured: Measurement
) -> int:
    """The most steps whose whole run (teacher pass, training, checks) fits the budget;
    1 when not even that fits. ``config_for(steps)`` is the run of that many steps: its
    teacher pass grows with the steps, so the answer is searched, not divided out."""

    def fits(steps: int) -> bool:
        return estimate(config_for(steps), photos, measured).total <= minutes * 60

    low, high = 1, MAX_STEPS
    if not fits(low):
        return 1
    while low < high:  # the estimate grows with the steps: bisect for the last that fits
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
