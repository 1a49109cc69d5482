"""``mfagan eval``: PSNR/SSIM of models on a folder of HR images, vs ground truth and teacher.

Protocol (engine.measure.metrics): modcrop 4, PIL bicubic down x4, every output quantised to 8 bits,
Y channel (BT.601), 4-pixel border shaved. Every run also scores the two references on the
same images: ``bicubic`` (PIL bicubic up, the convention of published tables) and the teacher,
whose output is the target of fidelity (PSNR/SSIM vs the teacher's output). Teacher outputs
are cached on disk per image and teacher weights: the teacher takes seconds per image.

Two more protocols, for the photos people really have: ``degrade="real"`` damages each HR
photo with the teacher's own real-world chain (engine.distill.realworld) under a seed fixed
by the file name, so every run and every model sees the same damaged bytes; ``lr_only``
takes the folder's photos as the inputs themselves (no ground truth: fidelity to the teacher
only, the ``psnr_gt``/``ssim_gt`` scores are ``None``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import ModelError, UsageError
from engine.events import CancelToken, Event, Finished, Notice, Progress, result_of
from engine.files import atomic_write_bytes
from engine.imageio import read_image
from engine.inference.backends import TorchBackend
from engine.inference.tiling import TileOptions, recommended_overlap, run_tiled
from engine.measure import DEGRADATIONS
from engine.measure.metrics import as_rgb, bicubic_down, bicubic_resize, modcrop, to_uint8, y_scores
from engine.models.descriptor import ModelDescriptor
from engine.paths import cache_dir

BICUBIC = "bicubic"
DEFAULT_TEACHER = "realesrgan-x4plus"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
# Larger LR inputs run in tiles so one huge photo cannot exhaust memory; benchmark images
# (Set5/Set14: LR <= 180x144) always run whole, as the reference figures were measured.
WHOLE_IMAGE_PIXELS = 256 * 256
TILE = 256


@dataclass(frozen=True, kw_only=True)
class EvalRequest:
    dataset: Path
    models: tuple[str, ...] = ()
    teacher: str = DEFAULT_TEACHER
    scale: int = 4
    shave: int = 4
    limit: int | None = None
    degrade: str = "bicubic"
    lr_only: bool = False

    def __post_init__(self) -> None:
        if self.degrade not in DEGRADATIONS:
            raise UsageError(f"unknown degradation {self.degrade!r} ({', '.join(DEGRADATIONS)})")
        if self.lr_only and self.degrade != "bicubic":
            raise UsageError("--lr photos are the inputs as they are: no --degrade with --lr")

    @property
    def protocol(self) -> str:
        tail = "8-bit, Y BT.601, shave 4"
        if self.lr_only:
            return f"LR photos as given, no ground truth (fidelity to the teacher only), {tail}"
        if self.degrade == "real":
            return (
                "modcrop 4, real-world damage x4 (Real-ESRGAN's second-order chain, seed "
                f"crc32 of the file name), {tail}"
            )
        return f"modcrop 4, PIL bicubic down x4, {tail}"


@dataclass(frozen=True, kw_only=True)
class Scores:
    """Means over the images; ``None`` where undefined (the teacher's fidelity to itself, the
    ground-truth scores of LR-only inputs)."""

    psnr_gt: float | None
    ssim_gt: float | None
    psnr_teacher: float | None
    ssim_teacher: float | None


@dataclass(frozen=True, kw_only=True)
class EvalResult:
    dataset: Path
    images: tuple[str, ...]
    teacher: str
    scores: dict[str, Scores]
    per_image: dict[str, dict[str, Scores]] = field(default_factory=dict)
    protocol: str = EvalRequest(dataset=Path()).protocol

    def as_dict(self) -> dict:
        """Stable JSON-ready form (infinite PSNR -> null)."""
        return {
            "dataset": str(self.dataset),
            "images": list(self.images),
            "teacher": self.teacher,
            "protocol": self.protocol,
            "scores": {name: _scores_dict(s) for name, s in self.scores.items()},
            "per_image": {
                image: {name: _scores_dict(s) for name, s in rows.items()}
                for image, rows in self.per_image.items()
            },
        }


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isinf(value) else round(value, 4)


def _scores_dict(scores: Scores) -> dict[str, float | None]:
    return {key: _finite(value) for key, value in vars(scores).items()}


def dataset_images(folder: Path, limit: int | None = None) -> list[Path]:
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder of images")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise UsageError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return paths[:limit] if limit else paths


def load_ground_truth(path: Path, scale: int) -> np.ndarray:
    """8-bit RGB, modcropped; grey replicated, alpha dropped, 16-bit rounded to 8 bits."""
    return modcrop(as_rgb(to_uint8(read_image(path).color)), scale)


def _mean(values: list[float | None]) -> float | None:
    if any(v is None for v in values):
        return None
    return float(np.mean(values))


def image_seed(path: Path) -> int:
    """The damage seed of one evaluation photo: its file name, so it survives a copy."""
    return zlib.crc32(path.name.encode("utf-8"))


def damaged_lr(hr: np.ndarray, seed: int, scale: int) -> np.ndarray:
    """8-bit HR (modcropped) -> 8-bit LR damaged by the real-world chain under ``seed``."""
    from engine.distill.realworld import apply_chain, draw_chain

    size = (hr.shape[0] // scale, hr.shape[1] // scale)
    return apply_chain(hr.astype(np.float32) / 255.0, draw_chain(seed), size)


def _scores(
    output: np.ndarray, hr: np.ndarray | None, teacher: np.ndarray | None, shave: int
) -> Scores:
    psnr_gt, ssim_gt = y_scores(output, hr, border=shave) if hr is not None else (None, None)
    if teacher is None:
        return Scores(psnr_gt=psnr_gt, ssim_gt=ssim_gt, psnr_teacher=None, ssim_teacher=None)
    psnr_t, ssim_t = y_scores(output, teacher, border=shave)
    return Scores(psnr_gt=psnr_gt, ssim_gt=ssim_gt, psnr_teacher=psnr_t, ssim_teacher=ssim_t)


def upscale_array(
    backend: TorchBackend, lr: np.ndarray, descriptor: ModelDescriptor, cancel: CancelToken
) -> Iterator[Event]:
    """8-bit LR RGB -> 8-bit model output; Finished.result is the HxWx3 uint8 array."""
    x = np.ascontiguousarray(lr.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0
    overlap = recommended_overlap(descriptor)
    tile = None if lr.shape[0] * lr.shape[1] <= WHOLE_IMAGE_PIXELS else max(TILE, 3 * overlap)
    output = None
    options = TileOptions(
        scale=descriptor.scale,
        tile=tile,
        overlap=overlap,
        size_multiple=descriptor.size_multiple,
        cancel=cancel,
    )
    for event in run_tiled(backend, x, options):
        if isinstance(event, Finished):
            output = event.result
        elif isinstance(event, Notice):
            yield event
    assert output is not None
    yield Finished(result=to_uint8(np.clip(output[0].transpose(1, 2, 0), 0.0, 1.0)))


def _teacher_cache_path(teacher: ModelDescriptor, lr: np.ndarray) -> Path:
    digest = hashlib.sha256(lr.tobytes() + repr(lr.shape).encode()).hexdigest()
    return cache_dir() / "eval-teacher" / teacher.weights_id()[:16] / f"{digest}.png"


def _teacher_output(
    teacher: ModelDescriptor, backend: TorchBackend, lr: np.ndarray, cancel: CancelToken
) -> Iterator[Event]:
    """The teacher's 8-bit output for ``lr``, from the disk cache when it was computed before."""
    path = _teacher_cache_path(teacher, lr)
    if path.is_file():
        yield Finished(result=np.asarray(Image.open(path).convert("RGB")))
        return
    output = yield from result_of(upscale_array(backend, lr, teacher, cancel))
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = io.BytesIO()
    Image.fromarray(output).save(encoded, format="PNG")
    atomic_write_bytes(path, encoded.getvalue())
    yield Finished(result=output)


def _descriptors(request: EvalRequest) -> tuple[ModelDescriptor, list[ModelDescriptor]]:
    from engine.models.registry import get_model

    teacher = get_model(request.teacher)
    if teacher.scale != request.scale:
        raise UsageError(f"the teacher {teacher.name!r} is x{teacher.scale}, not x{request.scale}")
    others = []
    for name in dict.fromkeys(request.models):
        if name in (BICUBIC, teacher.name):
            continue
        descriptor = get_model(name)
        if descriptor.scale != request.scale:
            raise UsageError(f"model {name!r} is x{descriptor.scale}, eval is x{request.scale}")
        if not descriptor.trained:
            raise ModelError(f"model {name!r} has no trained weights; nothing to evaluate")
        if descriptor.name in {BICUBIC, teacher.name, *(d.name for d in others)}:
            # Two files can load under one name (two runs' mfagan-x4.safetensors): the row is
            # labelled as the user gave it, so that neither row silently replaces the other.
            descriptor = dataclasses.replace(descriptor, name=name)
        others.append(descriptor)
    return teacher, others


def _score_image(
    path: Path,
    request: EvalRequest,
    teacher: ModelDescriptor,
    others: list[ModelDescriptor],
    backends: dict[str, TorchBackend],
    cancel: CancelToken,
) -> Iterator[Event]:
    """Scores of bicubic, the teacher and every other model on one image (yield from)."""
    hr: np.ndarray | None
    if request.lr_only:
        hr, lr = None, as_rgb(to_uint8(read_image(path).color))
    else:
        hr = load_ground_truth(path, request.scale)
        if request.degrade == "real":
            lr = damaged_lr(hr, image_seed(path), request.scale)
        else:
            lr = bicubic_down(hr, request.scale)
    teacher_out = yield from result_of(_teacher_output(teacher, backends[teacher.name], lr, cancel))
    bicubic = bicubic_resize(lr, lr.shape[1] * request.scale, lr.shape[0] * request.scale)
    rows = {
        BICUBIC: _scores(bicubic, hr, teacher_out, request.shave),
        teacher.name: _scores(teacher_out, hr, None, request.shave),
    }
    for descriptor in others:
        output = yield from result_of(
            upscale_array(backends[descriptor.name], lr, descriptor, cancel)
        )
        rows[descriptor.name] = _scores(output, hr, teacher_out, request.shave)
    return rows


def evaluate(request: EvalRequest, *, cancel: CancelToken | None = None) -> Iterator[Event]:
    """Score bicubic, the teacher and ``request.models``; Finished.result is an EvalResult."""
    cancel = cancel or CancelToken()
    paths = dataset_images(request.dataset, request.limit)
    teacher, others = _descriptors(request)
    backends = {d.name: TorchBackend(d) for d in (teacher, *others)}
    names = [BICUBIC, teacher.name, *(d.name for d in others)]
    per_image: dict[str, dict[str, Scores]] = {}
    yield Progress(stage="eval", done=0, total=len(paths))
    for index, path in enumerate(paths):
        cancel.raise_if_cancelled()
        per_image[path.name] = yield from _score_image(
            path, request, teacher, others, backends, cancel
        )
        yield Progress(stage="eval", done=index + 1, total=len(paths), message=path.name)
    scores = {
        name: Scores(
            **{
                key: _mean([getattr(rows[name], key) for rows in per_image.values()])
                for key in ("psnr_gt", "ssim_gt", "psnr_teacher", "ssim_teacher")
            }
        )
        for name in names
    }
    yield Finished(
        result=EvalResult(
            dataset=request.dataset,
            images=tuple(per_image),
            teacher=teacher.name,
            scores=scores,
            per_image=per_image,
            protocol=request.protocol,
        )
    )


def render_table(result: EvalResult) -> str:
    """A markdown table: one row per model, PSNR/SSIM vs ground truth and vs the teacher."""

    def cell(value: float | None, digits: int) -> str:
        return "—" if value is None or math.isinf(value) else f"{value:.{digits}f}"

    lines = [
        f"{result.dataset.name} ({len(result.images)} images; {result.protocol}; "
        f"teacher {result.teacher})",
        "",
        "| model | PSNR-Y vs GT | SSIM-Y vs GT | PSNR-Y vs teacher | SSIM-Y vs teacher |",
        "|---|---|---|---|---|",
    ]
    for name, s in result.scores.items():
        lines.append(
            f"| {name} | {cell(s.psnr_gt, 2)} | {cell(s.ssim_gt, 4)} | "
            f"{cell(s.psnr_teacher, 2)} | {cell(s.ssim_teacher, 4)} |"
        )
    return "\n".join(lines)
