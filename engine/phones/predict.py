"""One call for callers (CLI, export, search): a network in, its predicted phone latencies out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from engine.models.profiling import CostReport, profile_model
from engine.phones.calibration import Calibration, ColumnFit, calibration
from engine.phones.model import LatencyEstimate


@dataclass(frozen=True, kw_only=True)
class PhoneLatency:
    """Predicted latencies (with bands) of one network at one input size, per column.

    ``estimates`` is keyed by column key (``npu/w8a8/tflite``); ``selected`` is the key of the
    column asked for (``--unit`` / ``--precision``), or the first unit's default.
    """

    input_size: tuple[int, int]
    report: CostReport
    estimates: dict[str, LatencyEstimate] = field(hash=False)
    selected: str
    calibration: Calibration

    @property
    def extrapolated(self) -> bool:
        """True when the input size differs from the size the calibration was measured at."""
        return self.input_size != self.calibration.device.input_size

    def _unit(self, unit: str) -> LatencyEstimate | None:
        fit = self.calibration.default(unit)
        return None if fit is None else self.estimates[fit.column.key]

    @property
    def gpu(self) -> LatencyEstimate | None:
        """The default GPU column's estimate; None when the profile has no GPU figures."""
        return self._unit("gpu")

    @property
    def npu(self) -> LatencyEstimate | None:
        return self._unit("npu")

    @property
    def chosen(self) -> LatencyEstimate:
        return self.estimates[self.selected]

    def as_dict(self) -> dict[str, Any]:
        device = self.calibration.device
        gpu, npu = self.gpu, self.npu
        return {
            "device": device.name,
            "profile": device.profile_id,
            "aihub_devices": list(device.aihub_devices),
            "input_size": list(self.input_size),
            "extrapolated_size": self.extrapolated,
            "params": self.report.params,
            "macs": self.report.macs,
            "gpu": None if gpu is None else gpu.as_dict(),
            "npu": None if npu is None else npu.as_dict(),
            "selected": self.selected,
            "columns": {key: estimate.as_dict() for key, estimate in self.estimates.items()},
            "calibration": self.calibration.as_dict(),
        }


def predict_latency(
    module: nn.Module,
    *,
    height: int,
    width: int,
    in_channels: int = 3,
    calibrated: Calibration | None = None,
    unit: str | None = None,
    precision: str | None = None,
    runtime: str | None = None,
) -> PhoneLatency:
    """Profile ``module`` (fp32, eval mode) and predict it on every column of ``calibrated``
    (default: the Snapdragon 865). ``unit`` / ``precision`` / ``runtime`` pick the column
    reported as ``selected`` (UsageError for one the profile lacks)."""
    calibrated = calibrated or calibration()
    device = calibrated.device
    chosen: ColumnFit = calibrated.fit(unit or device.units[0], precision, runtime)
    report = profile_model(module, height=height, width=width, in_channels=in_channels)
    return PhoneLatency(
        input_size=(height, width),
        report=report,
        estimates={fit.column.key: fit.model.predict(report) for fit in calibrated.fits},
        selected=chosen.column.key,
        calibration=calibrated,
    )
