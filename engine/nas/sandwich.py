"""One supernet optimisation step: which subnets train on a batch, and their losses.

Sandwich rule (BigNAS / AutoSlim): the largest subnet, the smallest and N random ones, all on
the same batch. Each subnet learns the teacher's output (L1) plus a small L1 to the ground
truth; every subnet but the largest also learns the largest's output (in-place distillation;
the target is detached, so knowledge flows from big to small only). Gradients of all
subnets accumulate, then one optimizer step: the shared weights move once per batch.

Progressive shrinking (once-for-all), for comparison: the largest plus N + 1 subnets drawn
from a space that grows with training: elastic depth, then half-res paths, then inner width,
then width. The subnets of a step are a pure function of (seed, step), so a resumed run trains
the same ones.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from engine.distill.config import LossWeights
from engine.distill.sampler import Batch
from engine.models.mfa import MFAConfig
from engine.nas.space import SearchSpace
from engine.nas.supernet import Supernet
from engine.nas.train_config import SupernetRules

LOSS_KEYS = ("l_largest", "l_smallest", "l_random", "l_inplace", "l_total")
PHASES = 4  # of progressive shrinking


def step_subnets(
    space: SearchSpace, rules: SupernetRules, *, seed: int, step: int, total: int
) -> list[MFAConfig]:
    """The subnets of one step, largest first (its output is the in-place target)."""
    rng = np.random.default_rng([seed, 11, step])
    largest = space.largest()
    if rules.rule == "sandwich":
        return [largest, space.smallest()] + [
            space.sample(rng) for _ in range(rules.random_subnets)
        ]
    phase = min(PHASES - 1, step * PHASES // max(1, total))
    return [largest] + [_shrunk(space, phase, rng) for _ in range(rules.random_subnets + 1)]


def _shrunk(space: SearchSpace, phase: int, rng: np.random.Generator) -> MFAConfig:
    """A sample with the dimensions not yet elastic at ``phase`` held at their largest."""
    config = space.sample(rng)
    largest = space.largest()
    changes: dict[str, object] = {}
    if phase < 1:
        changes["half_res"] = (True,) * config.num_blocks
    if phase < 2:
        changes["inner_width"] = largest.inner_width
        changes["width"] = largest.width
    elif phase < 3:
        changes["width"] = largest.width
        inner = space.inner_choices(largest.width)
        changes["inner_width"] = inner[int(rng.integers(0, len(inner)))]
    return dataclasses.replace(config, **changes) if changes else config


def train_step(
    supernet: Supernet,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    subnets: list[MFAConfig],
    weights: LossWeights,
    rules: SupernetRules,
) -> dict[str, float]:
    """Forward/backward each subnet in turn (one graph alive at a time), then one step."""
    optimizer.zero_grad(set_to_none=True)
    target = None
    logged: dict[str, list[float]] = {k: [] for k in LOSS_KEYS}
    total = 0.0
    for index, config in enumerate(subnets):
        supernet.set_active(config)
        output = supernet(batch.lr)
        distill = F.l1_loss(output, batch.teacher)
        loss = weights.distill * distill + weights.gt * F.l1_loss(output, batch.hr)
        if index == 0:
            target = output.detach()
            logged["l_largest"].append(float(distill.detach()))
        else:
            inplace = F.l1_loss(output, target)
            loss = loss + rules.inplace * inplace
            logged["l_inplace"].append(float(inplace.detach()))
            key = "l_smallest" if rules.rule == "sandwich" and index == 1 else "l_random"
            logged[key].append(float(distill.detach()))
        loss.backward()
        total += float(loss.detach())
    _all_reduce_gradients(supernet)
    optimizer.step()
    logged["l_total"].append(total)
    return {k: sum(v) / len(v) for k, v in logged.items() if v}


def _all_reduce_gradients(supernet: Supernet) -> None:
    """Average gradients over ranks in one call. Not DDP: a step runs several subnets, each
    leaving some weights unused, which DDP's per-backward hooks do not allow."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    parameters = list(supernet.parameters())
    for p in parameters:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in parameters])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for p in parameters:
        count = p.numel()
        p.grad.copy_(flat[offset : offset + count].view_as(p))
        offset += count
