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

import itertools
from collections.abc import Sequence
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


def _roofline_ms(work: WorkOps, gmacs_per_s: np.ndarray, gbytes_per_s: np.ndarray) -> np.ndarray:
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
        roof = _roofline_ms(work, np.array([self.gmacs_per_s]), np.array([self.gbytes_per_s]))
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


# Wide enough for any phone GPU (GMAC/s, GB/s); each round zooms in on the best point.
_GMACS_RANGE = (10.0, 5000.0)
_GBYTES_RANGE = (1.0, 500.0)
_NPU_GMACS_RANGE = (100.0, 200_000.0)
_NPU_GBYTES_RANGE = (10.0, 20_000.0)
_GRID_POINTS = 41
_ZOOM_ROUNDS = 10
# The next round spans this many steps either side of the best point (0.4x per round). The
# max() in the roofline makes the cost kinked; a tighter zoom (3 steps of 31) was caught in
# a local minimum 16 % above the one this finds, which a 101-point grid confirms.
_ZOOM_STEPS = 8


def fit_roofline(
    samples: Sequence[tuple[WorkOps, float]], *, split_overheads: bool = False
) -> RooflineParams:
    """Least squares on relative error, numpy only.

    For fixed P and BW the overheads (c_op, c0 >= 0; with ``split_overheads`` c_op per conv
    and per other layer) are a linear problem, solved exactly at every point of a log-spaced
    P x BW grid; the grid then zooms in on its best point. The NPU grid starts wider: a phone
    NPU runs tens of TMAC/s at w8a8.
    """
    if len(samples) < 4:
        raise ValueError(f"a roofline fit needs at least 4 measurements, got {len(samples)}")
    measured = np.array([ms for _, ms in samples])
    works = [work.grouped() for work, _ in samples]
    counts = np.array([work.count for work, _ in samples], dtype=np.float64)
    convs = np.array([work.convs for work, _ in samples], dtype=np.float64)
    per_op = [convs, counts - convs] if split_overheads else [counts]
    design = np.stack([*per_op, np.ones_like(measured)], axis=1) / measured[:, None]
    ranges = (
        (_NPU_GMACS_RANGE, _NPU_GBYTES_RANGE) if split_overheads else (_GMACS_RANGE, _GBYTES_RANGE)
    )
    bounds = np.log(ranges)  # rows: log P, log BW
    for _ in range(_ZOOM_ROUNDS):
        axes = [np.linspace(low, high, _GRID_POINTS) for low, high in bounds]
        log_p, log_bw = (g.ravel() for g in np.meshgrid(*axes))
        roofs = np.stack([_roofline_ms(w, np.exp(log_p), np.exp(log_bw)) for w in works])
        overheads, costs = _nonnegative_overheads(design, 1.0 - roofs / measured[:, None])
        best = int(np.argmin(costs))
        steps = (bounds[:, 1] - bounds[:, 0]) / (_GRID_POINTS - 1) * _ZOOM_STEPS
        centre = np.array([log_p[best], log_bw[best]])
        bounds = np.stack([centre - steps, centre + steps], axis=1)
    solution = [float(v) for v in overheads[:, best]]
    return RooflineParams(
        gmacs_per_s=float(np.exp(log_p[best])),
        gbytes_per_s=float(np.exp(log_bw[best])),
        op_overhead_ms=solution[0],
        other_op_overhead_ms=solution[1] if split_overheads else None,
        constant_ms=solution[-1],
    )


def _nonnegative_overheads(
    design: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact non-negative least squares with a few variables, for many targets at once.

    The optimum is the unconstrained least-squares solution on its own support (the
    variables it leaves positive), so it is the cheapest non-negative one among the
    solutions on every subset of variables (2**k of them, k <= 3 here). Returns
    (k x G solutions, G costs).
    """
    count = design.shape[1]
    best_costs = np.sum(targets**2, axis=0)  # all zero
    best = np.zeros((count, targets.shape[1]))
    for support in itertools.chain.from_iterable(
        itertools.combinations(range(count), size) for size in range(1, count + 1)
    ):
        columns = list(support)
        solution = np.zeros_like(best)
        solution[columns] = np.linalg.pinv(design[:, columns]) @ targets
        costs = np.sum((design @ solution - targets) ** 2, axis=0)
        better = np.all(solution >= 0, axis=0) & (costs < best_costs)
        best = np.where(better, solution, best)
        best_costs = np.where(better, costs, best_costs)
    return best, best_costs
