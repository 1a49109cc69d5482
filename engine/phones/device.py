"""A phone's device profile: who it is on AI Hub and the public latencies measured on it.

Profiles are JSON files in ``resources/phones/``. Each holds columns of measurements (one per
compute unit and runtime release, e.g. ``gpu`` and ``npu``), keyed by the AI Hub model ids of
the reference nets (``engine.phones.reference_nets``). They are public facts copied from
Qualcomm's tables, not our results; the calibration reads them at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UsageError
from engine.paths import RESOURCES

PHONES = RESOURCES / "phones"
DEFAULT_DEVICE = PHONES / "snapdragon-865.json"


@dataclass(frozen=True, kw_only=True)
class MeasuredColumn:
    """One column of public latencies: one compute unit, runtime and release."""

    title: str
    release: str
    precision: str = "w8a8"
    measurements_ms: tuple[tuple[str, float], ...]
    # Nets measured but not on this unit (an NPU job that fell back to the GPU): kept for
    # the record, left out of the fit.
    excluded: tuple[str, ...] = ()
    activation_bytes_per_element: int = 2
    floor_ms: float = 0.0

    def fit_points(self) -> dict[str, float]:
        """The measurements a calibration may use, by model key."""
        return {key: ms for key, ms in self.measurements_ms if key not in self.excluded}


@dataclass(frozen=True, kw_only=True)
class DeviceProfile:
    name: str
    chipset: str
    aihub_devices: tuple[str, ...]
    input_size: tuple[int, int]
    scale: int
    source: str
    gpu: MeasuredColumn
    npu: MeasuredColumn


def _column(data: dict[str, Any]) -> MeasuredColumn:
    return MeasuredColumn(
        title=str(data["title"]),
        release=str(data["release"]),
        precision=str(data.get("precision", "w8a8")),
        measurements_ms=tuple((str(k), float(v)) for k, v in data["measurements_ms"].items()),
        excluded=tuple(data.get("excluded_from_fit", {})),
        activation_bytes_per_element=int(data.get("activation_bytes_per_element", 2)),
        floor_ms=float(data.get("floor_ms", 0.0)),
    )


def load_device_profile(path: Path = DEFAULT_DEVICE) -> DeviceProfile:
    """Read a device profile; UsageError (one line) when the file is missing or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        height, width = data["input_size"]
        return DeviceProfile(
            name=str(data["name"]),
            chipset=str(data["chipset"]),
            aihub_devices=tuple(str(d) for d in data["aihub_devices"]),
            input_size=(int(height), int(width)),
            scale=int(data["scale"]),
            source=str(data["source"]),
            gpu=_column(data["columns"]["gpu"]),
            npu=_column(data["columns"]["npu"]),
        )
    except OSError as error:
        raise UsageError(f"{path}: cannot read device profile ({error.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"{path}: not a device profile ({error!r})") from None
