"""The named subnets a supernet is judged by, and their fidelity on held-out crops.

``REFERENCE_SUBNETS`` spans the default space from the largest to the smallest, with the
shipped student's architecture and the first shipped student's among them: training
validates them (engine.nas.train) and publishing scores them on Set14 (engine.nas.publish).
"""

from __future__ import annotations

import torch

from engine.distill.teacher_cache import Sample
from engine.distill.validation import student_scores, val_images
from engine.models.mfa import MFAConfig
from engine.nas.space import SearchSpace
from engine.nas.supernet import Supernet

REFERENCE_SUBNETS = (
    "b6-c48-g32-h111111-conv-x4",  # the largest
    "b6-c32-g32-h111111-conv-x4",  # the shipped student's architecture
    "b6-c32-g16-h111111-conv-x4",
    "b4-c32-g16-h1111-conv-x4",  # the first shipped student's architecture
    "b4-c24-g16-h1010-conv-x4",
    "b3-c24-g8-h111-conv-x4",
    "b2-c16-g16-h11-conv-x4",
    "b2-c16-g8-h00-conv-x4",  # the smallest
)


def reference_subnets(space: SearchSpace) -> tuple[str, ...]:
    """``REFERENCE_SUBNETS`` that lie in ``space``, its largest first and smallest last."""
    inside = [n for n in REFERENCE_SUBNETS if space.contains(MFAConfig.decode(n))]
    names = [space.largest().encode(), *inside, space.smallest().encode()]
    return tuple(dict.fromkeys(names))


def validation_scores(
    supernet: Supernet, samples: list[Sample], device: torch.device
) -> dict[str, dict[str, float]]:
    """The eval protocol's scores (8-bit, Y, 4 px shave) of the reference subnets of the
    supernet's space on ``samples``."""
    scores = {}
    was_training = supernet.training
    supernet.eval()
    for name in reference_subnets(supernet.space):
        supernet.set_active(MFAConfig.decode(name))
        scores[name] = student_scores(val_images(supernet, samples, device))
    supernet.train(was_training)
    return scores
