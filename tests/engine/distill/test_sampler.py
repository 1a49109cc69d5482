"""Batches are a function of the step; DDP ranks split one global batch."""

from __future__ import annotations

import torch

from engine.distill.sampler import collate, dihedral, step_picks
from engine.distill.teacher_cache import Sample


def test_ranks_take_slices_of_the_single_process_batch():
    whole = step_picks(5, seed=1, pool_size=100, batch_size=4)
    ranks = [step_picks(5, seed=1, pool_size=100, batch_size=2, rank=r, world=2) for r in (0, 1)]
    assert ranks[0] + ranks[1] == whole
    assert whole == step_picks(5, seed=1, pool_size=100, batch_size=4)
    assert whole != step_picks(6, seed=1, pool_size=100, batch_size=4)


def test_small_pools_are_sampled_with_replacement_and_no_augment_means_identity():
    picks = step_picks(0, seed=0, pool_size=3, batch_size=8, augment=False)
    assert len(picks) == 8 and all(0 <= i < 3 and t == 0 for i, t in picks)


def test_the_eight_dihedral_transforms_are_distinct_and_shared_by_a_sample():
    x = torch.arange(16.0).reshape(1, 4, 4)
    assert len({tuple(dihedral(x, t).flatten().tolist()) for t in range(8)}) == 8
    sample = Sample(lr=x, hr=x * 2, teacher=x * 3, feats={4: x * 4})
    batch = collate([sample], [5])
    assert torch.equal(batch.hr[0], dihedral(x, 5) * 2)
    assert torch.equal(batch.feats[4][0], dihedral(x, 5) * 4)
