"""Our cached AI Hub measurements join the calibration of the column they were taken on."""

from __future__ import annotations

import pytest

from engine.models.mfa import DEFAULT_CONFIG
from engine.phones.calibration import calibrate
from engine.phones.device import load_device_profile, profile_path
from engine.phones.mfa_ops import mfa_ops
from engine.phones.refine import cached_entries


def _entry(ms: float, **changes) -> dict:
    entry = {
        "source": "Qualcomm AI Hub profile job",
        "device": "Samsung Galaxy S24 (Family)",
        "compute_unit": "npu",
        "runtime": "tflite",
        "profile_job": "jp1",
        "inference_ms": ms,
        "measured_at": "2026-12-01T15:00:00+00:00",
        "model": {
            "architecture": "mfa",
            "config": DEFAULT_CONFIG.encode(),
            "input_shape": [1, 3, 128, 128],
            "precision": "int8",
        },
    }
    entry.update(changes)
    return entry


def test_a_measurement_refines_only_its_own_column():
    device = load_device_profile(profile_path("galaxy-s24"))
    before = calibrate(device)
    ops = mfa_ops(DEFAULT_CONFIG, 128, 128)
    predicted = before.model("npu", "w8a8", "tflite").predict(ops).ms
    measured = 2.0 * predicted  # far off, so the refit must move towards it
    others = [
        _entry(1.0, device="Samsung Galaxy S22 5G"),
        _entry(1.0, runtime="qnn_dlc", profile_job="jp2"),
        _entry(1.0, model={"config": "not-a-config", "input_shape": [1, 3, 128, 128]}),
    ]
    after = calibrate(device, measured=[_entry(measured), *others])
    fit = after.fit("npu", "w8a8", "tflite")
    ours = [p for p in fit.loo.points if p.key.startswith("aihub:")]
    assert [p.key for p in ours] == [f"aihub:{DEFAULT_CONFIG.encode()}@128x128:jp1"]
    refined = fit.model.predict(ops).ms
    assert abs(refined - measured) < abs(predicted - measured)
    qnn = after.fit("npu", "w8a8", "qnn_dlc")
    assert [p.key for p in qnn.loo.points if p.key.startswith("aihub:")] == [
        f"aihub:{DEFAULT_CONFIG.encode()}@128x128:jp2"
    ]
    float_fit = after.fit("npu", "float", "tflite")
    assert not any(p.key.startswith("aihub:") for p in float_fit.loo.points)


def test_cached_entries_reads_the_export_cache():
    pytest.importorskip("engine.phones.aihub_cache")
    from engine.phones.aihub_cache import save_measurement

    save_measurement(_entry(0.5))
    assert [e["profile_job"] for e in cached_entries()] == ["jp1"]
