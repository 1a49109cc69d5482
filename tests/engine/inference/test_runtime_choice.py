"""--backend auto: the measured choice, its cache and its rules, with real runtimes and with
the device list faked (this machine has no GPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import ModelError
from engine.inference import openvino_backend as ov
from engine.inference import runtime_choice
from engine.inference.backends import make_backend
from engine.inference.runtime_choice import Candidate, cached_choice, candidates, choose


class FakeBackend:
    def __init__(self, candidate: Candidate, calls: list[str]) -> None:
        self.candidate = candidate
        self.calls = calls

    def run(self, x: np.ndarray, *, cancel=None) -> np.ndarray:
        self.calls.append(self.candidate.label)
        return x


def test_onnx_stays_unless_another_runtime_is_clearly_faster():
    assert runtime_choice._pick({"onnx": 100.0, "openvino-fp32": 97.0}) == "onnx"
    assert runtime_choice._pick({"onnx": 100.0, "openvino-bf16": 50.0}) == "openvino-bf16"
    assert runtime_choice._pick({"openvino-fp32": 10.0}) == "openvino-fp32"


def test_candidates_follow_the_cpu_and_the_devices_openvino_lists(
    nearest_descriptor, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(ov, "devices", lambda: ["CPU", "GPU.0"])
    monkeypatch.setattr(
        ov, "capabilities", lambda device="CPU": {"FP32", "BF16"} if device == "CPU" else {"FP16"}
    )
    labels = [c.label for c in candidates(nearest_descriptor)]
    assert labels == ["onnx", "openvino-fp32", "openvino-bf16", "openvino-gpu.0-fp16"]
    monkeypatch.setattr(ov, "capabilities", lambda device="CPU": {"FP32"})
    monkeypatch.setattr(ov, "devices", lambda: ["CPU"])
    assert [c.label for c in candidates(nearest_descriptor)] == ["onnx", "openvino-fp32"]


def test_a_cpu_without_bf16_is_never_offered_bf16(nearest_descriptor, monkeypatch):
    monkeypatch.setenv(ov.DISABLE_BF16_ENV, "1")
    assert "openvino-bf16" not in [c.label for c in candidates(nearest_descriptor)]


def test_the_choice_is_measured_once_and_cached_per_machine(nearest_descriptor, monkeypatch):
    monkeypatch.setattr(ov, "devices", lambda: ["CPU", "GPU.0"])
    calls: list[str] = []

    def build(candidate: Candidate) -> FakeBackend:
        if candidate.device != "CPU":
            raise ModelError("the GPU driver is broken")
        return FakeBackend(candidate, calls)

    fake_times = iter([30.0, 10.0, 20.0])
    monkeypatch.setattr(runtime_choice, "_time", lambda run, x: next(fake_times))
    monkeypatch.setattr(
        runtime_choice,
        "candidates",
        lambda d: [
            Candidate(kind="onnx"),
            Candidate(kind="openvino"),
            Candidate(kind="openvino", precision="bf16"),
            Candidate(kind="openvino", device="GPU.0"),
        ],
    )
    choice, backend = choose(nearest_descriptor, 2, build=build)
    assert choice.candidate.label == "openvino-fp32" and backend.candidate == choice.candidate
    assert choice.times_ms == {"onnx": 30.0, "openvino-fp32": 10.0, "openvino-bf16": 20.0}
    assert "broken" in choice.errors["openvino-gpu.0-fp32"]
    assert choice.speedup == pytest.approx(3.0)
    assert "3.0x faster than onnx" in choice.describe()
    assert cached_choice(nearest_descriptor, 2) == choice
    assert cached_choice(nearest_descriptor, 1) is None  # another thread count: not measured

    built: list[str] = []

    def build_again(candidate: Candidate) -> FakeBackend:
        built.append(candidate.label)
        return FakeBackend(candidate, calls)

    again, _ = choose(nearest_descriptor, 2, build=build_again)
    assert again == choice and built == ["openvino-fp32"]  # no new measurement


def test_a_damaged_cache_file_is_measured_again(nearest_descriptor, monkeypatch):
    path = runtime_choice._choices_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = runtime_choice.machine_key(nearest_descriptor, 2)
    path.write_text(json.dumps({key: {"candidate": 3}}))
    assert cached_choice(nearest_descriptor, 2) is None
    monkeypatch.setattr(runtime_choice, "candidates", lambda d: [Candidate(kind="onnx")])
    choice, _ = choose(nearest_descriptor, 2, build=lambda c: FakeBackend(c, []))
    assert choice.candidate.label == "onnx"


def test_auto_runs_the_real_model_like_onnxruntime(nearest_descriptor):
    auto = make_backend(nearest_descriptor, "auto", threads=1)
    assert auto.name.endswith("(auto)")
    assert set(auto.choice.times_ms) >= {"onnx", "openvino-fp32"}
    x = np.random.default_rng(0).random((1, 3, 20, 24), dtype=np.float32)
    reference = make_backend(nearest_descriptor, "onnx", threads=1).run(x)
    np.testing.assert_allclose(auto.run(x), reference, atol=1 / 255)


def test_auto_without_bf16_is_no_slower_than_onnxruntime(nearest_descriptor, monkeypatch):
    monkeypatch.setenv(ov.DISABLE_BF16_ENV, "1")
    auto = make_backend(nearest_descriptor, "auto", threads=1)
    times = auto.choice.times_ms
    assert "openvino-bf16" not in times
    assert times[auto.choice.candidate.label] <= times["onnx"]
