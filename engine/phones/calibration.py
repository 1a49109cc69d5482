"""Calibrating the latency models on a device profile's public measurements, with LOO errors.

The reference nets are profiled on meta tensors (shapes only, no arithmetic), so the whole
calibration, 23-block x4plus included, takes about a second and is simply redone at run time
from the JSON, then kept for the life of the process.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from engine.errors import UsageError
from engine.models.profiling import CostReport, profile_model
from engine.phones.device import DEFAULT_DEVICE, PHONES, DeviceProfile, load_device_profile
from engine.phones.model import RooflineModel, WorkOps, fit_roofline
from engine.phones.npu import PowerLawRange, fit_power_law
from engine.phones.reference_nets import REFERENCE_NETS

X = TypeVar("X")
GpuOrNpuModel = RooflineModel | PowerLawRange
P = TypeVar("P")


@dataclass(frozen=True, kw_only=True)
class LooPoint:
    key: str
    predicted_ms: float
    measured_ms: float

    @property
    def relative_error(self) -> float:
        return abs(self.predicted_ms - self.measured_ms) / self.measured_ms


@dataclass(frozen=True, kw_only=True)
class LooResult:
    """Each measurement predicted by a fit to all the others."""

    points: tuple[LooPoint, ...]

    @property
    def mean(self) -> float:
        return sum(p.relative_error for p in self.points) / len(self.points)

    @property
    def worst(self) -> float:
        return max(p.relative_error for p in self.points)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mean_relative_error": round(self.mean, 4),
            "max_relative_error": round(self.worst, 4),
            "points": {
                p.key: {"predicted_ms": round(p.predicted_ms, 3), "measured_ms": p.measured_ms}
                for p in self.points
            },
        }


def leave_one_out(
    samples: Mapping[str, tuple[X, float]],
    fit: Callable[[list[tuple[X, float]]], P],
    predict: Callable[[P, X], float],
) -> LooResult:
    points = []
    for key, (features, measured) in samples.items():
        params = fit([sample for other, sample in samples.items() if other != key])
        points.append(
            LooPoint(key=key, predicted_ms=predict(params, features), measured_ms=measured)
        )
    return LooResult(points=tuple(points))


@functools.cache
def reference_reports(height: int, width: int) -> dict[str, CostReport]:
    """Cost reports of every reference net; built on meta, so no weights are allocated."""
    reports = {}
    for net in REFERENCE_NETS:
        with torch.device("meta"):
            module = net.build().eval()
        reports[net.key] = profile_model(module, height=height, width=width, device="meta")
    return reports


@dataclass(frozen=True, kw_only=True)
class Calibration:
    device: DeviceProfile
    gpu: RooflineModel
    npu: PowerLawRange
    gpu_loo: LooResult
    npu_loo: LooResult
    seconds: float

    def model(self, unit: str, precision: str | None = None) -> GpuOrNpuModel:
        """The calibrated model of ``unit`` at ``precision`` (None: the unit's default)."""
        columns = {"gpu": (self.device.gpu, self.gpu), "npu": (self.device.npu, self.npu)}
        if unit not in columns:
            raise UsageError(f"{self.device.name} has no unit {unit!r}; known: gpu, npu")
        column, model = columns[unit]
        if precision not in (None, column.precision):
            raise UsageError(
                f"{self.device.name} {unit} has no precision {precision!r}; "
                f"known: {column.precision}"
            )
        return model

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device.name,
            "gpu": {"params": self.gpu.params.as_dict(), "loo": self.gpu_loo.as_dict()},
            "npu": {"params": self.npu.params.as_dict(), "loo": self.npu_loo.as_dict()},
            "seconds": round(self.seconds, 3),
        }


def _fit_gpu(
    device: DeviceProfile, reports: Mapping[str, CostReport]
) -> tuple[RooflineModel, LooResult]:
    column = device.gpu
    width = column.activation_bytes_per_element
    samples = {
        key: (WorkOps.from_report(reports[key], bytes_per_element=width), ms)
        for key, ms in column.fit_points().items()
    }
    loo = leave_one_out(samples, fit_roofline, lambda params, work: params.ms(work))
    return RooflineModel(
        params=fit_roofline(list(samples.values())),
        bytes_per_element=width,
        relative_error=loo.worst,
        label=f"{device.name} {column.title}",
    ), loo


def _fit_npu(
    device: DeviceProfile, reports: Mapping[str, CostReport]
) -> tuple[PowerLawRange, LooResult]:
    column = device.npu
    samples = {key: (reports[key].macs, ms) for key, ms in column.fit_points().items()}
    loo = leave_one_out(samples, fit_power_law, lambda params, macs: params.ms(macs))
    return PowerLawRange(
        params=fit_power_law(list(samples.values())),
        relative_error=loo.worst,
        floor_ms=column.floor_ms,
        label=f"{device.name} {column.title}",
        max_calibrated_macs=max(macs for macs, _ in samples.values()),
    ), loo


def calibrate(device: DeviceProfile) -> Calibration:
    """Fit both models to the device's measurements (at its measured input size)."""
    start = time.perf_counter()
    reports = reference_reports(*device.input_size)
    measured = {key for key, _ in device.gpu.measurements_ms + device.npu.measurements_ms}
    if unknown := sorted(measured - set(reports)):
        raise UsageError(f"{device.name}: measurements of unknown nets {', '.join(unknown)}")
    gpu, gpu_loo = _fit_gpu(device, reports)
    npu, npu_loo = _fit_npu(device, reports)
    return Calibration(
        device=device,
        gpu=gpu,
        npu=npu,
        gpu_loo=gpu_loo,
        npu_loo=npu_loo,
        seconds=time.perf_counter() - start,
    )


@functools.cache
def calibration(path: Path = DEFAULT_DEVICE) -> Calibration:
    """The calibration of the device profile at ``path``, computed once per process."""
    return calibrate(load_device_profile(path))


@functools.cache
def calibration_for(profile: str) -> Calibration:
    """The calibration of the profile with id ``profile`` (its file name without .json)."""
    path = PHONES / f"{profile}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PHONES.glob("*.json")))
        raise UsageError(f"no phone profile {profile!r}; known: {known}")
    return calibration(path)
