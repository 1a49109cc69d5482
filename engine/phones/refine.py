"""Our own AI Hub measurements as extra calibration points of a phone profile.

``mfagan export --format aihub`` caches every profile job (``engine.phones.aihub_cache``):
the device, unit, runtime, measured time and what was measured (architecture, MFA config,
input shape, precision). A measurement of an MFA student on a profile's AI Hub device, unit,
runtime and precision joins that column's fit beside the public figures, keyed
``aihub:<config>@<h>x<w>:<job>``; its cost comes from the analytic op list, so nothing is
traced. Measurements of other architectures are skipped (their graph is not rebuilt here).
"""

from __future__ import annotations

from typing import Any

from engine.errors import MfaganError
from engine.models.mfa import MFAConfig
from engine.phones.device import DeviceProfile, MeasuredColumn
from engine.phones.mfa_ops import OpList, mfa_ops

# The export names precisions by tensor type; the profiles by AI Hub's precision names.
_PRECISIONS = {"int8": "w8a8", "w8a8": "w8a8", "float32": "float", "float": "float"}


def _device_names(device: DeviceProfile) -> set[str]:
    return {name.removesuffix(" (Family)") for name in device.aihub_devices}


def _point(entry: dict[str, Any]) -> tuple[str, OpList, float] | None:
    about = entry.get("model") or {}
    try:
        config = MFAConfig.decode(str(about["config"]))
        _, _, height, width = (int(side) for side in about["input_shape"])
        ms = float(entry["inference_ms"])
    except (KeyError, TypeError, ValueError, MfaganError):  # a bad config: UsageError
        return None
    if ms <= 0 or height % config.size_multiple or width % config.size_multiple:
        return None
    key = f"aihub:{config.encode()}@{height}x{width}:{entry.get('profile_job', '?')}"
    return key, mfa_ops(config, height, width), ms


def aihub_points(
    device: DeviceProfile, column: MeasuredColumn, entries: list[dict[str, Any]]
) -> dict[str, tuple[OpList, float]]:
    """The cached measurements that belong to ``column`` of ``device``."""
    names = _device_names(device)
    points: dict[str, tuple[OpList, float]] = {}
    for entry in entries:
        about = entry.get("model") or {}
        if (
            str(entry.get("device", "")).removesuffix(" (Family)") not in names
            or entry.get("compute_unit") != column.unit
            or entry.get("runtime") != column.runtime
            or _PRECISIONS.get(str(about.get("precision"))) != column.precision
        ):
            continue
        if (point := _point(entry)) is not None:
            key, ops, ms = point
            points[key] = (ops, ms)
    return points


def cached_entries() -> list[dict[str, Any]]:
    """Every cached AI Hub profile job (none when the cache or its module is absent)."""
    try:
        from engine.phones.aihub_cache import cached_measurements
    except ImportError:
        return []
    return cached_measurements()
