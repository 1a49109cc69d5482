"""One call for callers (CLI, search): a network in, its predicted phone latencies out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from engine.models.profiling import CostReport, profile_model
from engine.phones.calibration import Calibration, calibration
from engine.phones.model import LatencyEstimate


@dataclass(frozen=True, kw_only=True)
class PhoneLatency:
    """Predicted GPU latency (with band) and NPU range of one network at one input size."""

    input_size: tuple[int, int]
    report: CostReport
    gpu: LatencyEstimate
    npu: LatencyEstimate
    calibration: Calibration

    @property
    def extrapolated(self) -> bool:
        """True when the input size differs from the size the calibration was measured at."""
        return self.input_size != self.calibration.device.input_size

    def as_dict(self) -> dict[str, Any]:
        device = self.calibration.device
        return {
            "device": device.name,
            "aihub_devices": list(device.aihub_devices),
            "input_size": list(self.input_size),
            "extrapolated_size": self.extrapolated,
            "params": self.report.params,
            "macs": self.report.macs,
            "gpu": self.gpu.as_dict(),
            "npu": self.npu.as_dict(),
            "calibration": self.calibration.as_dict(),
        }


def predict_latency(
    module: nn.Module,
    *,
    height: int,
    width: int,
    in_channels: int = 3,
    calibrated: Calibration | None = None,
) -> PhoneLatency:
    """Profile ``module`` (fp32, eval mode) and predict it with ``calibrated`` (default SD865)."""
    calibrated = calibrated or calibration()
    report = profile_model(module, height=height, width=width, in_channels=in_channels)
    return PhoneLatency(
        input_size=(height, width),
        report=report,
        gpu=calibrated.gpu.predict(report),
        npu=calibrated.npu.predict(report),
        calibration=calibrated,
    )
