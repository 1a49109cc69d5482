"""OpenVINO backend: same pixels as onnxruntime at fp32, bf16 only where native and checked."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from support import NearestX4, make_descriptor

from engine.errors import ModelError
from engine.events import Cancelled, CancelToken
from engine.inference import openvino_backend as ovb
from engine.inference.backends import make_backend
from engine.models.mfa import MFAConfig, MFAGenerator

HAS_BF16 = ovb.supports("bf16")


def _student():
    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(True, False))
    described = make_descriptor(MFAGenerator(config, seed=3), name="mfa-ov-test")
    return dataclasses.replace(described, size_multiple=config.size_multiple)


def test_fp32_matches_onnxruntime_within_one_level():
    descriptor = _student()
    x = ovb.fidelity_crop(3)[:, :, :40, :48]
    expected = make_backend(descriptor, "onnx").run(x)
    backend = make_backend(descriptor, "openvino", precision="fp32")
    assert backend.name == "openvino-fp32"
    assert np.abs(backend.run(x) - expected).max() <= 1.0 / 255.0


def test_disable_switch_hides_bf16_and_auto_precision_is_fp32(monkeypatch):
    monkeypatch.setenv(ovb.DISABLE_BF16_ENV, "1")
    assert "BF16" not in ovb.capabilities("CPU")
    assert make_backend(_student(), "openvino").precision == "fp32"
    with pytest.raises(ModelError, match="no bf16"):
        make_backend(_student(), "openvino", precision="bf16")


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has no native bf16 (no AVX512-BF16/AMX)")
def test_bf16_is_used_after_its_check_passes():
    backend = make_backend(_student(), "openvino")
    assert backend.precision == "bf16" and backend.fidelity_db >= ovb.MIN_PSNR_DB
    x = ovb.fidelity_crop(3)
    reference = make_backend(_student(), "openvino", precision="fp32").run(x)
    assert ovb.psnr(reference, backend.run(x)) >= ovb.MIN_PSNR_DB


def test_a_precision_failing_its_check_is_not_used(monkeypatch):
    monkeypatch.setattr(ovb, "supports", lambda precision, device="CPU": True)
    monkeypatch.setattr(ovb, "precision_psnr", lambda *a, **k: 30.0)
    assert make_backend(_student(), "openvino").precision == "fp32"
    with pytest.raises(ModelError, match=r"30\.0 dB"):
        make_backend(_student(), "openvino", precision="bf16")


def test_the_check_is_cached_per_export(monkeypatch):
    descriptor = make_descriptor(NearestX4(), name="nearest-ov")
    backend = make_backend(descriptor, "openvino", precision="fp32")
    x = ovb.fidelity_crop(3)
    first = ovb.precision_psnr(backend.path, "fp16", device="CPU", threads=1, x=x)

    def fail(*_a, **_k):
        raise AssertionError("compiled again")

    monkeypatch.setattr(ovb, "compile_model", fail)
    assert ovb.precision_psnr(backend.path, "fp16", device="CPU", threads=1, x=x) == first


class _Request:
    """Never finishes on its own: only cancel() ends it (so the test cannot race a timer)."""

    def __init__(self, token: CancelToken) -> None:
        self.token, self.cancelled, self.waits = token, False, 0

    def start_async(self, _inputs) -> None:
        pass

    def wait_for(self, _ms: int) -> bool:
        self.waits += 1
        if self.waits == 3:
            self.token.cancel()  # the user presses Cancel while the call runs
        return self.cancelled

    def cancel(self) -> None:
        self.cancelled = True

    def wait(self) -> None:
        pass


class _Compiled:
    outputs = (0,)

    def __init__(self, request: _Request) -> None:
        self.request = request

    def create_infer_request(self) -> _Request:
        return self.request


def test_cancel_inside_a_call_cancels_the_request():
    token = CancelToken()
    request = _Request(token)
    with pytest.raises(Cancelled):
        ovb.infer(_Compiled(request), np.zeros((1, 3, 8, 8), np.float32), token)
    assert request.cancelled and request.waits == 3


def test_a_cancelled_token_stops_a_real_call_before_it_starts():
    backend = make_backend(make_descriptor(NearestX4(), name="nearest-ov"), "openvino")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        backend.run(np.zeros((1, 3, 8, 8), np.float32), cancel=token)


def test_opening_openvino_writes_nothing_in_home_and_sends_no_usage_report(tmp_path):
    # OpenVINO's converter reports usage from ``import openvino`` unless its telemetry is off;
    # that report would create ~/intel/ (a client id) on the user's computer.
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    code = (
        "import sys; from engine.inference import openvino_backend as ovb; "
        "ovb.ov.Core().available_devices; "
        "print(sys.modules['openvino_telemetry'] is None)"
    )
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "c")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert list(home.iterdir()) == []

