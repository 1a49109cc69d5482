"""Every trainable piece of a run: student G (+adapters), its EMA, teacher D, student D (+adapters).

Built deterministically from the config seed, so a resumed run can rebuild the same modules
before loading their states. ``*_train`` are what the step functions call: the DDP wrapper
when distributed, the module itself otherwise.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from engine.distill.adapters import DiscriminatorWithAdapters, StudentWithAdapters, auto_pairs
from engine.distill.config import DistillConfig, ScheduleConfig
from engine.distill.discriminator import PatchDiscriminator
from engine.distill.parallel import Parallel
from engine.errors import UsageError
from engine.models.mfa import MFAGenerator
from engine.models.rrdbnet import RRDBNetConfig

ADAM_BETAS = (0.9, 0.99)  # BasicSR's choice for SR GANs


@dataclass(kw_only=True)
class Nets:
    student: StudentWithAdapters
    ema: MFAGenerator
    teacher_d: PatchDiscriminator
    student_d: DiscriminatorWithAdapters
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    opt_td: torch.optim.Optimizer
    student_train: nn.Module
    student_d_train: nn.Module
    teacher_d_train: nn.Module

    def modules(self) -> dict[str, nn.Module]:
        """The modules whose states a checkpoint keeps, by stable name."""
        return {
            "student": self.student,
            "ema": self.ema,
            "teacher_d": self.teacher_d,
            "student_d": self.student_d,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_g": self.opt_g, "opt_d": self.opt_d, "opt_td": self.opt_td}


def feature_pairs(config: DistillConfig, teacher: RRDBNetConfig) -> tuple[tuple[int, int], ...]:
    """The configured pairs, or automatic ones; none when the feature loss is off."""
    if config.losses.feat == 0:
        return ()
    pairs = config.feature_pairs or auto_pairs(config.student.num_blocks, teacher.num_block)
    for _, t in pairs:
        if not 0 <= t < teacher.num_block:
            raise UsageError(
                f"feature_pairs: teacher block {t} does not exist ({teacher.num_block} blocks)"
            )
    return pairs


def build_nets(
    config: DistillConfig, teacher: RRDBNetConfig, parallel: Parallel, generator: MFAGenerator
) -> Nets:
    """Wire the modules around ``generator`` (random or fine-tuned) and their optimizers."""
    torch.manual_seed(config.seed)
    pairs = feature_pairs(config, teacher)
    student = StudentWithAdapters(generator, pairs, teacher.num_feat).to(parallel.device)
    ema = copy.deepcopy(generator).to(parallel.device).eval().requires_grad_(False)
    teacher_d = PatchDiscriminator(ndf=config.teacher_d_ndf).to(parallel.device)
    widths = teacher_d.feature_widths if config.losses.d_feat > 0 else None
    student_d = DiscriminatorWithAdapters(PatchDiscriminator(ndf=config.student_d_ndf), widths).to(
        parallel.device
    )
    lr_g, lr_d = config.schedule.lr_g, config.schedule.lr_d
    return Nets(
        student=student,
        ema=ema,
        teacher_d=teacher_d,
        student_d=student_d,
        opt_g=torch.optim.Adam(student.parameters(), lr=lr_g, betas=ADAM_BETAS),
        opt_d=torch.optim.Adam(student_d.parameters(), lr=lr_d, betas=ADAM_BETAS),
        opt_td=torch.optim.Adam(teacher_d.parameters(), lr=lr_d, betas=ADAM_BETAS),
        student_train=parallel.wrap(student),
        student_d_train=parallel.wrap(student_d),
        teacher_d_train=parallel.wrap(teacher_d),
    )


def set_student_lrs(nets: Nets, schedule: ScheduleConfig, step: int) -> None:
    """Apply the schedule's rate for ``step`` to the student G and D optimizers."""
    factor = schedule.lr_factor(step)
    for optimizer, base in ((nets.opt_g, schedule.lr_g), (nets.opt_d, schedule.lr_d)):
        for group in optimizer.param_groups:
            group["lr"] = base * factor


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, parameters and buffers alike."""
    for target, source in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
        if target.dtype.is_floating_point:
            target.mul_(decay).add_(source.detach(), alpha=1.0 - decay)
        else:
            target.copy_(source)


def ema_decay(config_decay: float, g_steps: int) -> float:
    """Ramp the decay up over the first G steps so the EMA does not remember the random init."""
    return min(config_decay, (1.0 + g_steps) / (10.0 + g_steps))
