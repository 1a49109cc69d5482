"""What an export costs in quality: PSNR-Y vs the float model and vs the teacher.

Every exported file is run on the held-out validation crops (``calibration.validation_crops``)
and compared, as 8-bit images on the luma channel with ``scale`` pixels shaved (the
convention of ``engine.measure.metrics``), with PyTorch's float output of the same model and
with the teacher's output. The teacher's outputs come from the evaluation cache shared with
``mfagan eval`` (computed once per crop and teacher weights).

A crop whose 8-bit output equals the reference exactly has infinite PSNR; it is counted as
``IDENTICAL_DB`` so that a mean stays finite and JSON-writable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np

from engine.events import CancelToken, Event, Progress, result_of
from engine.inference.backends import TorchBackend
from engine.measure.evaluate import _teacher_output
from engine.measure.metrics import psnr, rgb_to_y, shave, to_uint8
from engine.models.descriptor import ModelDescriptor

IDENTICAL_DB = 100.0
Runner = Callable[[np.ndarray], np.ndarray]  # NCHW float32 batch -> NCHW float32 outputs


def to_images(batch: np.ndarray) -> list[np.ndarray]:
    """NCHW float outputs -> 8-bit HxWx3 images, clipped as they would be saved."""
    return [to_uint8(np.clip(image.transpose(1, 2, 0), 0.0, 1.0)) for image in batch]


def psnr_y(a: np.ndarray, b: np.ndarray, *, border: int) -> float:
    """PSNR on Y of two 8-bit RGB images; ``IDENTICAL_DB`` when they are equal."""
    value = psnr(shave(rgb_to_y(a), border), shave(rgb_to_y(b), border))
    return IDENTICAL_DB if math.isinf(value) else min(value, IDENTICAL_DB)


def mean_psnr_y(outputs: list[np.ndarray], references: list[np.ndarray], border: int) -> float:
    return float(
        np.mean([psnr_y(a, b, border=border) for a, b in zip(outputs, references, strict=True)])
    )


@dataclass(frozen=True, kw_only=True)
class Fidelity:
    """Mean (and worst) PSNR-Y of one exported file on the validation crops, in dB."""

    vs_float_db: float
    worst_vs_float_db: float
    vs_teacher_db: float | None
    max_abs_diff: float
    crops: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "psnr_y_vs_float_db": round(self.vs_float_db, 3),
            "worst_psnr_y_vs_float_db": round(self.worst_vs_float_db, 3),
            "psnr_y_vs_teacher_db": (
                None if self.vs_teacher_db is None else round(self.vs_teacher_db, 3)
            ),
            "max_abs_diff_vs_float": float(f"{self.max_abs_diff:.3g}"),
            "validation_crops": self.crops,
        }


def measure(
    outputs: np.ndarray,
    float_outputs: np.ndarray,
    teacher: list[np.ndarray] | None,
    *,
    border: int,
) -> Fidelity:
    """Fidelity of ``outputs`` (NCHW float) given the float model's and teacher's outputs."""
    images, references = to_images(outputs), to_images(float_outputs)
    per_crop = [psnr_y(a, b, border=border) for a, b in zip(images, references, strict=True)]
    clipped = np.clip(outputs, 0.0, 1.0) - np.clip(float_outputs, 0.0, 1.0)
    return Fidelity(
        vs_float_db=float(np.mean(per_crop)),
        worst_vs_float_db=float(np.min(per_crop)),
        vs_teacher_db=None if teacher is None else mean_psnr_y(images, teacher, border),
        max_abs_diff=float(np.abs(clipped).max()),
        crops=len(images),
    )


def teacher_images(
    teacher: ModelDescriptor, batch: np.ndarray, cancel: CancelToken
) -> Generator[Event, None, list[np.ndarray]]:
    """The teacher's 8-bit outputs for an NCHW batch of LR crops (cached on disk)."""
    backend: TorchBackend | None = None
    images: list[np.ndarray] = []
    for index, lr in enumerate(to_images(batch)):
        cancel.raise_if_cancelled()
        yield Progress(stage="teacher outputs", done=index, total=len(batch))
        if backend is None:
            # Built lazily: when every crop is cached the teacher is never loaded.
            backend = _LazyTeacher(teacher)  # type: ignore[assignment]
        images.append((yield from result_of(_teacher_output(teacher, backend, lr, cancel))))
    yield Progress(stage="teacher outputs", done=len(batch), total=len(batch))
    return images


class _LazyTeacher:
    """A TorchBackend that loads the teacher on its first run (cache hits never do)."""

    def __init__(self, descriptor: ModelDescriptor) -> None:
        self.descriptor = descriptor
        self.name = "torch"
        self._backend: TorchBackend | None = None

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        if self._backend is None:
            self._backend = TorchBackend(self.descriptor)
        return self._backend.run(x, cancel=cancel)
