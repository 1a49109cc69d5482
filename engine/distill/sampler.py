"""Which cached crops make up each step's batch: a pure function of (seed, step, rank).

No data-loader state exists to save or lose: a run resumed at step N draws exactly the
batches an uninterrupted run would have drawn, and under DDP each rank takes its own slice
of one global batch, so N processes with batch B see what one process with batch N*B sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.distill.teacher_cache import Sample

DIHEDRAL = 8  # 4 rotations x optional mirror: the symmetries of a square crop


@dataclass(frozen=True, kw_only=True)
class Batch:
    lr: torch.Tensor
    hr: torch.Tensor
    teacher: torch.Tensor
    feats: dict[int, torch.Tensor]

    def to(self, device: torch.device) -> Batch:
        return Batch(
            lr=self.lr.to(device),
            hr=self.hr.to(device),
            teacher=self.teacher.to(device),
            feats={k: v.to(device) for k, v in self.feats.items()},
        )


def step_picks(
    step: int,
    *,
    seed: int,
    pool_size: int,
    batch_size: int,
    rank: int = 0,
    world: int = 1,
    augment: bool = True,
) -> list[tuple[int, int]]:
    """(pool index, dihedral transform) for each sample of this rank at ``step``."""
    rng = np.random.default_rng([seed, 7, step])
    total = batch_size * world
    indices = rng.choice(pool_size, size=total, replace=pool_size < total)
    transforms = rng.integers(0, DIHEDRAL, size=total) if augment else np.zeros(total, int)
    picks = list(zip(indices.tolist(), transforms.tolist(), strict=True))
    return picks[rank * batch_size : (rank + 1) * batch_size]


def dihedral(tensor: torch.Tensor, transform: int) -> torch.Tensor:
    """Rotate by ``transform % 4`` quarter turns, then mirror if ``transform >= 4``."""
    out = torch.rot90(tensor, transform % 4, dims=(-2, -1))
    return torch.flip(out, dims=(-1,)) if transform >= 4 else out


def collate(samples: Sequence[Sample], transforms: Sequence[int]) -> Batch:
    """Stack samples, applying the same transform to every tensor of one sample."""

    def stack(get: Callable[[Sample], torch.Tensor]) -> torch.Tensor:
        return torch.stack(
            [dihedral(get(s), t).contiguous() for s, t in zip(samples, transforms, strict=True)]
        )

    blocks = samples[0].feats.keys()
    return Batch(
        lr=stack(lambda s: s.lr),
        hr=stack(lambda s: s.hr),
        teacher=stack(lambda s: s.teacher),
        feats={b: stack(lambda s, b=b: s.feats[b]) for b in blocks},
    )
