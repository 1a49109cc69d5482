"""The 70x70 PatchGAN discriminator (pix2pix), spectral norm instead of batch norm.

Five 4x4 convs with strides 2, 2, 2, 1, 1 and widths ndf, 2ndf, 4ndf, 8ndf, 1: each logit
judges one 70x70 HR window, so D scores texture locally and trains fast and stably (MFAGAN's
choice). Spectral norm bounds each layer's Lipschitz constant without batch statistics, so
D behaves the same for any batch size and under DDP. The teacher D (ndf 64) and the student
D (narrower) share the architecture, hence their patch logits and feature maps align
spatially, which is what D distillation compares.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

STRIDES = (2, 2, 2, 1)
RECEPTIVE_FIELD = 70


class PatchDiscriminator(nn.Module):
    def __init__(self, *, ndf: int, in_channels: int = 3) -> None:
        super().__init__()
        self.ndf = ndf
        widths = [in_channels, *(ndf * 2**i for i in range(len(STRIDES)))]
        self.convs = nn.ModuleList(
            spectral_norm(nn.Conv2d(cin, cout, 4, stride=stride, padding=1))
            for cin, cout, stride in zip(widths[:-1], widths[1:], STRIDES, strict=True)
        )
        self.head = spectral_norm(nn.Conv2d(widths[-1], 1, 4, stride=1, padding=1))
        self.act = nn.LeakyReLU(0.2)

    @property
    def feature_widths(self) -> tuple[int, ...]:
        return tuple(conv.out_channels for conv in self.convs)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Patch logits (N, 1, h, w) and the activation after every hidden conv."""
        feats = []
        for conv in self.convs:
            x = self.act(conv(x))
            feats.append(x)
        return self.head(x), feats
