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


def cached_measurements(device: str | None = None) -> list[dict[str, Any]]:
    """Every cached AI Hub profile (of ``device`` only, when given), oldest first.

    Each entry is ``AihubResult.as_dict()``: device, compute unit, runtime, ``inference_ms``,
    peak memory range, layers per unit and each layer's unit, job ids, ``measured_at`` and
    ``model`` (what was measured: name, config, input shape, precision, params, MACs).
    Unreadable files are skipped. A device's latency calibration can refine itself with them.
    """
    root = measurements_dir()
    folders = [root / _slug(device)] if device else sorted(p for p in root.glob("*") if p.is_dir())
    entries: list[dict[str, Any]] = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(entry, dict) and "inference_ms" in entry:
                entries.append(entry)
    return sorted(entries, key=lambda e: str(e.get("measured_at", "")))
