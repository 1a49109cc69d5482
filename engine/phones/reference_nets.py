"""The public SR networks whose phone latencies calibrate the latency model, at random weights.

Rebuilt from their public definitions (Qualcomm's aimet-model-zoo for XLSR, SESR and
QuickSRNet; Real-ESRGAN's SRVGGNetCompact; our RRDBNet for x4plus and ESRGAN), all at x4. Only the
graph matters here: the latency model reads the ops, MACs and bytes the profiler counts, so
the weights are random and every net's parameter count is checked against the published one.
Activations that TFLite fuses into the preceding conv (ReLU, clipped ReLU) are kept as they
are in the originals so the op lists match what was measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

SCALE = 4
_RGB = 3
_OUT = _RGB * SCALE * SCALE  # channels before the x4 depth-to-space


def _conv(cin: int, cout: int, kernel: int, *, groups: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2, groups=groups, bias=bias)


class QuickSRNet(nn.Module):
    """QuickSRNet (Berger et al. 2023): plain 3x3 convs with clipped ReLU, depth-to-space.

    The large variant adds a learnt 1x1 "anchor" conv of the input to the last conv's output
    (the input-to-output connection); the small ones fold that skip into their init instead.
    """

    def __init__(self, *, channels: int, intermediate: int, input_to_output: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv(_RGB, channels, 3), nn.Hardtanh(0.0, 1.0)]
        for _ in range(intermediate):
            layers += [_conv(channels, channels, 3), nn.Hardtanh(0.0, 1.0)]
        self.cnn = nn.Sequential(*layers)
        self.conv_last = _conv(channels, _OUT, 3)
        self.anchor = _conv(_RGB, _OUT, 1) if input_to_output else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_last(self.cnn(x))
        if self.anchor is not None:
            out = out + self.anchor(x)
        return F.pixel_shuffle(out.clamp(0.0, 1.0), SCALE)


class XLSR(nn.Module):
    """XLSR (Ayazoglu 2021): grouped-conv G-blocks, a concatenated residual branch, clip."""

    def __init__(self) -> None:
        super().__init__()
        self.residual = _conv(_RGB, 16, 3)
        gblocks: list[nn.Module] = []
        for _ in range(3):
            gblocks += [_conv(32, 32, 3, groups=4), nn.ReLU(), _conv(32, 32, 1)]
        self.cnn = nn.Sequential(_conv(_RGB, 32, 3), nn.ReLU(), _conv(32, 32, 1), *gblocks)
        self.tail = nn.Sequential(_conv(48, 32, 1), nn.ReLU(), _conv(32, _OUT, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = torch.cat((self.cnn(x), self.residual(x)), dim=1)
        return F.pixel_shuffle(self.tail(feat), SCALE).clamp(0.0, 1.0)


class _LinearBlock(nn.Module):
    """SESR's collapsible linear block, uncollapsed: a wide kxk expand, then a 1x1 squeeze."""

    def __init__(self, cin: int, cout: int, *, kernel: int, residual: bool, relu: bool) -> None:
        super().__init__()
        # 256 wide expansion: SESR's training-time width; deployed uncollapsed on AI Hub.
        self.expand = _conv(cin, 256, kernel, bias=False)
        self.squeeze = _conv(256, cout, 1)
        self.residual = residual
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.squeeze(self.expand(x))
        if self.residual:
            out = out + x
        return F.relu(out) if self.relu else out


class SESR(nn.Module):
    """SESR-M<n> (Bhardwaj et al. 2022), uncollapsed, with its 1x1 nearest-upsampling anchor."""

    def __init__(self, *, blocks: int, channels: int = 16) -> None:
        super().__init__()
        self.anchor = _conv(_RGB, _OUT, 1)
        self.first = _LinearBlock(_RGB, channels, kernel=5, residual=False, relu=True)
        self.body = nn.Sequential(
            *(
                _LinearBlock(channels, channels, kernel=3, residual=True, relu=True)
                for _ in range(blocks)
            )
        )
        self.last = _LinearBlock(channels, _OUT, kernel=5, residual=False, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.first(x)
        out = self.last(self.body(feat) + feat) + self.anchor(x)
        return F.pixel_shuffle(out, SCALE)


class SRVGGNetCompact(nn.Module):
    """Real-ESRGAN's compact net (general x4v3): conv + PReLU stack, depth-to-space tail."""

    def __init__(self, *, num_feat: int = 64, num_conv: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv(_RGB, num_feat, 3), nn.PReLU(num_feat)]
        for _ in range(num_conv):
            layers += [_conv(num_feat, num_feat, 3), nn.PReLU(num_feat)]
        layers.append(_conv(num_feat, _OUT, 3))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.pixel_shuffle(self.body(x), SCALE)
        return out + F.interpolate(x, scale_factor=SCALE, mode="nearest")


@dataclass(frozen=True, kw_only=True)
class ReferenceNet:
    """One public network: its AI Hub model id, title, published size and a builder."""

    key: str
    title: str
    published_params: int
    build: Callable[[], nn.Module]


def _rrdbnet_x4plus() -> nn.Module:
    return RRDBNet(RRDBNetConfig(num_block=23, num_feat=64, num_grow_ch=32, scale=SCALE))


def _quicksrnet(
    size: str, params: int, *, channels: int, intermediate: int, input_to_output: bool
) -> ReferenceNet:
    """QuickSRNet``size`` (Small, Medium, Large); AI Hub's id is the title in lower case."""
    return ReferenceNet(
        key=f"quicksrnet{size.lower()}",
        title=f"QuickSRNet{size}",
        published_params=params,
        build=partial(
            QuickSRNet,
            channels=channels,
            intermediate=intermediate,
            input_to_output=input_to_output,
        ),
    )


REFERENCE_NETS: tuple[ReferenceNet, ...] = (
    ReferenceNet(key="xlsr", title="XLSR", published_params=28_000, build=XLSR),
    _quicksrnet("Small", 33_300, channels=32, intermediate=2, input_to_output=False),
    _quicksrnet("Medium", 61_000, channels=32, intermediate=5, input_to_output=False),
    ReferenceNet(
        key="sesr_m5",
        title="SESR-M5 (uncollapsed)",
        published_params=343_000,
        build=lambda: SESR(blocks=5),
    ),
    _quicksrnet("Large", 436_000, channels=64, intermediate=11, input_to_output=True),
    ReferenceNet(
        key="real_esrgan_general_x4v3",
        title="Real-ESRGAN general x4v3 (SRVGGNetCompact)",
        published_params=1_210_000,
        build=SRVGGNetCompact,
    ),
    ReferenceNet(
        key="real_esrgan_x4plus",
        title="Real-ESRGAN x4plus (RRDBNet 23 blocks)",
        published_params=16_700_000,
        build=_rrdbnet_x4plus,
    ),
    # The original ESRGAN generator is the same RRDBNet (23 blocks, 64 features, growth 32,
    # nearest-upsampling tail) as x4plus: one graph, measured twice (float only on AI Hub).
    ReferenceNet(
        key="esrgan",
        title="ESRGAN (RRDBNet 23 blocks)",
        published_params=16_700_000,
        build=_rrdbnet_x4plus,
    ),
)


def reference_net(key: str) -> ReferenceNet:
    """The reference net with AI Hub id ``key``; KeyError names the known ones."""
    for net in REFERENCE_NETS:
        if net.key == key:
            return net
    raise KeyError(f"no reference net {key!r}; known: {', '.join(n.key for n in REFERENCE_NETS)}")
