"""Every AI Hub profile, cached per device under the user data folder.

One JSON file per profile job (``AihubResult.as_dict()``, no token in it) in
``data_dir()/aihub/<device>/``: what a device's latency calibration refines itself with.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from engine.files import atomic_write_bytes
from engine.paths import data_dir


def measurements_dir() -> Path:
    return data_dir() / "aihub"


def _slug(device: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", device).strip("-").lower() or "device"


def save_measurement(entry: dict[str, Any]) -> Path:
    """Cache one ``AihubResult.as_dict()`` under its device and profile job id."""
    folder = measurements_dir() / _slug(str(entry["device"]))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry['profile_job']}.json"
    atomic_write_bytes(path, (json.dumps(entry, indent=2) + "\n").encode("utf-8"))
    return path


# What every reader of an entry relies on (the listing, calibration, model cards), by type.
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "device": str,
    "compute_unit": str,
    "runtime": str,
    "measured_at": str,
    "inference_ms": (int, float),
}
_OPTIONAL: dict[str, type] = {"layers_by_unit": dict, "model": dict}  # when present, not null


def cached_measurements(device: str | None = None) -> list[dict[str, Any]]:
    """Every cached AI Hub profile (of ``device`` only, when given), oldest first.

    Each entry is ``AihubResult.as_dict()``: device, compute unit, runtime, ``inference_ms``,
    peak memory range, layers per unit and each layer's unit, job ids, ``measured_at`` and
    ``model`` (what was measured: name, config, input shape, precision, params, MACs).
    Unreadable or malformed files (a field missing or of the wrong type) are skipped
    (``skipped_measurements`` names them). A device's latency calibration can refine
    itself with them.
    """
    entries = [entry for entry in _scan(device).values() if entry is not None]
    return sorted(entries, key=lambda e: e["measured_at"])


def skipped_measurements(device: str | None = None) -> list[Path]:
    """The cache files ``cached_measurements`` leaves out: unreadable or malformed."""
    return [path for path, entry in _scan(device).items() if entry is None]


def _scan(device: str | None) -> dict[Path, dict[str, Any] | None]:
    root = measurements_dir()
    folders = [root / _slug(device)] if device else sorted(p for p in root.glob("*") if p.is_dir())
    return {path: _load(path) for folder in folders for path in sorted(folder.glob("*.json"))}


def _load(path: Path) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict):
        return None
    for key, kind in _FIELDS.items():
        value = entry.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            return None
    for key, kind in _OPTIONAL.items():
        if entry.get(key) is not None and not isinstance(entry[key], kind):
            return None
    return entry
