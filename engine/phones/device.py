"""A phone's device profile: who it is on AI Hub and the public latencies measured on it.

Profiles are JSON files in ``resources/phones/`` (see docs/PHONES.md). Each holds columns of
measurements, one per compute unit, precision and runtime (e.g. NPU, w8a8, TFLite), keyed by
the AI Hub model ids of the reference nets (``engine.phones.reference_nets``). They are public
facts copied from Qualcomm's tables, not our results: the profiles of today's phones are
written by ``engine/phones/build_profiles.py`` from the ``qai-hub-models`` wheel; the
Snapdragon 865's comes from older releases of the same tables. The calibration reads them at
run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UsageError
from engine.paths import RESOURCES

PHONES = RESOURCES / "phones"
DEFAULT_PROFILE = "snapdragon-865"
DEFAULT_DEVICE = PHONES / f"{DEFAULT_PROFILE}.json"
# How a column's latencies are modelled: see engine/phones/model.py and npu.py.
MODEL_KINDS = ("roofline-gpu", "roofline-npu", "power-law")


@dataclass(frozen=True, kw_only=True)
class MeasuredColumn:
    """One column of public latencies: one compute unit, precision, runtime and release."""

    title: str
    release: str
    unit: str = "gpu"
    precision: str = "w8a8"
    runtime: str = "tflite"
    model: str = "roofline-gpu"
    measurements_ms: tuple[tuple[str, float], ...]
    # Nets measured but not on this unit (an NPU job that fell back to the GPU): kept for
    # the record, left out of the fit.
    excluded: tuple[str, ...] = ()
    activation_bytes_per_element: int = 2
    floor_ms: float = 0.0

    @property
    def key(self) -> str:
        """``unit/precision/runtime``, e.g. ``npu/w8a8/tflite``."""
        return f"{self.unit}/{self.precision}/{self.runtime}"

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
    columns: tuple[MeasuredColumn, ...]
    profile_id: str = ""
    aihub_chipset: str = ""
    soc_models: tuple[str, ...] = ()
    htp_version: int | None = None
    package: str = ""

    @property
    def units(self) -> tuple[str, ...]:
        """Compute units with measurements, in the profile's order (first: the default)."""
        return tuple(dict.fromkeys(column.unit for column in self.columns))

    def precisions(self, unit: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.precision for c in self.columns if c.unit == unit))

    def runtimes(self, unit: str, precision: str) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                c.runtime for c in self.columns if c.unit == unit and c.precision == precision
            )
        )

    def column(
        self, unit: str, precision: str | None = None, runtime: str | None = None
    ) -> MeasuredColumn:
        """The column of ``unit``; None picks the first precision / runtime listed."""
        if unit not in self.units:
            raise UsageError(f"{self.name} has no unit {unit!r}; known: {', '.join(self.units)}")
        precision = precision or self.precisions(unit)[0]
        if precision not in self.precisions(unit):
            raise UsageError(
                f"{self.name} {unit} has no precision {precision!r}; "
                f"known: {', '.join(self.precisions(unit))}"
            )
        runtime = runtime or self.runtimes(unit, precision)[0]
        for column in self.columns:
            if (column.unit, column.precision, column.runtime) == (unit, precision, runtime):
                return column
        raise UsageError(
            f"{self.name} {unit} {precision} has no runtime {runtime!r}; "
            f"known: {', '.join(self.runtimes(unit, precision))}"
        )

    @property
    def gpu(self) -> MeasuredColumn:
        """The default GPU column (UsageError when the profile has none)."""
        return self.column("gpu")

    @property
    def npu(self) -> MeasuredColumn:
        """The default NPU column (UsageError when the profile has none)."""
        return self.column("npu")


def _column(data: dict[str, Any]) -> MeasuredColumn:
    model = str(data.get("model", "roofline-gpu"))
    if model not in MODEL_KINDS:
        raise ValueError(f"unknown model {model!r}")
    return MeasuredColumn(
        title=str(data["title"]),
        release=str(data["release"]),
        unit=str(data["unit"]),
        precision=str(data.get("precision", "w8a8")),
        runtime=str(data.get("runtime", "tflite")),
        model=model,
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
        columns = tuple(_column(column) for column in data["columns"])
        if not columns:
            raise ValueError("no columns")
        htp = data.get("htp_version")
        return DeviceProfile(
            name=str(data["name"]),
            chipset=str(data["chipset"]),
            aihub_devices=tuple(str(d) for d in data["aihub_devices"]),
            input_size=(int(height), int(width)),
            scale=int(data["scale"]),
            source=str(data["source"]),
            columns=columns,
            profile_id=path.stem,
            aihub_chipset=str(data.get("aihub_chipset", "")),
            soc_models=tuple(str(s).lower() for s in data.get("soc_models", ())),
            htp_version=None if htp is None else int(htp),
            package=str(data.get("package", "")),
        )
    except OSError as error:
        raise UsageError(f"{path}: cannot read device profile ({error.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"{path}: not a device profile ({error!r})") from None


def profile_path(profile: str) -> Path:
    """The file of profile id ``profile``; UsageError naming the known ids otherwise."""
    path = PHONES / f"{profile}.json"
    if not path.is_file():
        raise UsageError(f"no phone profile {profile!r}; known: {', '.join(profile_ids())}")
    return path


def profile_ids() -> tuple[str, ...]:
    """Every profile id, the default first."""
    ids = sorted(p.stem for p in PHONES.glob("*.json") if p.stem != "chipsets")
    return tuple(sorted(ids, key=lambda i: i != DEFAULT_PROFILE))
