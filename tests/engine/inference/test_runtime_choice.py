"""--backend auto: the measured choice, its cache and its rules, with real runtimes and with
the device list faked (this machine has no GPU)."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_a_cuda_gpu_and_openvino_npus_are_offered(nearest_descriptor, monkeypatch):
    monkeypatch.setattr(runtime_choice, "cuda_available", lambda: True)
    monkeypatch.setattr(ov, "devices", lambda: ["CPU", "GPU.0", "NPU"])
    monkeypatch.setattr(
        ov, "capabilities", lambda device="CPU": {"FP32"} if device == "CPU" else {"FP16"}
    )
    labels = [c.label for c in candidates(nearest_descriptor)]
    assert labels == [
        "onnx", "openvino-fp32", "openvino-gpu.0-fp16", "openvino-npu-fp16", "torch-cuda"
    ]  # fmt: skip


def test_no_cuda_candidate_without_a_cuda_gpu(nearest_descriptor, monkeypatch):
    monkeypatch.setattr(runtime_choice, "cuda_available", lambda: False)
    assert "torch-cuda" not in [c.label for c in candidates(nearest_descriptor)]


class ScaledBackend(FakeBackend):
    """A fake runtime whose output is off by ``gain`` (a GPU that fails its check)."""

    def __init__(self, candidate: Candidate, calls: list[str], gain: float) -> None:
        super().__init__(candidate, calls)
        self.gain = gain

    def run(self, x: np.ndarray, *, cancel=None) -> np.ndarray:
        return super().run(x) * self.gain


GPU_CANDIDATES = [
    Candidate(kind="onnx"),
    Candidate(kind="openvino"),
    Candidate(kind="openvino", precision="fp16", device="GPU.0"),
    Candidate(kind="torch", device="cuda"),
]


def _times_by_label(monkeypatch, times: dict[str, float], cache: Path) -> None:
    """A CUDA GPU and an OpenVINO GPU beside the CPU; _time reports ``times[label]``; an
    empty cache (nothing measured before)."""
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(cache))
    monkeypatch.setattr(runtime_choice, "_time", lambda run, x: times[run.__self__.candidate.label])
    monkeypatch.setattr(runtime_choice, "candidates", lambda d: list(GPU_CANDIDATES))


def test_a_fast_gpu_that_matches_the_cpu_is_chosen(nearest_descriptor, monkeypatch, tmp_path):
    times = {"onnx": 30.0, "openvino-fp32": 29.0, "openvino-gpu.0-fp16": 8.0, "torch-cuda": 4.0}
    _times_by_label(monkeypatch, times, tmp_path)
    choice, _ = choose(nearest_descriptor, 2, build=lambda c: FakeBackend(c, []))
    assert choice.candidate.label == "torch-cuda" and choice.errors == {}
    assert choice.times_ms == times
    assert cached_choice(nearest_descriptor, 2) == choice


def test_a_gpu_failing_its_check_or_erroring_leaves_the_cpu_candidates(
    nearest_descriptor, monkeypatch, tmp_path
):
    times = {"onnx": 30.0, "openvino-fp32": 20.0, "openvino-gpu.0-fp16": 8.0, "torch-cuda": 4.0}
    _times_by_label(monkeypatch, times, tmp_path)

    def build(candidate: Candidate) -> FakeBackend:
        if candidate.label == "torch-cuda":
            raise RuntimeError("CUDA error: no kernel image is available\nmore")
        if candidate.device == "GPU.0":
            return ScaledBackend(candidate, [], gain=0.5)  # wrong pixels, though fast
        return FakeBackend(candidate, [])

    choice, _ = choose(nearest_descriptor, 2, build=build)
    assert choice.candidate.label == "openvino-fp32"
    assert set(choice.times_ms) == {"onnx", "openvino-fp32"}
    assert "dB from the CPU's" in choice.errors["openvino-gpu.0-fp16"]
    assert choice.errors["torch-cuda"] == "RuntimeError: CUDA error: no kernel image is available"


def test_a_gpu_erroring_at_its_first_run_is_left_out(nearest_descriptor, monkeypatch, tmp_path):
    _times_by_label(monkeypatch, {"onnx": 30.0, "openvino-fp32": 31.0}, tmp_path)

    class Broken(FakeBackend):
        def run(self, x, *, cancel=None):
            raise RuntimeError("CL_OUT_OF_RESOURCES")

    def build(candidate: Candidate) -> FakeBackend:
        return (Broken if candidate.device != "CPU" else FakeBackend)(candidate, [])

    choice, _ = choose(nearest_descriptor, 2, build=build)
    assert choice.candidate.label == "onnx"
    assert set(choice.errors) == {"openvino-gpu.0-fp16", "torch-cuda"}


def test_a_cpu_runtime_error_is_not_hidden(nearest_descriptor, monkeypatch, tmp_path):
    _times_by_label(monkeypatch, {}, tmp_path)

    def build(candidate: Candidate) -> FakeBackend:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        choose(nearest_descriptor, 2, build=build)


def test_torch_cuda_without_a_gpu_is_a_model_error(nearest_descriptor, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match="CUDA GPU"):
        make_backend(nearest_descriptor, "torch", device="cuda")


def test_this_cpu_without_bf16_gets_no_bf16_candidate():
    """This machine kind (AMD EPYC, AVX2 only) lists no BF16: auto never tries bf16 here."""
    if "BF16" in ov.capabilities("CPU"):
        pytest.skip("this CPU has bf16")
    assert not ov.supports("bf16")
