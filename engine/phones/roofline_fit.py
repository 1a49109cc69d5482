"""Fitting the per-op roofline of :mod:`engine.phones.model` to measured latencies.

Least squares on relative error, numpy only: for fixed throughput P and bandwidth BW the
overheads are a small non-negative linear problem, solved exactly at every point of a
log-spaced P x BW grid that then zooms in on its best point.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from engine.phones.model import RooflineParams, WorkOps, roofline_ms

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
        roofs = np.stack([roofline_ms(w, np.exp(log_p), np.exp(log_bw)) for w in works])
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
