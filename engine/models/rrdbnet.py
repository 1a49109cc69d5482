"""ESRGAN's RRDBNet, the teacher's architecture (Real-ESRGAN x4plus and anime 6B).

Module names match BasicSR exactly (``conv_first``, ``body.{i}.rdb{1,2,3}.conv{1..5}``,
``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr``, ``conv_last``), so BasicSR, Real-ESRGAN
and spandrel state dicts load without renaming.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# BasicSR packs the input into 4x (scale 2) or 16x (scale 1) channels with a pixel unshuffle
# so every variant runs its trunk at a quarter of the output resolution.
_UNSHUFFLE = {1: 4, 2: 2, 4: 1}


@dataclass(frozen=True, kw_only=True)
class RRDBNetConfig:
    num_block: int = 23
    num_feat: int = 64
    num_grow_ch: int = 32
    scale: int = 4
    in_channels: int = 3
    out_channels: int = 3

    def __post_init__(self) -> None:
        if self.scale not in _UNSHUFFLE:
            raise ValueError(f"RRDBNet scale must be 1, 2 or 4, got {self.scale}")
        for name in ("num_block", "num_feat", "num_grow_ch", "in_channels", "out_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"RRDBNet {name} must be >= 1, got {getattr(self, name)}")

    @property
    def size_multiple(self) -> int:
        """Input height and width must be a multiple of this (the pixel unshuffle factor)."""
        return _UNSHUFFLE[self.scale]


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convs, each reading the concatenation of the input and all earlier outputs."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        # 0.2 scales the residual: ESRGAN's trick for training very deep nets stably.
        return x5 * 0.2 + x


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks and a scaled outer skip."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.rdb3(self.rdb2(self.rdb1(x)))
        return out * 0.2 + x


class RRDBNet(nn.Module):
    """RRDBNet as in BasicSR: head conv, RRDB trunk with a long skip, nearest+conv x4 tail."""

    def __init__(self, config: RRDBNetConfig) -> None:
        super().__init__()
        self.config = config
        unshuffle = config.size_multiple
        feat, grow = config.num_feat, config.num_grow_ch
        self.conv_first = nn.Conv2d(config.in_channels * unshuffle * unshuffle, feat, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(feat, grow) for _ in range(config.num_block)))
        self.conv_body = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(feat, config.out_channels, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unshuffle = self.config.size_multiple
        feat = F.pixel_unshuffle(x, unshuffle) if unshuffle > 1 else x
        feat = self.conv_first(feat)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


def conv_names(config: RRDBNetConfig) -> list[str]:
    """The convs in graph order (the order ncnn and ONNX exports list them)."""
    names = ["conv_first"]
    for block in range(config.num_block):
        for rdb in (1, 2, 3):
            names += [f"body.{block}.rdb{rdb}.conv{i}" for i in range(1, 6)]
    return [*names, "conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]
