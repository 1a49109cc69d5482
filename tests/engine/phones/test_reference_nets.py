from __future__ import annotations

import pytest
import torch

from engine.phones.calibration import reference_reports
from engine.phones.reference_nets import REFERENCE_NETS, reference_net


@pytest.mark.parametrize("net", REFERENCE_NETS, ids=lambda net: net.key)
def test_parameter_count_matches_the_published_one(net):
    with torch.device("meta"):  # counting needs shapes only
        module = net.build()
    params = sum(p.numel() for p in module.parameters())
    assert params == pytest.approx(net.published_params, rel=0.01)


def test_every_reference_net_upscales_x4():
    reports = reference_reports(128, 128)
    assert set(reports) == {net.key for net in REFERENCE_NETS}
    assert {r.output_shape for r in reports.values()} == {(1, 3, 512, 512)}


def test_graphs_use_the_ops_they_are_known_for():
    reports = reference_reports(128, 128)
    ops = {key: {op.op for op in r.ops} for key, r in reports.items()}
    assert "aten.cat.default" in ops["xlsr"]  # the concat that pushed XLSR off the NPU
    assert "aten.cat.default" not in ops["quicksrnetlarge"]
    assert "aten._prelu_kernel.default" in ops["real_esrgan_general_x4v3"]
    convs = sum(op.op == "aten.convolution.default" for op in reports["real_esrgan_x4plus"].ops)
    assert convs == 23 * 15 + 6


def test_unknown_reference_net_names_the_known_ones():
    with pytest.raises(KeyError, match="quicksrnetsmall"):
        reference_net("edsr")
