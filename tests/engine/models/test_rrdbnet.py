"""RRDBNet: BasicSR names, shapes for every scale, state-dict round trips, teacher size."""

from __future__ import annotations

import pytest
import torch

from engine.models.rrdbnet import RRDBNet, RRDBNetConfig, conv_names

TINY = RRDBNetConfig(num_block=2, num_feat=8, num_grow_ch=4)


def test_teacher_config_has_the_published_parameter_count() -> None:
    with torch.device("meta"):
        net = RRDBNet(RRDBNetConfig())
    assert sum(p.numel() for p in net.parameters()) == 16_697_987


def test_state_dict_keys_are_basicsr_names() -> None:
    keys = set(RRDBNet(TINY).state_dict())
    expected = {f"{name}.{kind}" for name in conv_names(TINY) for kind in ("weight", "bias")}
    assert keys == expected
    assert "body.1.rdb3.conv5.weight" in keys
    assert conv_names(TINY)[:3] == ["conv_first", "body.0.rdb1.conv1", "body.0.rdb1.conv2"]
    assert conv_names(TINY)[-5:] == ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]


@pytest.mark.parametrize(("scale", "multiple"), [(4, 1), (2, 2), (1, 4)])
def test_every_scale_upscales_by_its_factor(scale: int, multiple: int) -> None:
    config = RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=4, scale=scale)
    assert config.size_multiple == multiple
    with torch.no_grad():
        out = RRDBNet(config)(torch.rand(1, 3, 8, 12))
    assert out.shape == (1, 3, 8 * scale, 12 * scale)


def test_state_dict_round_trip_reproduces_the_output() -> None:
    torch.manual_seed(1)
    source, target = RRDBNet(TINY).eval(), RRDBNet(TINY).eval()
    x = torch.rand(1, 3, 6, 5)
    with torch.no_grad():
        assert not torch.equal(source(x), target(x))
        target.load_state_dict(source.state_dict(), strict=True)
        assert torch.equal(source(x), target(x))


@pytest.mark.parametrize(
    "bad", [{"scale": 3}, {"num_block": 0}, {"num_feat": 0}, {"in_channels": 0}]
)
def test_invalid_configs_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        RRDBNetConfig(**bad)
