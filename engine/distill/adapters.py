"""Feature distillation: 1x1 adapters from student maps to the teacher's maps.

The student's block outputs are C wide (16-48), the teacher's RRDB outputs 64 wide; a 1x1
conv per pair maps one onto the other so an L1 can compare them (FitNets' "hint" layers).
The adapters are trained with the student and thrown away at export. Both networks keep
their LR resolution through the body, so the maps align pixel for pixel.

The same idea distils the discriminator: adapters from the student D's hidden maps to the
teacher D's (the two share strides, so their maps align too).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from engine.distill.discriminator import PatchDiscriminator
from engine.models.mfa import MFAGenerator


def auto_pairs(student_blocks: int, teacher_blocks: int) -> tuple[tuple[int, int], ...]:
    """The student's middle and last blocks matched to the same relative teacher depth."""
    chosen = sorted({student_blocks // 2 - 1, student_blocks - 1} - {-1})
    return tuple((s, round((s + 1) * teacher_blocks / student_blocks) - 1) for s in chosen)


class StudentWithAdapters(nn.Module):
    """The student G plus one adapter per (student block, teacher block) pair.

    ``forward`` returns the SR output and {teacher block: adapted student map}; one module so
    that DDP synchronises the adapters' gradients along with the generator's.
    """

    def __init__(
        self, generator: MFAGenerator, pairs: Sequence[tuple[int, int]], teacher_width: int
    ) -> None:
        super().__init__()
        self.generator = generator
        self.pairs = tuple(pairs)
        width = generator.config.width
        self.adapters = nn.ModuleList(nn.Conv2d(width, teacher_width, 1) for _ in self.pairs)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        captured: dict[int, torch.Tensor] = {}
        handles = [
            self.generator.body[s].register_forward_hook(
                lambda _m, _i, out, s=s: captured.__setitem__(s, out)
            )
            for s, _ in self.pairs
        ]
        try:
            output = self.generator(x)
        finally:
            for handle in handles:
                handle.remove()
        adapted = {
            t: adapter(captured[s])
            for (s, t), adapter in zip(self.pairs, self.adapters, strict=True)
        }
        return output, adapted


class DiscriminatorWithAdapters(nn.Module):
    """The student D plus adapters from its hidden maps to the teacher D's.

    ``teacher_widths`` None: no adapters (the D feature loss is off), no unused parameters.
    """

    def __init__(self, student_d: PatchDiscriminator, teacher_widths: Sequence[int] | None) -> None:
        super().__init__()
        self.d = student_d
        self.adapters = nn.ModuleList(
            nn.Conv2d(cin, cout, 1)
            for cin, cout in zip(student_d.feature_widths, teacher_widths or (), strict=False)
        )

    def forward(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        logits, feats = self.d(x)
        if not self.adapters:
            return logits, feats, []
        return logits, feats, [a(f) for a, f in zip(self.adapters, feats, strict=True)]
