"""Read ncnn ``.param``/``.bin`` pairs and convert ESRGAN (RRDBNet) graphs to PyTorch weights.

Format facts (ncnn's own loader): ``.param`` is text: the magic ``7767517``, a
``layer_count blob_count`` line, then one layer per line: ``type name n_in n_out inputs...
outputs... k=v...``; a key ``-233xx`` holds an array for param ``xx`` written as
``count,v1,v2...``. For each Convolution, ``.bin`` holds a 4-byte storage tag and the weights
(tag ``0x01306B47``: float16, padded to 4 bytes; tag 0: float32), then, if ``5=1``, the bias as
raw float32. Weights are OIHW, as in PyTorch. Layers without weights take no bytes.

Only what RRDBNet needs is supported; anything else (int8 or quantised storage, weighted
layer types other than Convolution) is refused with a ModelError rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from engine.errors import ModelError
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig, conv_names

MAGIC = 7767517
TAG_FLOAT16 = 0x01306B47
TAG_FLOAT32 = 0
_ARRAY_KEY_BASE = -23300
_LEAKY_RELU = 2
# Layer types that carry no weights in .bin; anything else must be understood to be skipped.
_WEIGHTLESS = {"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "ReLU", "Noop"}

ParamValue = int | float | tuple[int | float, ...]


@dataclass(frozen=True, kw_only=True)
class NcnnLayer:
    type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: dict[int, ParamValue] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class NcnnConv:
    """One Convolution layer with its weights read from ``.bin`` (float32, OIHW)."""

    name: str
    weight: torch.Tensor
    bias: torch.Tensor | None
    activation: int
    activation_params: tuple[int | float, ...]


def _number(text: str) -> int | float:
    # ncnn's own rule: a value with '.' or an exponent is a float, otherwise an int.
    return float(text) if any(c in text for c in ".eE") else int(text)


def _parse_params(tokens: list[str]) -> dict[int, ParamValue]:
    params: dict[int, ParamValue] = {}
    for token in tokens:
        key_text, _, value = token.partition("=")
        key = int(key_text)
        if key <= _ARRAY_KEY_BASE:
            count, *items = value.split(",")
            if int(count) != len(items):
                raise ValueError(f"array param {token!r} announces {count} items")
            params[_ARRAY_KEY_BASE - key] = tuple(_number(item) for item in items)
        else:
            params[key] = _number(value)
    return params


def parse_param(text: str) -> list[NcnnLayer]:
    """Parse a text ``.param`` file; ModelError for anything malformed."""
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        if int(lines[0]) != MAGIC:
            raise ValueError(f"bad magic {lines[0].strip()!r}")
        layer_count = int(lines[1].split()[0])
        layers = [_parse_layer(line.split()) for line in lines[2:]]
    except (ValueError, IndexError) as error:
        raise ModelError(f"not a valid ncnn .param file: {error}") from None
    if len(layers) != layer_count:
        raise ModelError(f"ncnn .param announces {layer_count} layers but has {len(layers)}")
    return layers


def _parse_layer(tokens: list[str]) -> NcnnLayer:
    kind, name, n_in, n_out = tokens[0], tokens[1], int(tokens[2]), int(tokens[3])
    blobs = tokens[4 : 4 + n_in + n_out]
    if len(blobs) != n_in + n_out:
        raise ValueError(f"layer {name} lists fewer blobs than announced")
    return NcnnLayer(
        type=kind,
        name=name,
        inputs=tuple(blobs[:n_in]),
        outputs=tuple(blobs[n_in:]),
        params=_parse_params(tokens[4 + n_in + n_out :]),
    )


class _BinReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, count: int, dtype: str) -> np.ndarray:
        size = count * np.dtype(dtype).itemsize
        if self.offset + size > len(self.data):
            raise ModelError(
                f"ncnn .bin is too short: needs more than {len(self.data)} bytes "
                f"(reading {size} bytes at offset {self.offset})"
            )
        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += (size + 3) // 4 * 4  # ncnn pads every stored array to 4 bytes
        return array

    def weights(self, count: int, layer: str) -> np.ndarray:
        (tag,) = self.take(1, "<u4")
        if tag == TAG_FLOAT16:
            return self.take(count, "<f2").astype(np.float32)
        if tag == TAG_FLOAT32:
            return self.take(count, "<f4").astype(np.float32)
        raise ModelError(f"ncnn layer {layer}: unsupported weight storage (tag {int(tag):#010x})")


def read_convolutions(layers: list[NcnnLayer], data: bytes) -> list[NcnnConv]:
    """Read every Convolution's weights in graph order; the ``.bin`` must be consumed exactly."""
    reader = _BinReader(data)
    convs = []
    for layer in layers:
        if layer.type == "Convolution":
            convs.append(_read_conv(layer, reader))
        elif layer.type not in _WEIGHTLESS:
            raise ModelError(f"ncnn layer type {layer.type} ({layer.name}) is not supported")
    if reader.offset != len(data):
        raise ModelError(
            f"ncnn .bin has {len(data)} bytes but the .param accounts for {reader.offset}"
        )
    return convs


def _read_conv(layer: NcnnLayer, reader: _BinReader) -> NcnnConv:
    params = layer.params
    out_ch, kernel_w = int(params.get(0, 0)), int(params.get(1, 0))
    kernel_h, size = int(params.get(11, kernel_w)), int(params.get(6, 0))
    if out_ch <= 0 or kernel_w <= 0 or size % (out_ch * kernel_h * kernel_w):
        raise ModelError(f"ncnn convolution {layer.name}: inconsistent shape params {params}")
    in_ch = size // (out_ch * kernel_h * kernel_w)
    weight = reader.weights(size, layer.name).reshape(out_ch, in_ch, kernel_h, kernel_w)
    bias = reader.take(out_ch, "<f4").copy() if params.get(5, 0) else None
    extra = params.get(10, ())
    return NcnnConv(
        name=layer.name,
        weight=torch.from_numpy(weight),
        bias=None if bias is None else torch.from_numpy(bias),
        activation=int(params.get(9, 0)),
        activation_params=extra if isinstance(extra, tuple) else (extra,),
    )


def rrdbnet_from_ncnn(param_text: str, bin_data: bytes) -> tuple[RRDBNetConfig, dict]:
    """Convert an ESRGAN x4 ncnn graph to ``(RRDBNetConfig, state_dict)`` (BasicSR names).

    The block count and widths are inferred from the convs; each conv's shape, and its fused
    LeakyReLU(0.2) or absence of one, must be exactly where RRDBNet has it.
    """
    layers = parse_param(param_text)
    convs = read_convolutions(layers, bin_data)
    config = _infer_config(layers, convs)
    names = conv_names(config)
    with torch.device("meta"):
        expected = RRDBNet(config).state_dict()
    state: dict[str, torch.Tensor] = {}
    for name, conv in zip(names, convs, strict=True):
        if conv.weight.shape != expected[f"{name}.weight"].shape or conv.bias is None:
            raise ModelError(
                f"ncnn convolution {conv.name} has shape {tuple(conv.weight.shape)}; "
                f"RRDBNet's {name} needs {tuple(expected[f'{name}.weight'].shape)} with a bias"
            )
        _check_activation(conv, name)
        state[f"{name}.weight"] = conv.weight
        state[f"{name}.bias"] = conv.bias
    return config, state


def _infer_config(layers: list[NcnnLayer], convs: list[NcnnConv]) -> RRDBNetConfig:
    blocks, remainder = divmod(len(convs) - 6, 15)
    upsamples = [layer for layer in layers if layer.type == "Interp"]
    if len(convs) < 21 or remainder or len(upsamples) != 2:
        raise ModelError(
            f"ncnn graph is not an ESRGAN x4 RRDBNet "
            f"({len(convs)} convolutions, {len(upsamples)} upsampling layers)"
        )
    first, last = convs[0].weight, convs[-1].weight
    return RRDBNetConfig(
        num_block=blocks,
        num_feat=first.shape[0],
        num_grow_ch=convs[1].weight.shape[0],
        scale=4,
        in_channels=first.shape[1],
        out_channels=last.shape[0],
    )


def _check_activation(conv: NcnnConv, name: str) -> None:
    leaky = name.endswith(("conv1", "conv2", "conv3", "conv4", "conv_up1", "conv_up2", "conv_hr"))
    if leaky:
        slope = (conv.activation_params or (0.0,))[0]  # ncnn's default slope is 0
        ok = conv.activation == _LEAKY_RELU and bool(np.isclose(slope, 0.2))
    else:
        ok = conv.activation == 0
    if not ok:
        raise ModelError(
            f"ncnn convolution {conv.name} (RRDBNet {name}) has activation "
            f"{conv.activation} {conv.activation_params}, expected "
            f"{'LeakyReLU 0.2' if leaky else 'none'}"
        )
