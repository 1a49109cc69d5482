"""Write the phone profiles of today's phones from the public ``qai-hub-models`` wheel.

    pip download --no-deps qai-hub-models==0.65.0 -d build/qhm
    python -m engine.phones.build_profiles build/qhm/qai_hub_models-0.65.0-py3-none-any.whl

The wheel ships Qualcomm AI Hub's measured latencies (``qai_hub_models/models/<net>/perf.yaml``)
and its device and chipset table (``qai_hub_models/devices_and_chipsets.yaml``). This script
copies, for each phone in :data:`PHONES`, every reference net's published latency per compute
unit, precision and runtime into ``resources/phones/<id>.json``, with the package version and
the AI Hub device name; no figure is typed by hand. It then calibrates each profile and
records the leave-one-out errors it reached, which ``tests/engine/phones`` re-checks. It also
writes ``resources/phones/soc/chipsets.json`` (the mobile chipsets, their part numbers and
Hexagon versions) so ``mfagan devices --adb`` can place a phone that has no profile.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.errors import UsageError
from engine.files import atomic_write_bytes
from engine.phones.device import PHONES as PROFILE_DIR
from engine.phones.reference_nets import REFERENCE_NETS

# AI Hub device name -> profile id: the phones the issue asks for.
PHONES = {
    "Samsung Galaxy S22 5G": "galaxy-s22",
    "Samsung Galaxy S24": "galaxy-s24",
    "Samsung Galaxy S25": "galaxy-s25",
    "Snapdragon 7 Gen 4 QRD": "snapdragon-7-gen-4",
}
CHIPSETS = PROFILE_DIR / "soc" / "chipsets.json"
_PRECISION_ORDER = ("w8a8", "float")
_RUNTIME_ORDER = ("tflite", "qnn_dlc", "onnx")
_UNIT_ORDER = ("npu", "gpu", "cpu")
_RUNTIME_TITLES = {"tflite": "TFLite", "qnn_dlc": "QNN DLC", "onnx": "ONNX Runtime"}
_MIN_FIT_POINTS = 5  # a 4-parameter roofline, and one left out


class _Wheel:
    """Reads YAML out of the wheel without unpacking it."""

    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as error:
            raise UsageError(f"{path}: not a readable wheel ({error})") from None
        self.names = set(self.zip.namelist())
        self.version = self._version(path)

    def _version(self, path: Path) -> str:
        for name in self.names:
            if name.endswith(".dist-info/METADATA"):
                text = self.zip.read(name).decode("utf-8")
                if match := re.search(r"^Version: (\S+)$", text, re.MULTILINE):
                    return match.group(1)
        raise UsageError(f"{path}: no package version in the wheel's METADATA")

    def yaml(self, name: str) -> Any:
        import yaml

        return yaml.safe_load(self.zip.read(name))


def _sorted(items: Iterable[str], order: tuple[str, ...]) -> list[str]:
    return sorted(
        items, key=lambda item: (order.index(item) if item in order else len(order), item)
    )


def _measurements(wheel: _Wheel, device: str) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(precision, runtime) -> net key -> that run's published entry, for one device."""
    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for net in REFERENCE_NETS:
        name = f"qai_hub_models/models/{net.key}/perf.yaml"
        if name not in wheel.names:
            continue
        for precision, by_precision in wheel.yaml(name)["precisions"].items():
            for component in by_precision["components"].values():
                runs = component["performance_metrics"].get(device, {})
                for runtime, run in runs.items():
                    if run.get("inference_time_milliseconds") is not None:
                        found.setdefault((precision, runtime), {})[net.key] = run
    return found


def _column(
    precision: str, runtime: str, runs: dict[str, dict[str, Any]], version: str
) -> dict[str, Any]:
    units = [str(run["primary_compute_unit"]).lower() for run in runs.values()]
    unit = max(set(units), key=units.count)
    excluded = {
        key: f"ran on the {run['primary_compute_unit']} (layers {run.get('layer_counts')})"
        for key, run in runs.items()
        if str(run["primary_compute_unit"]).lower() != unit
    }
    ordered = [net.key for net in REFERENCE_NETS if net.key in runs]
    return {
        "unit": unit,
        "precision": precision,
        "runtime": runtime,
        "model": "roofline-npu" if unit == "npu" else "roofline-gpu",
        "title": f"{unit.upper()}, {_RUNTIME_TITLES.get(runtime, runtime)} {precision} "
        f"(qai-hub-models {version})",
        "release": version,
        "activation_bytes_per_element": 1 if precision == "w8a8" else 2,
        "measurements_ms": {key: runs[key]["inference_time_milliseconds"] for key in ordered},
        "layer_counts": {key: runs[key].get("layer_counts", {}) for key in ordered},
        "excluded_from_fit": excluded,
    }


def _chipset(table: dict[str, Any], chipset: str) -> dict[str, Any]:
    entry = table["chipsets"][chipset]
    return {
        "id": chipset,
        "name": re.sub(r"[®™]", "", entry["marketing_name"]).strip(),
        "part_numbers": [a for a in entry.get("aliases", []) if not a.startswith("qualcomm-")],
        "htp_version": entry.get("htp_version"),
        "world": entry.get("world", ""),
    }


def build_profile(wheel: _Wheel, table: dict[str, Any], device: str) -> dict[str, Any]:
    """One profile as JSON-ready data (uncalibrated)."""
    if device not in table["devices"]:
        raise UsageError(f"AI Hub device {device!r} is not in the wheel's device table")
    chip = _chipset(table, table["devices"][device]["chipset"])
    found = _measurements(wheel, device)
    columns = [
        _column(precision, runtime, found[(precision, runtime)], wheel.version)
        for precision in _sorted({p for p, _ in found}, _PRECISION_ORDER)
        for runtime in _sorted({r for p, r in found if p == precision}, _RUNTIME_ORDER)
    ]
    columns = [
        c
        for c in columns
        if len(c["measurements_ms"]) - len(c["excluded_from_fit"]) >= _MIN_FIT_POINTS
    ]
    columns.sort(key=lambda c: _UNIT_ORDER.index(c["unit"]) if c["unit"] in _UNIT_ORDER else 9)
    if not columns:
        raise UsageError(f"{device}: fewer than {_MIN_FIT_POINTS} reference nets measured")
    siblings = sorted(
        name for name, entry in table["devices"].items()
        if entry["chipset"] == chip["id"] and name != device
    )  # fmt: skip
    return {
        "name": device,
        "chipset": chip["name"],
        "aihub_chipset": chip["id"],
        "soc_models": chip["part_numbers"],
        "htp_version": chip["htp_version"],
        "aihub_devices": [device],
        "aihub_devices_same_chipset": siblings,
        "input_size": [128, 128],
        "scale": 4,
        "package": f"qai-hub-models=={wheel.version}",
        "source": f"Qualcomm AI Hub Models, PyPI package qai-hub-models {wheel.version}: "
        f"qai_hub_models/models/<net>/perf.yaml, device {device!r} (128x128 input, x4). "
        "Public measurements, not our results; written by engine/phones/build_profiles.py.",
        "columns": columns,
    }


def _record_calibration(data: dict[str, Any], path: Path) -> list[str]:
    """Calibrate the written profile and store each column's LOO errors in it."""
    from engine.phones.calibration import calibrate
    from engine.phones.device import load_device_profile

    calibrated = calibrate(load_device_profile(path))
    lines = []
    for column, fit in zip(data["columns"], calibrated.fits, strict=True):
        column["loo_mean_relative_error"] = round(fit.loo.mean, 4)
        column["loo_max_relative_error"] = round(fit.loo.worst, 4)
        lines.append(
            f"  {fit.column.key:<18} LOO mean {fit.loo.mean:6.1%}  max {fit.loo.worst:6.1%}"
        )
    return lines


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def build(
    wheel_path: Path, out_dir: Path = PROFILE_DIR, devices: dict[str, str] = PHONES
) -> list[Path]:
    """Write one profile per device and the chipset table; returns the files written."""
    wheel = _Wheel(wheel_path)
    table = wheel.yaml("qai_hub_models/devices_and_chipsets.yaml")
    written = []
    for device, profile_id in devices.items():
        data = build_profile(wheel, table, device)
        path = out_dir / f"{profile_id}.json"
        _write_json(path, data)
        lines = _record_calibration(data, path)
        _write_json(path, data)
        print(f"{path.name}: {device} ({data['chipset']})", *lines, sep="\n")
        written.append(path)
    chipsets = [
        _chipset(table, chip) for chip in table["chipsets"]
        if table["chipsets"][chip].get("world") == "Mobile"
    ]  # fmt: skip
    for path in sorted(out_dir.glob("*.json")):
        if path not in written:  # profiles not from this wheel (the 865): refresh their LOO
            data = json.loads(path.read_text(encoding="utf-8"))
            print(f"{path.name}: {data['name']}", *_record_calibration(data, path), sep="\n")
            _write_json(path, data)
    chips_path = out_dir / "soc" / "chipsets.json"
    _write_json(chips_path, {"package": f"qai-hub-models=={wheel.version}", "chipsets": chipsets})
    written.append(chips_path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="the downloaded qai-hub-models wheel")
    parser.add_argument("--out", type=Path, default=PROFILE_DIR, help="profile folder")
    args = parser.parse_args(argv)
    try:
        build(args.wheel, args.out)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
