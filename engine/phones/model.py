"""Predicted on-device latency from a cost report: the interface and the analytic GPU model.

Anything that turns a :class:`~engine.models.profiling.CostReport` into a :class:`LatencyEstimate`
is a :class:`LatencyModel`, so a search can swap this analytic model for a lookup table or
real AI Hub measurements without changing its code.

The analytic model is a per-op roofline: an op that does work costs
``max(MACs / P, bytes moved / BW) + c_op`` and the whole graph adds a constant ``c0`` (input
upload, output read-back, launch). Which aten ops "do work" follows what the TFLite GPU
delegate actually dispatches:

- convolutions, binary elementwise ops (two activations: residual adds), concat,
  depth-to-space, resizes, pooling, copies: each is its own kernel, reading and writing
  memory, so each pays its roofline time and the per-op overhead;
- unary elementwise ops (ReLU, clipped ReLU, LeakyReLU, PReLU, clamp, scaling by a constant)
  are fused into the producing kernel by the converter and the delegate: no dispatch and no
  trip through memory, so they cost nothing;
- views move no data (the profiler already counts them as 0 bytes) and cost nothing.

Bytes: the profiler counts fp32 tensors (profile fp32 modules); they are rescaled to the
device's activation width (fp16 on the 865's GPU, even for a w8a8 model).

The same roofline serves the Hexagon NPUs of today's phones (``npu=True``) with one change in
which ops do work: the NPU folds only ReLU and clipping (ReLU-N) into the producing conv's
requantization, while PReLU, LeakyReLU, scaling by a constant and the other elementwise ops
are layers of their own (AI Hub's per-layer counts list them). Activation bytes there are
1 per element for w8a8 and 2 for float (fp16).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.models.profiling import OpCost

PROFILED_BYTES_PER_ELEMENT = 4
# Past this, ms / (1 - error) explodes: a band that wide says nothing anyway.
MAX_RELATIVE_ERROR = 0.9

_FUSED_UNARY = frozenset(
    f"aten.{name}.default"
    for name in (
        "relu", "relu_", "hardtanh", "hardtanh_", "clamp", "clamp_", "leaky_relu",
        "leaky_relu_", "_prelu_kernel", "prelu", "sigmoid", "sigmoid_", "tanh", "tanh_",
        "silu", "silu_", "gelu", "hardswish", "hardswish_",
    )
)  # fmt: skip
# On the NPU: the activations folded into a conv's requantization.
_NPU_FUSED = frozenset(
    f"aten.{name}.default" for name in ("relu", "relu_", "hardtanh", "hardtanh_", "clamp", "clamp_")
)
_CONVOLUTIONS = frozenset(("aten.convolution.default", "aten._convolution.default"))
_ELEMENTWISE = frozenset(
    f"aten.{name}.{overload}"
    for name in ("add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_")
    for overload in ("Tensor", "Scalar")
)


@dataclass(frozen=True, kw_only=True)
class LatencyEstimate:
    """A predicted latency, the range it should fall in, and how it was obtained.

    ``caveats``: reasons, specific to this network, to trust the numbers less.
    """

    ms: float
    low_ms: float
    high_ms: float
    basis: str
    caveats: tuple[str, ...] = ()

    @classmethod
    def banded(
        cls,
        ms: float,
        *,
        relative_error: float,
        basis: str,
        floor_ms: float = 0.0,
        caveats: tuple[str, ...] = (),
    ) -> LatencyEstimate:
        """``ms`` with the range a prediction ``relative_error`` off the truth implies.

        The error is relative to the measurement (|pred - true| / true), so the truth lies in
        ``[ms / (1 + e), ms / (1 - e)]``; nothing goes below ``floor_ms``.
        """
        error = min(max(relative_error, 0.0), MAX_RELATIVE_ERROR)
        centre = max(ms, floor_ms)
        return cls(
            ms=centre,
            low_ms=max(ms / (1.0 + error), floor_ms),
            high_ms=centre / (1.0 - error),
            basis=basis,
            caveats=caveats,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ms": round(self.ms, 3),
            "low_ms": round(self.low_ms, 3),
            "high_ms": round(self.high_ms, 3),
            "basis": self.basis,
            "caveats": list(self.caveats),
        }


class CostLike(Protocol):
    """What the models read from a cost report: a CostReport, or mfa_ops's analytic OpList."""

    @property
    def ops(self) -> tuple[OpCost, ...]: ...

    @property
    def macs(self) -> int: ...


class LatencyModel(Protocol):
    """Predicts the latency of one forward pass from its cost report."""

    def predict(self, report: CostLike) -> LatencyEstimate: ...


def does_work(op: OpCost, *, npu: bool = False) -> bool:
    """Whether ``op`` is a kernel of its own on the device (see the module docstring)."""
    if op.macs == 0 and op.memory_access_bytes == 0:
        return False  # views and allocations
    if npu:
        return op.op not in _NPU_FUSED
    if op.op in _FUSED_UNARY:
        return False
    # An elementwise op reading as many activation bytes as it writes has one activation
    # operand (x * 0.2, x + 1): fused. Two operands read twice that: a residual add.
    return not (op.op in _ELEMENTWISE and op.read_bytes <= op.write_bytes)


@dataclass(frozen=True, kw_only=True, eq=False)
class WorkOps:
    """The ops that do work: their MACs and device-width bytes, as arrays for fitting.

    ``convs``: how many of them are convolutions (the NPU model charges convs and other
    layers different per-op overheads).
    """

    macs: np.ndarray
    bytes: np.ndarray
    convs: int = 0
    # How many ops share each (MACs, bytes) row: a 23-block RRDBNet has about a thousand
    # ops but few distinct ones, and the fit evaluates every row at thousands of (P, BW).
    repeats: np.ndarray | None = None

    @property
    def count(self) -> int:
        return len(self.macs) if self.repeats is None else int(self.repeats.sum())

    @classmethod
    def from_report(cls, report: CostLike, *, bytes_per_element: int, npu: bool = False) -> WorkOps:
        ops = [op for op in report.ops if does_work(op, npu=npu)]
        scale = bytes_per_element / PROFILED_BYTES_PER_ELEMENT
        macs = np.array([op.macs for op in ops], dtype=np.float64)
        bytes_ = np.array([op.memory_access_bytes * scale for op in ops], dtype=np.float64)
        return cls(macs=macs, bytes=bytes_, convs=sum(op.op in _CONVOLUTIONS for op in ops))

    def grouped(self) -> WorkOps:
        """The same work with identical rows merged (same times, fewer rows)."""
        if self.repeats is not None:
            return self
        rows, repeats = np.unique(
            np.stack([self.macs, self.bytes], axis=1), axis=0, return_counts=True
        )
        return WorkOps(
            macs=rows[:, 0], bytes=rows[:, 1], convs=self.convs, repeats=repeats.astype(float)
        )


def roofline_ms(work: WorkOps, gmacs_per_s: np.ndarray, gbytes_per_s: np.ndarray) -> np.ndarray:
    """Sum over ops of max(compute, memory) time in ms, for arrays of P and BW at once."""
    compute = work.macs[:, None] / (gmacs_per_s[None, :] * 1e6)  # MAC / (GMAC/s) -> ms
    memory = work.bytes[:, None] / (gbytes_per_s[None, :] * 1e6)
    times = np.maximum(compute, memory)
    return times.sum(axis=0) if work.repeats is None else work.repeats @ times


@dataclass(frozen=True, kw_only=True)
class RooflineParams:
    """Throughput ``P`` (GMAC/s), bandwidth ``BW`` (GB/s), per-op ``c_op`` and constant ``c0``.

    With ``other_op_overhead_ms`` set, ``c_op`` is charged per convolution and that per other
    layer (the NPU model); otherwise ``c_op`` per op of any kind (the GPU model).
    """

    gmacs_per_s: float
    gbytes_per_s: float
    op_overhead_ms: float
    constant_ms: float
    other_op_overhead_ms: float | None = None

    def overheads_ms(self, work: WorkOps) -> float:
        if self.other_op_overhead_ms is None:
            return self.op_overhead_ms * work.count
        return self.op_overhead_ms * work.convs + self.other_op_overhead_ms * (
            work.count - work.convs
        )

    def ms(self, work: WorkOps) -> float:
        roof = roofline_ms(work, np.array([self.gmacs_per_s]), np.array([self.gbytes_per_s]))
        return float(roof[0] + self.overheads_ms(work) + self.constant_ms)

    def as_dict(self) -> dict[str, float]:
        data = {
            "gmacs_per_s": round(self.gmacs_per_s, 2),
            "gbytes_per_s": round(self.gbytes_per_s, 3),
            "op_overhead_ms": round(self.op_overhead_ms, 5),
            "constant_ms": round(self.constant_ms, 4),
        }
        if self.other_op_overhead_ms is not None:
            data["other_op_overhead_ms"] = round(self.other_op_overhead_ms, 5)
        return data


@dataclass(frozen=True, kw_only=True)
class RooflineModel:
    """The analytic model of one device's GPU or NPU (``npu``: the NPU's op set); the band is
    the calibration's worst LOO error."""

    params: RooflineParams
    bytes_per_element: int
    relative_error: float
    label: str
    npu: bool = False

    def predict(self, report: CostLike) -> LatencyEstimate:
        work = WorkOps.from_report(report, bytes_per_element=self.bytes_per_element, npu=self.npu)
        basis = (
            f"{self.label}: per-op roofline over {work.count} ops, band = worst "
            f"leave-one-out error {self.relative_error:.1%}"
        )
        return LatencyEstimate.banded(
            self.params.ms(work), relative_error=self.relative_error, basis=basis
        )
