"""The MFA student: the whole search space builds and runs, configs encode stably, the
export-friendly forms equal the textbook ones, and the default is >= 50x cheaper."""

from __future__ import annotations

import io
import itertools

import onnx
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import UsageError
from engine.models.mfa import (
    BLOCK_CHOICES,
    DEFAULT_CONFIG,
    INNER_WIDTH_CHOICES,
    LARGEST_CONFIG,
    WIDTH_CHOICES,
    MFABlock,
    MFAConfig,
    MFAGenerator,
)
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig


def _search_space() -> list[MFAConfig]:
    configs = []
    for blocks, width, inner in itertools.product(
        BLOCK_CHOICES, WIDTH_CHOICES, INNER_WIDTH_CHOICES
    ):
        if inner > width:
            continue
        # Alternate the per-block switch and the downsampling so both forms are covered.
        flags = tuple((i + width) % 3 != 0 for i in range(blocks))
        downsample = "conv" if (blocks + inner) % 2 else "avgpool"
        configs.append(
            MFAConfig(
                num_blocks=blocks,
                width=width,
                inner_width=inner,
                half_res=flags,
                downsample=downsample,
            )
        )
    return configs


def test_every_search_space_size_constructs_and_runs() -> None:
    configs = _search_space()
    assert len(configs) == 5 * 13  # 13 (C, g) pairs with g <= C, for each block count
    x = torch.rand(1, 3, 4, 6)
    with torch.no_grad():
        for config in configs:
            out = MFAGenerator(config)(x)
            assert out.shape == (1, 3, 16, 24), config.encode()
            assert torch.isfinite(out).all()


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_scales(scale: int) -> None:
    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(True, False), scale=scale)
    with torch.no_grad():
        assert MFAGenerator(config)(torch.rand(1, 3, 4, 6)).shape == (1, 3, 4 * scale, 6 * scale)


def test_encode_decode_round_trip_over_the_search_space() -> None:
    for config in [*_search_space(), DEFAULT_CONFIG, LARGEST_CONFIG]:
        assert MFAConfig.decode(config.encode()) == config
    assert DEFAULT_CONFIG.encode() == "b6-c32-g32-h111111-conv-x4"
    assert LARGEST_CONFIG.encode() == "b6-c48-g32-h111111-conv-x4"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "b4-c32-g16",
        "b4-c32-g16-h111-conv-x4",
        "b4-c32-g48-h1111-conv-x4",
        "b4-c32-g16-h1111-maxpool-x4",
        "b9-c32-g16-h111111111-conv-x4",
    ],
)
def test_decode_refuses_bad_text_with_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        MFAConfig.decode(text)


@pytest.mark.parametrize(
    "bad",
    [
        {"inner_width": 48},  # g > C
        {"half_res": (True,) * 3},  # wrong length
        {"num_blocks": 9, "half_res": (True,) * 9},  # deeper than a grown student may be
        {"width": 20},
        {"downsample": "maxpool"},
        {"scale": 8},
        {"half_res": (1, 1, 1, 1)},
    ],
)
def test_invalid_configs_are_refused(bad: dict) -> None:
    fields = {"num_blocks": 4, "width": 32, "inner_width": 16, "half_res": (True,) * 4} | bad
    with pytest.raises(ValueError):
        MFAConfig(**fields)


def test_half_res_list_is_stored_as_a_hashable_tuple() -> None:
    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=[True, False])
    assert config.half_res == (True, False)
    assert hash(config) == hash(MFAConfig.decode(config.encode()))
    assert config.size_multiple == 2
    no_half = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(False, False))
    assert no_half.size_multiple == 1


def test_state_dict_round_trip_and_seeded_init() -> None:
    x = torch.rand(1, 3, 8, 8)
    a, b, c = (
        MFAGenerator(DEFAULT_CONFIG, seed=1),
        MFAGenerator(DEFAULT_CONFIG, seed=1),
        (MFAGenerator(DEFAULT_CONFIG, seed=2)),
    )
    with torch.no_grad():
        assert torch.equal(a(x), b(x))
        assert not torch.equal(a(x), c(x))
        c.load_state_dict(a.state_dict(), strict=True)
        assert torch.equal(a(x), c(x))


def _textbook_block(block: MFABlock, x: torch.Tensor) -> torch.Tensor:
    """MFAGAN.md's literal form: upsample the half path, concatenate, one 1x1 conv."""
    f1 = F.relu(block.full1(x))
    f2 = F.relu(block.full2(f1))
    half = F.avg_pool2d(x, 2) if block.downsample == "avgpool" else x
    half = F.relu(block.half2(F.relu(block.half1(half))))
    half = F.interpolate(half, scale_factor=2, mode="nearest")
    fuse = nn.Conv2d(3 * block.full1.out_channels, block.full1.in_channels, 1)
    fuse.weight.data = torch.cat(
        [block.fuse_full1.weight, block.fuse_full2.weight, block.fuse_half.weight], dim=1
    )
    fuse.bias.data = block.fuse_full1.bias.clone()
    return x + 0.2 * fuse(torch.cat([f1, f2, half], dim=1))


@pytest.mark.parametrize("downsample", ["conv", "avgpool"])
def test_sum_of_branch_convs_equals_concat_then_1x1(downsample: str) -> None:
    torch.manual_seed(0)
    block = MFABlock(width=24, inner_width=16, half_res=True, downsample=downsample)
    for conv in (block.fuse_full1, block.fuse_full2, block.fuse_half):
        nn.init.normal_(conv.weight)  # the generator's 0.1 init would hide differences
    nn.init.normal_(block.fuse_full1.bias)
    x = torch.rand(1, 24, 10, 14)
    with torch.no_grad():
        assert torch.allclose(block(x), _textbook_block(block, x), atol=1e-4)


def test_untrained_student_follows_nearest_upsampling() -> None:
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = MFAGenerator(DEFAULT_CONFIG)(x)
    nearest = F.interpolate(x, scale_factor=4, mode="nearest")
    correlation = torch.corrcoef(torch.stack([out.flatten(), nearest.flatten()]))[0, 1]
    assert correlation > 0.7


@pytest.mark.filterwarnings("ignore:.*legacy TorchScript-based ONNX export:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The feature will be removed:DeprecationWarning")
def test_default_export_uses_only_phone_friendly_onnx_ops() -> None:
    buffer = io.BytesIO()
    torch.onnx.export(
        MFAGenerator(DEFAULT_CONFIG).eval(),
        (torch.rand(1, 3, 16, 16),),
        buffer,
        dynamo=False,
        opset_version=17,
    )
    ops = {node.op_type for node in onnx.load_from_string(buffer.getvalue()).graph.node}
    assert {"Conv", "Relu", "DepthToSpace", "Resize", "Add"} <= ops
    assert ops <= {"Conv", "Relu", "DepthToSpace", "Resize", "Add", "Mul", "Constant", "Identity"}


def _macs_per_pixel(net: nn.Module) -> float:
    """Conv MACs per LR pixel, counted from the shapes a real forward produces."""
    total = 0

    def count(module: nn.Conv2d, _: object, out: torch.Tensor) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1]
        total += out.numel() * module.in_channels // module.groups * kernel

    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(count)
    with torch.no_grad():
        net(torch.zeros(1, 3, 8, 8))
    return total / (8 * 8)


def test_default_config_is_at_least_50x_cheaper_than_the_teacher() -> None:
    with torch.device("meta"):
        teacher = RRDBNet(RRDBNetConfig())
    # Uninitialised CPU memory: skips a 16.7M-parameter random init; values do not matter.
    teacher_macs = _macs_per_pixel(teacher.to_empty(device="cpu"))
    assert teacher_macs == 17_926_848  # by hand: 16.5M in the 23 RRDBs + the tail at 4x
    assert teacher_macs / _macs_per_pixel(MFAGenerator(DEFAULT_CONFIG)) >= 50
    assert teacher_macs / _macs_per_pixel(MFAGenerator(LARGEST_CONFIG)) >= 50
