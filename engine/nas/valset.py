"""The search's fixed validation patches and the teacher's outputs for them, cached on disk.

Photos: the app's sample photos (``resources/samples``: astronaut and coffee from
scikit-image's data, in none of the training or evaluation sets), downscaled x4 with PIL's
bicubic like every LR input of the eval protocol. The teacher runs once on each *whole* LR
photo (it draws what it draws in context, which a crop alone does not reproduce) and each
patch keeps its part of the result, quantised to 8 bits as a saved output would be.

Patch positions are drawn by a fixed seed, so every search scores every candidate on the
same pixels. The cache file's name hashes the photos' bytes, the teacher's weights id and
the patch plan: change any and it is a different file. It is written atomically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from engine.errors import ModelError, UsageError
from engine.events import CancelToken, Event, Finished, Notice, Progress
from engine.files import atomic_write_bytes, file_sha256
from engine.measure.metrics import bicubic_down, modcrop
from engine.paths import RESOURCES, cache_dir

SCALE = 4
VALIDATION_PHOTOS = (RESOURCES / "samples" / "astronaut.png", RESOURCES / "samples" / "coffee.png")
PLAN_SEED = 20261201
FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class PatchPlan:
    """How many LR patches of which side, drawn from which photos."""

    count: int = 8
    size: int = 24
    photos: tuple[Path, ...] = VALIDATION_PHOTOS

    def __post_init__(self) -> None:
        if self.count < 1 or self.size < 8 or self.size % 2:
            raise UsageError("validation patches: count >= 1 and an even size >= 8 are needed")
        if not self.photos:
            raise UsageError("validation patches: at least one photo is needed")


@dataclass(frozen=True, kw_only=True, eq=False)
class ValidationSet:
    """LR patches (N,3,p,p float in [0,1]) and the teacher's 8-bit outputs (N,3,4p,4p)."""

    lr: torch.Tensor
    teacher: torch.Tensor  # uint8
    key: str  # identifies photos, teacher and plan


def load_lr_photo(path: Path) -> np.ndarray:
    """The LR version of a photo: modcropped to x4 and PIL-bicubic downscaled, 8-bit RGB."""
    from PIL import Image

    try:
        with Image.open(path) as opened:
            image = np.asarray(opened.convert("RGB"))
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: cannot read validation photo ({error})") from None
    return bicubic_down(modcrop(image, SCALE), SCALE)


def _positions(shapes: Sequence[tuple[int, int]], plan: PatchPlan) -> list[tuple[int, int, int]]:
    """(photo, top, left) of each patch: photos in turn, positions from the fixed seed."""
    rng = np.random.default_rng(PLAN_SEED)
    positions = []
    for i in range(plan.count):
        photo = i % len(shapes)
        height, width = shapes[photo]
        if height < plan.size or width < plan.size:
            raise UsageError(f"{plan.photos[photo]}: smaller than a {plan.size}px LR patch")
        top = int(rng.integers(0, height - plan.size + 1))
        left = int(rng.integers(0, width - plan.size + 1))
        positions.append((photo, top, left))
    return positions


def _cache_key(plan: PatchPlan, teacher_id: str) -> str:
    photos = ",".join(file_sha256(p) for p in plan.photos)
    text = f"v{FORMAT_VERSION}|{photos}|{teacher_id}|{plan.count}x{plan.size}|{PLAN_SEED}"
    return hashlib.sha256(text.encode()).hexdigest()


def _to_chw(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1)


def build_validation_set(
    plan: PatchPlan,
    *,
    teacher: Callable[[], torch.nn.Module],
    teacher_id: str,
    root: Path | None = None,
    cancel: CancelToken | None = None,
) -> Generator[Event, None, None]:
    """Load the cached set or build it (one teacher pass per photo); ends with Finished."""
    key = _cache_key(plan, teacher_id)
    path = (root or cache_dir() / "nas" / "validation") / f"{key}.safetensors"
    if path.is_file():
        try:
            tensors = load_file(str(path))
            yield Finished(
                result=ValidationSet(lr=tensors["lr"], teacher=tensors["teacher"], key=key)
            )
            return
        except (OSError, SafetensorError, KeyError):
            pass  # damaged: rebuilt below
    photos = [load_lr_photo(p) for p in plan.photos]
    positions = _positions([p.shape[:2] for p in photos], plan)
    yield Notice(
        message=f"computing the teacher's outputs for {len(photos)} validation photos once"
    )
    net = teacher()
    outputs = []
    for i, photo in enumerate(photos):
        if cancel is not None:
            cancel.raise_if_cancelled()
        yield Progress(stage="teacher on validation photos", done=i, total=len(photos))
        with torch.inference_mode():
            out = net(_to_chw(photo)[None].float().div(255.0))[0]
        outputs.append(out.clamp(0, 1).mul(255).round().to(torch.uint8))
    yield Progress(stage="teacher on validation photos", done=len(photos), total=len(photos))
    s, hs = plan.size, plan.size * SCALE
    lr = torch.stack([_to_chw(photos[i][t : t + s, x : x + s]) for i, t, x in positions])
    hr = torch.stack(
        [outputs[i][:, t * 4 : t * 4 + hs, x * 4 : x * 4 + hs] for i, t, x in positions]
    )
    valset = ValidationSet(lr=lr.float().div(255.0), teacher=hr.contiguous(), key=key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, save({"lr": valset.lr, "teacher": valset.teacher}))
    except OSError as error:
        raise ModelError(f"cannot cache the validation patches in {path.parent}: {error}") from None
    yield Finished(result=valset)
