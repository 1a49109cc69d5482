"""Cost profiling: exact numbers on nets small enough to count by hand."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from engine.models.mfa import DEFAULT_CONFIG, MFAGenerator
from engine.models.profiling import CostReport, profile_model
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

F32 = 4


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x)


class Concat(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((x, x * 2.0), dim=1)


class KeepsLocals(nn.Module):
    """Same layers as ``_chain()`` but every intermediate stays referenced until return."""

    def __init__(self) -> None:
        super().__init__()
        chain = _chain()
        self.a, self.b, self.c = chain[0], chain[2], chain[4]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.a(x)
        b = F.relu(a)
        c = self.b(b)
        d = F.relu(c)
        return self.c(d)


class DataDependent(nn.Module):
    """Branches on a value: meta tensors have none, so profiling must fall back to the CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y * 2.0 if bool(x.mean() >= 0.0) else y


def _chain() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 3, 3, padding=1),
    )


def test_single_conv_counts_by_hand() -> None:
    report = profile_model(nn.Conv2d(3, 8, 3, padding=1), height=10, width=12)
    pixels = 10 * 12
    assert report.params == 8 * 3 * 9 + 8
    assert report.macs == 8 * pixels * 3 * 9
    in_bytes, out_bytes, weight_bytes = 3 * pixels * F32, 8 * pixels * F32, (216 + 8) * F32
    assert report.memory_access_bytes == in_bytes + out_bytes + weight_bytes == 6176
    assert report.peak_activation_bytes == in_bytes + out_bytes
    assert report.input_shape == (1, 3, 10, 12)
    assert report.output_shape == (1, 8, 10, 12)


def test_strided_grouped_conv_without_bias() -> None:
    conv = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2, bias=False)
    report = profile_model(conv, height=8, width=8, in_channels=4)
    # 8x4x4 outputs, each a 2-channel (4 / 2 groups) 3x3 window.
    assert report.macs == 8 * 4 * 4 * 2 * 9
    assert report.params == 8 * 2 * 9
    assert report.memory_access_bytes == (4 * 64 + 8 * 16 + 8 * 2 * 9) * F32


def test_conv_plus_add() -> None:
    report = profile_model(Residual(), height=5, width=7)
    n = 3 * 5 * 7 * F32  # bytes of one 3-channel map
    assert report.macs == 3 * 35 * 3 * 9
    conv_bytes = n + n + (81 + 3) * F32
    add_bytes = n + n + n
    assert report.memory_access_bytes == conv_bytes + add_bytes
    assert [op.op for op in report.ops] == ["aten.convolution.default", "aten.add.Tensor"]
    assert report.peak_activation_bytes == 3 * n  # input, conv output, sum


def test_pixel_shuffle_moves_data_but_costs_no_macs() -> None:
    net = nn.Sequential(nn.Conv2d(3, 12, 1, bias=False), nn.PixelShuffle(2))
    report = profile_model(net, height=4, width=6)
    assert report.macs == 12 * 24 * 3
    shuffle = report.ops[-1]
    assert shuffle.op == "aten.pixel_shuffle.default"
    assert (shuffle.macs, shuffle.read_bytes, shuffle.write_bytes) == (0, 12 * 24 * 4, 12 * 24 * 4)
    assert report.output_shape == (1, 3, 8, 12)


def test_cat_is_counted() -> None:
    report = profile_model(Concat(), height=4, width=4)
    n = 3 * 16 * F32
    cat = next(op for op in report.ops if op.op == "aten.cat.default")
    assert (cat.read_bytes, cat.write_bytes, cat.weight_bytes) == (2 * n, 2 * n, 0)
    assert report.memory_access_bytes == (n + n) + (2 * n + 2 * n)  # mul, then cat
    assert report.macs == 0
    assert report.peak_activation_bytes == n + n + 2 * n


def test_linear_counts_matrix_product() -> None:
    report = profile_model(nn.Linear(8, 5), height=6, width=8, in_channels=1)
    assert report.macs == 6 * 8 * 5
    assert report.params == 45
    # Views (reshape, transpose of the weight) move nothing; addmm reads, writes, weights.
    assert report.memory_access_bytes == (48 + 30 + 45) * F32


def test_sequence_frees_intermediates() -> None:
    pixels = 6 * 6 * F32
    chained = profile_model(_chain(), height=6, width=6)
    # Most live at once: the input plus two 16-channel maps (a ReLU and its conv input).
    assert chained.peak_activation_bytes == (3 + 16 + 16) * pixels
    kept = profile_model(KeepsLocals(), height=6, width=6)
    assert kept.peak_activation_bytes == (3 + 16 * 4 + 3) * pixels
    assert kept.macs == chained.macs


def test_in_place_activation_allocates_nothing() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.LeakyReLU(0.2, inplace=True))
    report = profile_model(net, height=3, width=3)
    n_in, n_out = 3 * 9 * F32, 4 * 9 * F32
    assert report.peak_activation_bytes == n_in + n_out
    assert report.ops[-1].op == "aten.leaky_relu_.default"
    assert report.ops[-1].memory_access_bytes == 2 * n_out


def test_macs_agree_with_torch_flop_counter() -> None:
    net = MFAGenerator(DEFAULT_CONFIG).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        net(torch.zeros(1, 3, 16, 24))
    assert profile_model(net, height=16, width=24).macs * 2 == counter.get_total_flops()


def test_teacher_macs_match_the_architecture() -> None:
    report = profile_model(RRDBNet(RRDBNetConfig()), height=16, width=16)
    feat, grow = 64, 32
    rdb = sum((feat + i * grow) * grow for i in range(4)) + (feat + 4 * grow) * feat
    per_lr_pixel = 9 * (
        3 * feat + 23 * 3 * rdb + feat * feat + feat * feat * (4 + 16 + 16) + feat * 3 * 16
    )
    assert report.macs == per_lr_pixel * 256 == 4_589_273_088
    assert report.params == 16_697_987
    assert report.output_shape == (1, 3, 64, 64)


@pytest.mark.parametrize(
    "net",
    [MFAGenerator(DEFAULT_CONFIG), RRDBNet(RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=4))],
    ids=["mfa-default", "rrdbnet-tiny"],
)
def test_meta_shortcut_equals_a_real_forward(net: nn.Module) -> None:
    meta = profile_model(net.eval(), height=12, width=20, device="meta")
    real = profile_model(net, height=12, width=20, device="cpu")
    assert meta == real
    assert meta.peak_activation_bytes > 0


def test_falls_back_to_cpu_when_meta_cannot_run() -> None:
    with pytest.raises(RuntimeError):
        profile_model(DataDependent(), height=4, width=4, device="meta")
    report = profile_model(DataDependent(), height=4, width=4)
    assert report.macs == 4 * 16 * 3
    assert report.output_shape == (1, 4, 4, 4)


def test_as_dict_is_stable_json() -> None:
    report = profile_model(Residual(), height=2, width=3)
    data = report.as_dict()
    assert list(data) == [
        "input_shape",
        "output_shape",
        "params",
        "macs",
        "memory_access_bytes",
        "peak_activation_bytes",
        "ops",
    ]
    assert json.loads(json.dumps(data)) == data
    assert data["ops"] == 2
    detailed = report.as_dict(include_ops=True)["ops"]
    assert [op["op"] for op in detailed] == ["aten.convolution.default", "aten.add.Tensor"]
    assert sum(op["macs"] for op in detailed) == report.macs


def test_rejects_empty_input() -> None:
    with pytest.raises(ValueError):
        profile_model(Residual(), height=0, width=3)


def test_report_is_frozen() -> None:
    report = profile_model(Residual(), height=2, width=2)
    assert isinstance(report, CostReport)
    with pytest.raises(AttributeError):
        report.macs = 0  # type: ignore[misc]
