"""The loss terms of G and D distillation, small functions with no hidden state.

GAN terms are the "vanilla" (non-saturating, logits + BCE) losses Real-ESRGAN trained its
teacher with, averaged over PatchGAN patches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F


def gan_loss(logits: torch.Tensor, *, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def feature_distill(
    adapted: Mapping[int, torch.Tensor], teacher: Mapping[int, torch.Tensor]
) -> torch.Tensor:
    """Mean L1 between adapted student maps and the teacher's maps of the same blocks."""
    terms = [F.l1_loss(adapted[block], teacher[block]) for block in adapted]
    return torch.stack(terms).mean()


def feature_matching(fake: Sequence[torch.Tensor], real: Sequence[torch.Tensor]) -> torch.Tensor:
    """pix2pixHD's perceptual stand-in: L1 between D's maps of fake and (fixed) real images."""
    terms = [F.l1_loss(f, r.detach()) for f, r in zip(fake, real, strict=True)]
    return torch.stack(terms).mean()


def logit_distill(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """MSE between the student D's and the teacher D's patch logits on the same inputs."""
    return F.mse_loss(student, teacher.detach())


def maps_distill(student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor]) -> torch.Tensor:
    terms = [F.l1_loss(s, t.detach()) for s, t in zip(student, teacher, strict=True)]
    return torch.stack(terms).mean()
