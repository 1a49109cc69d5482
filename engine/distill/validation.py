"""Validation on held-out crops: fidelity to the teacher and PSNR/SSIM to ground truth.

Same protocol as ``mfagan eval`` (8-bit outputs, Y channel, 4 px shave), on the fixed
validation crops whose teacher outputs are cached. Bicubic is scored on the same crops once,
as the reference a student must beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.distill.teacher_cache import Sample
from engine.measure.metrics import bicubic_resize, to_uint8, y_scores

SHAVE = 4
CHUNK = 8
METRIC_KEYS = ("psnr_teacher", "ssim_teacher", "psnr_gt", "ssim_gt")


@dataclass(frozen=True, kw_only=True)
class ValImages:
    """8-bit HxWx3 arrays of one validation crop, for metrics and the side-by-side picture."""

    lr: np.ndarray
    bicubic: np.ndarray
    teacher: np.ndarray
    student: np.ndarray
    hr: np.ndarray


def _hwc_uint8(tensor: torch.Tensor) -> np.ndarray:
    return to_uint8(tensor.clamp(0, 1).permute(1, 2, 0).cpu().numpy())


@torch.no_grad()
def student_outputs(
    generator: nn.Module, samples: Sequence[Sample], device: torch.device
) -> list[np.ndarray]:
    outputs: list[np.ndarray] = []
    for start in range(0, len(samples), CHUNK):
        lr = torch.stack([s.lr for s in samples[start : start + CHUNK]]).to(device)
        outputs += [_hwc_uint8(out) for out in generator(lr)]
    return outputs


def val_images(
    generator: nn.Module, samples: Sequence[Sample], device: torch.device
) -> list[ValImages]:
    images = []
    for sample, student in zip(samples, student_outputs(generator, samples, device), strict=True):
        lr = _hwc_uint8(sample.lr)
        hr = _hwc_uint8(sample.hr)
        images.append(
            ValImages(
                lr=lr,
                bicubic=bicubic_resize(lr, hr.shape[1], hr.shape[0]),
                teacher=_hwc_uint8(sample.teacher),
                student=student,
                hr=hr,
            )
        )
    return images


def _mean_scores(pairs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, float]:
    rows = []
    for output, teacher, hr in pairs:
        psnr_t, ssim_t = y_scores(output, teacher, border=SHAVE)
        psnr_g, ssim_g = y_scores(output, hr, border=SHAVE)
        rows.append((psnr_t, ssim_t, psnr_g, ssim_g))
    means = np.mean(np.array(rows, dtype=np.float64), axis=0)
    return {key: round(float(v), 4) for key, v in zip(METRIC_KEYS, means, strict=True)}


def student_scores(images: Sequence[ValImages]) -> dict[str, float]:
    return _mean_scores([(im.student, im.teacher, im.hr) for im in images])


def bicubic_scores(images: Sequence[ValImages]) -> dict[str, float]:
    return _mean_scores([(im.bicubic, im.teacher, im.hr) for im in images])
