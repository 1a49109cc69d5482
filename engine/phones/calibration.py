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
from engine.phones.device import (
    DEFAULT_DEVICE,
    DeviceProfile,
    MeasuredColumn,
    load_device_profile,
    profile_path,
)
from engine.phones.model import CostLike, RooflineModel, WorkOps
from engine.phones.npu import PowerLawRange, fit_power_law
from engine.phones.reference_nets import REFERENCE_NETS
from engine.phones.refine import aihub_points, cached_entries
from engine.phones.roofline_fit import fit_roofline

X = TypeVar("X")
LatencyModelKind = RooflineModel | PowerLawRange
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
    by_builder: dict[Callable[[], Any], CostReport] = {}  # x4plus and ESRGAN: one graph
    for net in REFERENCE_NETS:
        if net.build not in by_builder:
            with torch.device("meta"):
                module = net.build().eval()
            by_builder[net.build] = profile_model(module, height=height, width=width, device="meta")
    return {net.key: by_builder[net.build] for net in REFERENCE_NETS}


@dataclass(frozen=True, kw_only=True)
class ColumnFit:
    """One column's calibrated model and its leave-one-out errors."""

    column: MeasuredColumn
    model: LatencyModelKind
    loo: LooResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.column.title,
            "model": self.column.model,
            "params": self.model.params.as_dict(),
            "loo": self.loo.as_dict(),
        }


@dataclass(frozen=True, kw_only=True)
class Calibration:
    device: DeviceProfile
    fits: tuple[ColumnFit, ...]
    seconds: float

    def fit(self, unit: str, precision: str | None = None, runtime: str | None = None) -> ColumnFit:
        """The fit of ``unit`` (None: the unit's first precision / runtime)."""
        column = self.device.column(unit, precision, runtime)
        return next(fit for fit in self.fits if fit.column is column)

    def model(
        self, unit: str, precision: str | None = None, runtime: str | None = None
    ) -> LatencyModelKind:
        """The calibrated model of ``unit`` at ``precision`` (None: the unit's default)."""
        return self.fit(unit, precision, runtime).model

    def default(self, unit: str) -> ColumnFit | None:
        """The unit's default fit, None when the profile has no such unit."""
        return self.fit(unit) if unit in self.device.units else None

    # The Snapdragon 865's two columns under their old names (UsageError when absent).
    @property
    def gpu(self) -> LatencyModelKind:
        return self.fit("gpu").model

    @property
    def npu(self) -> LatencyModelKind:
        return self.fit("npu").model

    @property
    def gpu_loo(self) -> LooResult:
        return self.fit("gpu").loo

    @property
    def npu_loo(self) -> LooResult:
        return self.fit("npu").loo

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"device": self.device.name}
        for unit in ("gpu", "npu"):
            if (fit := self.default(unit)) is not None:
                data[unit] = {"params": fit.model.params.as_dict(), "loo": fit.loo.as_dict()}
        data["columns"] = {fit.column.key: fit.as_dict() for fit in self.fits}
        data["seconds"] = round(self.seconds, 3)
        return data


Points = dict[str, tuple[CostLike, float]]


def _points(
    device: DeviceProfile,
    column: MeasuredColumn,
    reports: Mapping[str, CostReport],
    measured: list[dict[str, Any]],
) -> Points:
    """The column's public figures by net, then our cached AI Hub measurements that fit it."""
    points: Points = {key: (reports[key], ms) for key, ms in column.fit_points().items()}
    return points | aihub_points(device, column, measured)


def _fit_roofline_column(
    device: DeviceProfile, column: MeasuredColumn, points: Points
) -> ColumnFit:
    width = column.activation_bytes_per_element
    npu = column.model == "roofline-npu"
    samples = {
        key: (WorkOps.from_report(cost, bytes_per_element=width, npu=npu), ms)
        for key, (cost, ms) in points.items()
    }
    fit = functools.partial(fit_roofline, split_overheads=npu)
    loo = leave_one_out(samples, fit, lambda params, work: params.ms(work))
    model = RooflineModel(
        params=fit(list(samples.values())),
        bytes_per_element=width,
        relative_error=loo.worst,
        label=f"{device.name} {column.title}",
        npu=npu,
    )
    return ColumnFit(column=column, model=model, loo=loo)


def _fit_power_law_column(
    device: DeviceProfile, column: MeasuredColumn, points: Points
) -> ColumnFit:
    samples = {key: (cost.macs, ms) for key, (cost, ms) in points.items()}
    loo = leave_one_out(samples, fit_power_law, lambda params, macs: params.ms(macs))
    model = PowerLawRange(
        params=fit_power_law(list(samples.values())),
        relative_error=loo.worst,
        floor_ms=column.floor_ms,
        label=f"{device.name} {column.title}",
        max_calibrated_macs=max(macs for macs, _ in samples.values()),
    )
    return ColumnFit(column=column, model=model, loo=loo)


def calibrate(
    device: DeviceProfile, *, measured: list[dict[str, Any]] | None = None
) -> Calibration:
    """Fit every column's model to its public figures (at the profile's input size) and to
    ``measured``: cached AI Hub profile jobs (``engine.phones.refine``) of this device."""
    start = time.perf_counter()
    reports = reference_reports(*device.input_size)
    published = {key for column in device.columns for key, _ in column.measurements_ms}
    if unknown := sorted(published - set(reports)):
        raise UsageError(f"{device.name}: measurements of unknown nets {', '.join(unknown)}")
    fits = []
    for column in device.columns:
        points = _points(device, column, reports, measured or [])
        fit_column = _fit_power_law_column if column.model == "power-law" else _fit_roofline_column
        fits.append(fit_column(device, column, points))
    return Calibration(device=device, fits=tuple(fits), seconds=time.perf_counter() - start)


@functools.cache
def calibration(path: Path = DEFAULT_DEVICE) -> Calibration:
    """The calibration of the device profile at ``path`` refined by our cached AI Hub
    measurements of it, computed once per process."""
    return calibrate(load_device_profile(path), measured=cached_entries())


@functools.cache
def calibration_for(profile: str) -> Calibration:
    """The calibration of the profile with id ``profile`` (its file name without .json)."""
    return calibration(profile_path(profile))
