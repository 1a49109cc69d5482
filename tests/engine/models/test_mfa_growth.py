"""A narrower trained student copied into a wider one starts as the same function."""

from __future__ import annotations

import pytest
import torch

from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.mfa_growth import can_grow, grown

NARROW = MFAConfig.decode("b2-c16-g8-h10-conv-x4")
WIDE = MFAConfig.decode("b2-c32-g16-h10-conv-x4")


def _trained(config: MFAConfig) -> MFAGenerator:
    """Random weights everywhere (no zero fuse/tail), as a trained net has."""
    net = MFAGenerator(config, seed=3)
    generator = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
    return net.eval()


def test_the_wider_student_starts_as_the_same_function() -> None:
    source = _trained(NARROW)
    wide = grown(source, WIDE, seed=7).eval()
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(wide(x), source(x), atol=1e-5, rtol=0)
    assert wide.config == WIDE


def test_the_new_channels_learn() -> None:
    """Their readers are zero but get a gradient, so the extra channels get used."""
    wide = grown(_trained(NARROW), WIDE, seed=7)
    wide(torch.rand(1, 3, 16, 16)).abs().mean().backward()
    assert wide.trunk.weight.grad[:, NARROW.width :].abs().sum() > 0
    assert wide.body[0].full2.weight.grad[:, NARROW.inner_width :].abs().sum() > 0
    # The new channels themselves are drawn, not zero: zero on both sides never trains.
    assert wide.head.weight[NARROW.width :].abs().sum() > 0


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("b2-c16-g8-h10-conv-x4", True),
        ("b2-c48-g32-h10-conv-x4", True),
        ("b2-c16-g16-h10-conv-x4", True),
        ("b3-c32-g16-h101-conv-x4", True),
        ("b4-c32-g16-h1000-conv-x4", True),
        ("b3-c32-g16-h000-conv-x4", False),
        ("b2-c32-g16-h11-conv-x4", False),
        ("b2-c32-g16-h10-avgpool-x4", False),
        ("b2-c32-g16-h10-conv-x2", False),
    ],
)
def test_only_a_wider_net_of_the_same_shape_can_grow(target: str, ok: bool) -> None:
    assert can_grow(NARROW, MFAConfig.decode(target)) is ok
    assert not can_grow(WIDE, NARROW)


def test_growing_into_an_unrelated_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot start from"):
        grown(_trained(NARROW), MFAConfig.decode("b3-c32-g16-h010-conv-x4"))


@pytest.mark.parametrize("target", ["b4-c16-g8-h1011-conv-x4", "b8-c32-g16-h10111111-conv-x4"])
def test_the_deeper_student_starts_as_the_same_function_and_its_new_blocks_learn(
    target: str,
) -> None:
    """Deeper than the search space goes is allowed for a grown student (b8)."""
    source = _trained(NARROW)
    deep = grown(source, MFAConfig.decode(target), seed=7)
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(deep.eval()(x), source(x), atol=1e-5, rtol=0)
    deep.train()(x).abs().mean().backward()
    new_block = deep.body[NARROW.num_blocks]
    assert new_block.fuse_full1.weight.grad.abs().sum() > 0
    # Its own convs are drawn, not zero: only the fuse convs that write the stream start at 0.
    assert new_block.full1.weight.abs().sum() > 0
