from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from engine.errors import UsageError
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.profiling import profile_model
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig
from engine.phones.calibration import calibrate, calibration, reference_reports
from engine.phones.device import load_device_profile
from engine.phones.model import (
    LatencyEstimate,
    RooflineParams,
    WorkOps,
    does_work,
)
from engine.phones.predict import predict_latency
from engine.phones.roofline_fit import fit_roofline


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.conv(x)) * 0.2


def test_only_kernels_of_their_own_do_work():
    report = profile_model(_Block(), height=16, width=16, in_channels=8, device="meta")
    kept = [op.op for op in report.ops if does_work(op)]
    # relu and the scalar multiply fuse into the conv; the residual add is its own kernel.
    assert kept == ["aten.convolution.default", "aten.add.Tensor"]


def test_band_brackets_a_prediction_that_far_off():
    estimate = LatencyEstimate.banded(100.0, relative_error=0.25, basis="test")
    assert (estimate.low_ms, estimate.high_ms) == pytest.approx((80.0, 133.333), rel=1e-4)
    floored = LatencyEstimate.banded(2.0, relative_error=0.25, basis="test", floor_ms=10.0)
    assert floored.ms == floored.low_ms == 10.0 and floored.high_ms > 10.0


def test_fit_recovers_known_parameters():
    truth = RooflineParams(
        gmacs_per_s=300.0, gbytes_per_s=15.0, op_overhead_ms=0.03, constant_ms=1.5
    )
    reports = reference_reports(128, 128).values()
    works = [WorkOps.from_report(r, bytes_per_element=2) for r in reports]
    fitted = fit_roofline([(work, truth.ms(work)) for work in works])
    assert fitted.gmacs_per_s == pytest.approx(300.0, rel=0.02)
    assert fitted.gbytes_per_s == pytest.approx(15.0, rel=0.02)
    assert fitted.constant_ms == pytest.approx(1.5, abs=0.1)


def test_gpu_calibration_reproduces_the_public_figures():
    cal = calibration()
    params = cal.gpu.params
    # Physically plausible for an Adreno 650 (AIHUB.md: about 280 GMAC/s, 11 GB/s fp16, 2 ms).
    assert 100 < params.gmacs_per_s < 1000 and 5 < params.gbytes_per_s < 100
    assert 0 < params.constant_ms < 5
    # Measured: 2.8 % mean, 4.6 % worst (x4v3) leave-one-out over the 7 nets.
    assert len(cal.gpu_loo.points) == 7
    assert cal.gpu_loo.mean < 0.04 and cal.gpu_loo.worst < 0.06
    reports = reference_reports(128, 128)
    for key, measured in cal.device.gpu.fit_points().items():
        assert cal.gpu.predict(reports[key]).ms == pytest.approx(measured, rel=0.03), key


def test_npu_is_a_wide_range_from_the_true_npu_runs_only():
    cal = calibration()
    keys = {p.key for p in cal.npu_loo.points}
    assert keys.isdisjoint({"xlsr", "real_esrgan_x4plus"})  # those ran on the GPU
    assert len(keys) == 5
    # Measured 20 % mean, 35 % worst: a range, not a point.
    assert 0.1 < cal.npu_loo.mean < 0.25 and cal.npu_loo.worst < 0.40
    assert cal.npu.relative_error == cal.npu_loo.worst


def test_npu_range_never_goes_below_the_small_model_floor():
    tiny = predict_latency(nn.Upsample(scale_factor=4), height=128, width=128)
    assert tiny.npu.low_ms >= 10.0 and tiny.npu.high_ms > tiny.npu.low_ms


def _student_ms(encoded: str) -> tuple[float, float]:
    result = predict_latency(MFAGenerator(MFAConfig.decode(encoded)), height=128, width=128)
    return result.gpu.ms, result.npu.ms


def test_bigger_students_predict_slower():
    small = _student_ms("b4-c32-g16-h1111-conv-x4")
    deeper = _student_ms("b6-c32-g32-h111111-conv-x4")
    wider = _student_ms("b6-c48-g32-h111111-conv-x4")
    assert small[0] < deeper[0] < wider[0]
    assert small[1] < deeper[1] < wider[1]


def test_teacher_is_predicted_within_the_band_of_its_public_figure():
    with torch.device("meta"):  # random graph only: never the real (converted) weights
        teacher = RRDBNet(RRDBNetConfig(num_block=23, num_feat=64, num_grow_ch=32))
    result = predict_latency(teacher, height=128, width=128)
    assert result.gpu.low_ms <= 1385.0 <= result.gpu.high_ms
    assert any("concat" in caveat for caveat in result.npu.caveats)
    assert any("extrapolated" in caveat for caveat in result.npu.caveats)


def test_device_profile_reads_the_public_table():
    device = load_device_profile()
    assert "RB5 (Proxy)" in device.aihub_devices and device.input_size == (128, 128)
    assert dict(device.gpu.measurements_ms)["real_esrgan_x4plus"] == 1385.0
    assert device.npu.fit_points()["quicksrnetsmall"] == 11.86


def test_malformed_device_profile_is_a_one_line_error(tmp_path):
    path = tmp_path / "phone.json"
    path.write_text(json.dumps({"name": "x"}), encoding="utf-8")
    with pytest.raises(UsageError, match="not a device profile"):
        load_device_profile(path)
    with pytest.raises(UsageError, match="cannot read"):
        load_device_profile(tmp_path / "missing.json")


def test_measurement_of_an_unknown_net_is_refused(tmp_path):
    from engine.phones.device import DEFAULT_DEVICE

    data = json.loads(DEFAULT_DEVICE.read_text(encoding="utf-8"))
    data["columns"][0]["measurements_ms"]["edsr"] = 100.0
    path = tmp_path / "phone.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UsageError, match="unknown nets edsr"):
        calibrate(load_device_profile(path))


def test_work_ops_bytes_follow_the_device_width():
    report = reference_reports(128, 128)["quicksrnetsmall"]
    half = WorkOps.from_report(report, bytes_per_element=2)
    full = WorkOps.from_report(report, bytes_per_element=4)
    assert np.allclose(full.bytes, 2 * half.bytes) and half.count == 5
