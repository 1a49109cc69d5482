"""Single process or DDP under ``torchrun``: the process group and helpers around it.

``torchrun --nproc_per_node N -m engine.distill distill ...`` sets WORLD_SIZE, RANK and
LOCAL_RANK; we then join a process group (NCCL on CUDA, gloo on CPU) and every rank trains
on its slice of each global batch. Without those variables nothing distributed happens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True, kw_only=True)
class Parallel:
    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def wrap(self, module: nn.Module) -> nn.Module:
        """DDP around ``module`` when distributed; the module itself otherwise."""
        if not self.distributed:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Average named scalars over ranks, so the logged curve is the global batch's."""
        if not self.distributed or not values:
            return values
        keys = sorted(values)
        tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return {k: float(v) / self.world for k, v in zip(keys, tensor.tolist(), strict=True)}

    def any(self, flag: bool) -> bool:
        """True on every rank if it is true on one (e.g. a cancel seen by one rank)."""
        if not self.distributed:
            return flag
        tensor = torch.tensor([1 if flag else 0], device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return bool(tensor.item())


def is_main_process() -> bool:
    """Rank 0 (or no torchrun at all), without touching the process group."""
    return int(os.environ.get("RANK", "0")) == 0


def start() -> Parallel:
    """Join the torchrun process group if there is one; pick the device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Parallel(rank=rank, world=world, device=device)


def stop(parallel: Parallel) -> None:
    if parallel.distributed and dist.is_initialized():
        dist.destroy_process_group()
