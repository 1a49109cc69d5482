"""Frozen configuration of a distillation run, parsed once from TOML/JSON at the edge.

A config file mirrors the dataclasses: top-level keys of ``DistillConfig`` plus the tables
``[data]``, ``[degradation]``, ``[losses]`` and ``[schedule]``; ``student`` is an encoded
MFA config (``"b4-c32-g16-h1111-conv-x4"``). A misspelt key is an error, never ignored.
Relative data folders in a file are relative to that file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import UsageError
from engine.models.mfa_config import DEFAULT_CONFIG, MFAConfig

LR_SCHEDULES = ("constant", "cosine")
COSINE_FLOOR = 0.01
DEGRADATION_MODELS = ("mild", "real")
SCALE = 4  # the teacher is x4, so every student distilled from it is too


@dataclass(frozen=True, kw_only=True)
class DegradationConfig:
    """HR crop -> LR input.

    ``model = "mild"``: blur, bicubic x4 down, Gaussian noise, JPEG (each with a chance; the
    ranges below are (low, high), drawn uniformly per crop, noise sigma in 8-bit levels).
    ``model = "real"``: the teacher's own second-order chain (engine.distill.realworld) on
    the draws left after ``clean_share`` (bicubic only) and ``mild_share`` (the mild model).
    """

    model: str = "mild"
    clean_share: float = 0.15
    mild_share: float = 0.15
    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.2, 1.2)
    noise_prob: float = 0.4
    noise_sigma: tuple[float, float] = (1.0, 5.0)
    jpeg_prob: float = 0.4
    jpeg_quality: tuple[int, int] = (70, 95)

    def __post_init__(self) -> None:
        _check(self.model in DEGRADATION_MODELS, "degradation.model must be mild or real")
        _check(
            self.clean_share >= 0
            and self.mild_share >= 0
            and self.clean_share + self.mild_share <= 1,
            "degradation.clean_share and mild_share must be >= 0 and sum to at most 1",
        )
        for name in ("blur_prob", "noise_prob", "jpeg_prob"):
            _check(0.0 <= getattr(self, name) <= 1.0, f"degradation.{name} must be in [0, 1]")
        for name in ("blur_sigma", "noise_sigma", "jpeg_quality"):
            low, high = getattr(self, name)
            _check(
                0 <= low <= high, f"degradation.{name} must be (low, high) with 0 <= low <= high"
            )
        _check(self.jpeg_quality[1] <= 100, "degradation.jpeg_quality must be at most 100")

    def identity(self) -> dict[str, object]:
        """What determines the LR pixels (cache keys): the mild model keeps its old fields
        only, so caches built before the real model existed stay valid."""
        fields = dataclasses.asdict(self)
        if self.model == "mild":
            for name in ("model", "clean_share", "mild_share"):
                del fields[name]
        return fields


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """HR folders -> fixed pool of crops (teacher outputs are cached per crop)."""

    dirs: tuple[Path, ...] = ()
    hr_crop: int = 128
    crops_per_image: int = 8
    val_fraction: float = 0.1
    val_crops_per_image: int = 1
    augment: bool = True
    # LR pixels of the photo around each crop that the teacher sees (its output is cut back to
    # the crop). Its receptive field is far wider than a crop: run on a 32-px crop alone it
    # draws something else than it does inside the photo, which is where the student is used.
    teacher_context: int = 0
    # 0: every crop has its own degradation draw. N: N draws per image, shared by its crops,
    # so one teacher pass over the (degraded) whole photo can serve several crops.
    degradations_per_image: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dirs", tuple(Path(d) for d in self.dirs))
        _check(self.teacher_context >= 0, "data.teacher_context must be >= 0")
        _check(self.degradations_per_image >= 0, "data.degradations_per_image must be >= 0")
        _check(self.hr_crop % SCALE == 0, f"data.hr_crop must be a multiple of {SCALE}")
        # The PatchGAN needs 3 stride-2 convs plus two 4x4 ones: 32 px is its smallest input.
        _check(self.hr_crop >= 32, "data.hr_crop must be at least 32")
        _check(self.crops_per_image >= 1, "data.crops_per_image must be >= 1")
        _check(self.val_crops_per_image >= 1, "data.val_crops_per_image must be >= 1")
        _check(0.0 < self.val_fraction < 1.0, "data.val_fraction must be in (0, 1)")


@dataclass(frozen=True, kw_only=True)
class LossWeights:
    """Weights of the named losses (a zero weight switches the term and its modules off)."""

    distill: float = 1.0  # l_g_distill: L1 student vs teacher output, the main signal
    feat: float = 0.1  # l_g_feat: adapted student block outputs vs teacher RRDB outputs
    gt: float = 0.1  # l_g_gt: small L1 to the ground truth
    gan: float = 0.005  # l_g_gan: adversarial term from the student D
    fm: float = 0.1  # l_g_fm: L1 between student-D features of real and fake
    d_distill: float = 1.0  # l_d_distill: student-D logits vs teacher-D logits
    d_feat: float = 0.0  # l_d_feat: adapted student-D features vs teacher-D features

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            _check(getattr(self, item.name) >= 0, f"losses.{item.name} must be >= 0")


@dataclass(frozen=True, kw_only=True)
class ScheduleConfig:
    """Step counts of the three stages, batch, learning rates and intervals.

    Steps [0, teacher_d_steps) train the teacher D alone; then warm-up (student G with the
    L1/feature terms) until teacher_d_steps + warmup_steps; then the GAN stage until steps.
    ``lr_schedule = "cosine"`` anneals the student G and D rates over the student's steps
    (warm-up and GAN together) to ``COSINE_FLOOR`` of their base; the teacher D keeps its rate.
    """

    steps: int = 40000
    teacher_d_steps: int = 1000
    warmup_steps: int = 8000
    batch_size: int = 16
    lr_g: float = 2e-4
    lr_d: float = 1e-4
    ema_decay: float = 0.999
    lr_schedule: str = "constant"
    val_every: int = 500
    checkpoint_every: int = 250

    def __post_init__(self) -> None:
        _check(self.steps >= 1, "schedule.steps must be >= 1")
        _check(self.teacher_d_steps >= 0, "schedule.teacher_d_steps must be >= 0")
        _check(self.warmup_steps >= 0, "schedule.warmup_steps must be >= 0")
        _check(self.batch_size >= 1, "schedule.batch_size must be >= 1")
        _check(0.0 <= self.ema_decay < 1.0, "schedule.ema_decay must be in [0, 1)")
        _check(
            self.lr_schedule in LR_SCHEDULES,
            f"schedule.lr_schedule must be one of {', '.join(LR_SCHEDULES)}",
        )
        _check(self.val_every >= 1, "schedule.val_every must be >= 1")
        _check(self.checkpoint_every >= 1, "schedule.checkpoint_every must be >= 1")

    def stage(self, step: int) -> str:
        """'teacher_d', 'warmup' or 'gan' for a 0-based step."""
        if step < self.teacher_d_steps:
            return "teacher_d"
        if step < self.teacher_d_steps + self.warmup_steps:
            return "warmup"
        return "gan"

    def lr_factor(self, step: int) -> float:
        """Multiplier of lr_g / lr_d at a 0-based student step; a pure function of the step,
        so a resumed run continues the same curve without any scheduler state."""
        if self.lr_schedule == "constant":
            return 1.0
        span = max(1, self.steps - self.teacher_d_steps)
        progress = min(1.0, max(0.0, (step - self.teacher_d_steps) / span))
        return COSINE_FLOOR + (1.0 - COSINE_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True, kw_only=True)
class DistillConfig:
    """Everything that determines a run's result (the output folder does not)."""

    student: MFAConfig = DEFAULT_CONFIG
    teacher: str = "realesrgan-x4plus"
    teacher_d_ndf: int = 64
    student_d_ndf: int = 32
    # (student block, teacher RRDB block) pairs for feature distillation; () = automatic.
    feature_pairs: tuple[tuple[int, int], ...] = ()
    init: str | None = None
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    degradation: DegradationConfig = field(default_factory=DegradationConfig)
    losses: LossWeights = field(default_factory=LossWeights)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)

    def __post_init__(self) -> None:
        pairs = tuple(tuple(int(v) for v in pair) for pair in self.feature_pairs)
        object.__setattr__(self, "feature_pairs", pairs)
        _check(self.student.scale == SCALE, f"the student must be x{SCALE} like the teacher")
        multiple = SCALE * self.student.size_multiple
        _check(
            self.data.hr_crop % multiple == 0,
            f"data.hr_crop must be a multiple of {multiple} for {self.student.encode()}",
        )
        _check(all(len(p) == 2 for p in pairs), "feature_pairs entries must be [student, teacher]")
        _check(
            all(0 <= s < self.student.num_blocks for s, _ in pairs),
            f"feature_pairs student blocks must be in 0..{self.student.num_blocks - 1}",
        )
        _check(self.teacher_d_ndf >= 1 and self.student_d_ndf >= 1, "D widths must be >= 1")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise UsageError(message)


# ---- parsing and serialisation -----------------------------------------------------------


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is MFAConfig:
        return value if isinstance(value, MFAConfig) else MFAConfig.decode(str(value))
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise UsageError(f"{where} must be a table")
        return _build(hint, value, where)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        arg = next(a for a in typing.get_args(hint) if a is not type(None))
        return _convert(value, arg, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise UsageError(f"{where} must be a list")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[]") for v in value)
        if len(value) != len(args):
            raise UsageError(f"{where} must have {len(args)} entries")
        return tuple(_convert(v, a, f"{where}[]") for v, a in zip(value, args, strict=True))
    if hint is Path:
        return Path(value)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is not hint:
        raise UsageError(f"{where} must be {hint.__name__}, got {value!r}")
    return value


def _build(cls: type, mapping: dict[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise UsageError(f"unknown key(s) in {where or 'the config'}: {', '.join(unknown)}")
    kwargs = {k: _convert(v, hints[k], f"{where}.{k}" if where else k) for k, v in mapping.items()}
    return cls(**kwargs)


def config_from_dict(mapping: dict[str, Any]) -> DistillConfig:
    return _build(DistillConfig, mapping, "")


def config_to_dict(config: DistillConfig) -> dict[str, Any]:
    """JSON-ready; ``config_from_dict(config_to_dict(c)) == c``."""

    def plain(value: Any) -> Any:
        if isinstance(value, MFAConfig):
            return value.encode()
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    return plain(config)


def read_config_file(path: Path) -> dict[str, Any]:
    """A .toml or .json config as a mapping; relative data folders become relative to the file."""
    try:
        text = path.read_text(encoding="utf-8")
        mapping = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path}: cannot read the config ({error})") from None
    data = mapping.get("data")
    if isinstance(data, dict) and isinstance(data.get("dirs"), list):
        data["dirs"] = [str(path.parent / d) for d in data["dirs"]]
    return mapping


def load_config(path: Path) -> DistillConfig:
    """Read a .toml or .json config; relative data folders are relative to the file."""
    return config_from_dict(read_config_file(path))


def with_overrides(config: DistillConfig, changes: dict[str, Any]) -> DistillConfig:
    """A copy with dotted overrides, e.g. ``{"schedule.steps": 10}`` from CLI flags.

    ``None`` values are skipped (a flag that was not given).
    """
    nested: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            continue
        section, _, name = key.partition(".")
        if name:
            nested.setdefault(section, {})[name] = value
        else:
            top[key] = value
    for section, values in nested.items():
        top[section] = dataclasses.replace(getattr(config, section), **values)
    return dataclasses.replace(config, **top)
