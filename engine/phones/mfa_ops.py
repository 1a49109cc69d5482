"""The op list of an MFA student, computed from its config alone (no module, no tracing).

A search scores thousands of candidates a minute, and tracing a network per candidate costs
tens of milliseconds. The profiler's op list of an :class:`~engine.models.mfa.MFAGenerator`
is a pure function of the config and the input size, so it is written out here op by op, in
the order and with the byte counts the profiler records (fp32, activations read and written,
weights and bias per conv). ``tests/engine/phones/test_mfa_ops.py`` checks that this list
equals the traced one, op for op, over many configs and sizes: if ``mfa.py`` changes its
forward, that test fails rather than the prediction drifting silently.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from engine.models.mfa import MFAConfig
from engine.models.profiling import OpCost

_FP32 = 4
_CONV = "aten.convolution.default"


@dataclass(frozen=True, kw_only=True)
class OpList:
    """What a latency model reads from a cost report: the ops and the total MACs."""

    ops: tuple[OpCost, ...]

    @property
    def macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def params(self) -> int:
        """Weights and biases, counted from the float32 weight bytes the ops read."""
        return sum(op.weight_bytes for op in self.ops) // _FP32


class _Builder:
    """Appends ops as the profiler sees them; shapes are (channels, height, width)."""

    def __init__(self) -> None:
        self.ops: list[OpCost] = []

    def conv(
        self, cin: int, cout: int, kernel: int, hw: tuple[int, int], *, stride: int = 1,
        bias: bool = True,
    ) -> tuple[int, int]:  # fmt: skip
        pad = kernel // 2
        out_hw = tuple((side + 2 * pad - kernel) // stride + 1 for side in hw)
        out_elems = cout * out_hw[0] * out_hw[1]
        weights = cout * cin * kernel * kernel + (cout if bias else 0)
        self.ops.append(
            OpCost(
                op=_CONV,
                macs=out_elems * cin * kernel * kernel,
                read_bytes=cin * hw[0] * hw[1] * _FP32,
                write_bytes=out_elems * _FP32,
                weight_bytes=weights * _FP32,
            )
        )
        return out_hw[0], out_hw[1]

    def unary(self, name: str, elems: int) -> None:
        bytes_ = elems * _FP32
        self.ops.append(
            OpCost(op=name, macs=0, read_bytes=bytes_, write_bytes=bytes_, weight_bytes=0)
        )

    def binary(self, name: str, elems: int) -> None:
        bytes_ = elems * _FP32
        self.ops.append(
            OpCost(op=name, macs=0, read_bytes=2 * bytes_, write_bytes=bytes_, weight_bytes=0)
        )

    def resample(self, name: str, in_elems: int, out_elems: int) -> None:
        self.ops.append(
            OpCost(
                op=name, macs=0, read_bytes=in_elems * _FP32, write_bytes=out_elems * _FP32,
                weight_bytes=0,
            )
        )  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _block(
    width: int, inner: int, half: bool, downsample: str, hw: tuple[int, int]
) -> tuple[OpCost, ...]:
    """One MFA block's ops; cached, since a search meets the same few blocks again and again."""
    ops = _Builder()
    full = hw[0] * hw[1]
    ops.conv(width, inner, 3, hw)
    ops.unary("aten.relu.default", inner * full)
    ops.conv(inner, width, 1, hw)
    ops.conv(inner, inner, 3, hw)
    ops.unary("aten.relu.default", inner * full)
    ops.conv(inner, width, 1, hw, bias=False)
    ops.binary("aten.add_.Tensor", width * full)
    if half:
        if downsample == "avgpool":
            small = (hw[0] // 2, hw[1] // 2)
            ops.resample("aten.avg_pool2d.default", width * full, width * small[0] * small[1])
            small = ops.conv(width, inner, 3, small)
        else:
            small = ops.conv(width, inner, 3, hw, stride=2)
        area = small[0] * small[1]
        ops.unary("aten.relu.default", inner * area)
        ops.conv(inner, inner, 3, small)
        ops.unary("aten.relu.default", inner * area)
        ops.conv(inner, width, 1, small, bias=False)
        ops.resample("aten.upsample_nearest2d.default", width * area, width * 4 * area)
        ops.binary("aten.add_.Tensor", width * full)
    ops.binary("aten.add.Tensor", width * full)  # x + 0.2 * fused, one aten op (alpha)
    return tuple(ops.ops)


@functools.lru_cache(maxsize=4096)
def mfa_ops(cfg: MFAConfig, height: int, width: int) -> OpList:
    """The profiler's op list of ``MFAGenerator(cfg)`` on a 1x3xHxW fp32 input."""
    ops = _Builder()
    hw = (height, width)
    full = height * width
    scale = cfg.scale
    ops.conv(3, cfg.width, 3, hw)
    for half in cfg.half_res:
        ops.ops.extend(_block(cfg.width, cfg.inner_width, half, cfg.downsample, hw))
    ops.conv(cfg.width, cfg.width, 3, hw)
    ops.binary("aten.add.Tensor", cfg.width * full)
    out_channels = 3 * scale * scale
    ops.conv(cfg.width, out_channels, 3, hw)
    ops.unary("aten.pixel_shuffle.default", out_channels * full)
    ops.resample("aten.upsample_nearest2d.default", 3 * full, out_channels * full)
    ops.binary("aten.add_.Tensor", out_channels * full)
    return OpList(ops=tuple(ops.ops))
