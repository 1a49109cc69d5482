"""The MFAGAN student generator: a multi-scale feature aggregation (MFA) net.

Design (``docs/MFAGAN.md``, "Our design"): a 3x3 head, ``num_blocks`` MFA
blocks, a 3x3 trunk conv with a long skip, and a depth-to-space tail plus a nearest-upsampled
copy of the input as the global skip. Every intermediate map inside a block is
``inner_width`` wide and nothing grows with depth, unlike RRDB's dense concatenations: that is
the memory argument, and it shows up in the measured memory-access cost.

Only ops that map to ONNX / TFLite / QNN are used: conv, ReLU, average pool, nearest resize,
add, mul by a constant and depth-to-space. ReLU rather than LeakyReLU because it is the
activation Snapdragon NPUs keep on the accelerator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Re-exported: callers name the config and the network from one module.
from engine.models.mfa_config import (
    BLOCK_CHOICES,
    DEFAULT_CONFIG,
    DOWNSAMPLE_CHOICES,
    INNER_WIDTH_CHOICES,
    LARGEST_CONFIG,
    SCALE_CHOICES,
    WIDTH_CHOICES,
    MFAConfig,
)

__all__ = [
    "BLOCK_CHOICES",
    "DEFAULT_CONFIG",
    "DOWNSAMPLE_CHOICES",
    "INNER_WIDTH_CHOICES",
    "LARGEST_CONFIG",
    "SCALE_CHOICES",
    "WIDTH_CHOICES",
    "MFABlock",
    "MFAConfig",
    "MFAGenerator",
]


def _conv(cin: int, cout: int, kernel: int, *, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=bias)


class MFABlock(nn.Module):
    """Full-resolution path (two 3x3 convs) + optional half-resolution path, fused once.

    "Concatenate the g-wide maps and fuse with a 1x1 conv" is written as the *sum of one 1x1
    conv per branch* (``fuse_full1 + fuse_full2 + fuse_half``; only the first carries the
    bias). It is the same function, but the 2g/3g-wide concatenation is never materialised
    and the exported graph has no concat (which falls off phone NPUs). The half path's 1x1
    conv runs before its nearest 2x upsample: a 1x1 conv commutes exactly with nearest
    upsampling, so this is again the same function at a quarter of the fuse cost.
    """

    def __init__(self, *, width: int, inner_width: int, half_res: bool, downsample: str) -> None:
        super().__init__()
        self.half_res = half_res
        self.downsample = downsample
        self.full1 = _conv(width, inner_width, 3)
        self.full2 = _conv(inner_width, inner_width, 3)
        self.fuse_full1 = _conv(inner_width, width, 1)
        self.fuse_full2 = _conv(inner_width, width, 1, bias=False)
        if half_res:
            stride = 2 if downsample == "conv" else 1
            self.half1 = _conv(width, inner_width, 3, stride=stride)
            self.half2 = _conv(inner_width, inner_width, 3)
            self.fuse_half = _conv(inner_width, width, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f1 = F.relu(self.full1(x))
        # One C-wide accumulator, added to in place, instead of one C-wide map per branch:
        # peak activation memory is a measured product goal. Safe for autograd, since a
        # conv's backward needs its input, never its output.
        fused = self.fuse_full1(f1)
        fused.add_(self.fuse_full2(F.relu(self.full2(f1))))
        if self.half_res:
            half = F.avg_pool2d(x, 2) if self.downsample == "avgpool" else x
            half = F.relu(self.half2(F.relu(self.half1(half))))
            fused.add_(F.interpolate(self.fuse_half(half), scale_factor=2, mode="nearest"))
        # 0.2 scales the residual as in ESRGAN, so deep stacks start near the identity.
        return torch.add(x, fused, alpha=0.2)


class MFAGenerator(nn.Module):
    """The student: head, MFA blocks, trunk with long skip, depth-to-space tail + input skip.

    ``seed`` makes the random initialisation reproducible (a random-init student has a stable
    weights id). The fuse and tail convs start 10x smaller than Kaiming so that the residual
    starts small: an untrained net's output follows the nearest-upsampled input (correlation
    about 0.8 on uniform noise) instead of being dominated by random features.
    """

    def __init__(self, config: MFAConfig, *, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        width, inner = config.width, config.inner_width
        self.head = _conv(3, width, 3)
        blocks = [
            MFABlock(width=width, inner_width=inner, half_res=flag, downsample=config.downsample)
            for flag in config.half_res
        ]
        self.body = nn.Sequential(*blocks)
        self.trunk = _conv(width, width, 3)
        self.tail = _conv(width, 3 * config.scale * config.scale, 3)
        self._init_weights(seed)

    def _init_weights(self, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, module in self.named_modules():
                if not isinstance(module, nn.Conv2d):
                    continue
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
                if name == "tail" or name.rsplit(".", 1)[-1].startswith("fuse"):
                    module.weight.mul_(0.1)
                if module.bias is not None:
                    module.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x)
        # Rebinding ``feat`` (and ``del``) frees each LR map as soon as the next exists, so
        # the HR tail never holds a C-wide LR map beside two HR-sized ones.
        feat = self.tail(feat + self.trunk(self.body(feat)))
        out = F.pixel_shuffle(feat, self.config.scale)
        del feat
        return out.add_(F.interpolate(x, scale_factor=self.config.scale, mode="nearest"))
