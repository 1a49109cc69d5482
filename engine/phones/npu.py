"""A rough NPU latency range: a power law in MACs, widened by its worst leave-one-out error.

On the 865's Hexagon NPU no simple cost form predicts the public figures well (docs/PHONES.md):
small nets sit on a 10-12 ms floor and Real-ESRGAN x4v3 runs faster than QuickSRNetLarge with
2.8x its MACs. So the NPU answer is a range, never a point to trust: ``ms = a * GMACs**b``
fitted in log space, widened by the fit's worst leave-one-out error and kept above the floor.
A real AI Hub profile job is what confirms it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.phones.model import CostLike, LatencyEstimate

# Nets with no MACs (bicubic) still pay the floor; this keeps the log finite.
_MIN_GMACS = 1e-6
# Ops absent from every all-NPU public graph on the 865 (docs/PHONES.md): XLSR's concat pushed it
# off the NPU into a GPU/CPU split (23 ms instead of 5). Grouped convs are on that list too,
# but a cost report cannot tell them from plain convs.
_OFF_NPU_OPS = {
    "aten.cat.default": "concat",
    "aten.avg_pool2d.default": "average pooling",
    "aten._adaptive_avg_pool2d.default": "average pooling",
}


@dataclass(frozen=True, kw_only=True)
class PowerLawParams:
    """``ms = coefficient_ms * GMACs ** exponent``."""

    coefficient_ms: float
    exponent: float

    def ms(self, macs: int) -> float:
        return self.coefficient_ms * max(macs / 1e9, _MIN_GMACS) ** self.exponent

    def as_dict(self) -> dict[str, float]:
        return {
            "coefficient_ms": round(self.coefficient_ms, 4),
            "exponent": round(self.exponent, 4),
        }


def fit_power_law(samples: Sequence[tuple[int, float]]) -> PowerLawParams:
    """Least squares of log ms on log GMACs over ``(macs, ms)`` pairs."""
    if len(samples) < 2:
        raise ValueError(f"a power-law fit needs at least 2 measurements, got {len(samples)}")
    log_gmacs = np.log([max(macs / 1e9, _MIN_GMACS) for macs, _ in samples])
    log_ms = np.log([ms for _, ms in samples])
    exponent, log_coefficient = np.polyfit(log_gmacs, log_ms, 1)
    return PowerLawParams(coefficient_ms=float(np.exp(log_coefficient)), exponent=float(exponent))


@dataclass(frozen=True, kw_only=True)
class PowerLawRange:
    """The NPU range model; ``relative_error`` is the fit's worst leave-one-out error."""

    params: PowerLawParams
    relative_error: float
    floor_ms: float
    label: str
    max_calibrated_macs: int

    def caveats(self, report: CostLike) -> tuple[str, ...]:
        found = sorted({_OFF_NPU_OPS[op.op] for op in report.ops if op.op in _OFF_NPU_OPS})
        notes = []
        if found:
            notes.append(
                f"has {' and '.join(found)}: absent from every all-NPU graph on this chip; "
                "expect a split onto GPU/CPU and a slower run than this range"
            )
        if report.macs > self.max_calibrated_macs:
            notes.append(
                f"{report.macs / 1e9:.1f} GMACs is beyond the largest NPU calibration net "
                f"({self.max_calibrated_macs / 1e9:.1f} GMACs): the power law is extrapolated"
            )
        return tuple(notes)

    def predict(self, report: CostLike) -> LatencyEstimate:
        basis = (
            f"{self.label}: power law in MACs, range = worst leave-one-out error "
            f"{self.relative_error:.0%}, floor {self.floor_ms:g} ms; rough, confirm with an "
            "AI Hub profile job"
        )
        return LatencyEstimate.banded(
            self.params.ms(report.macs),
            relative_error=self.relative_error,
            basis=basis,
            floor_ms=self.floor_ms,
            caveats=self.caveats(report),
        )
