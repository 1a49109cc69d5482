"""The latency model of this computer times its subnets on the runtime ``--backend auto``
picks here, records which, and fits again when the cache was fitted on another runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.events import Finished
from engine.inference import runtime_choice
from engine.inference.runtime_choice import Candidate, Choice
from engine.models.mfa import MFAConfig
from engine.nas import host_latency

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = MFAConfig.decode("b2-c16-g8-h00-conv-x4")
CONFIGS = tuple(
    MFAConfig.decode(text)
    for text in (
        "b2-c16-g8-h00-conv-x4",
        "b2-c24-g16-h11-conv-x4",
        "b3-c16-g16-h010-conv-x4",
        "b3-c24-g8-h111-conv-x4",
        "b2-c16-g16-h10-conv-x4",
    )
)
OPENVINO = Candidate(kind="openvino")


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("runtime", [Candidate(kind="onnx"), OPENVINO, Candidate(kind="torch")])
def test_a_tiny_subnet_is_timed_on_each_runtime(tmp_path, runtime):
    path = tmp_path / "tiny.onnx"
    host_latency.export_config(TINY, path)
    ms = host_latency.time_once(path, 16, 1, runtime, TINY)
    assert 0.0 < ms < 10_000.0


def _fake_timing(monkeypatch) -> list[str]:
    """time_configs gives fixed ms (fast); returns the runtimes it was asked to time on."""
    asked: list[str] = []

    def fake(configs, size, threads, *, cancel=None, runtime=host_latency.ONNX_RUNTIME):
        asked.append(runtime.label)
        return [1.0 + 2.0 * float(host_latency.features(c, size)[0]) for c in configs]
        yield  # a generator, like the real one

    monkeypatch.setattr(host_latency, "time_configs", fake)
    return asked


def _model(**kwargs) -> host_latency.HostLatency:
    events = list(host_latency.host_latency(size=32, threads=1, configs=CONFIGS, **kwargs))
    assert isinstance(events[-1], Finished)
    return events[-1].result


def test_the_model_records_its_runtime_and_a_cache_of_another_is_refitted(monkeypatch):
    asked = _fake_timing(monkeypatch)
    on_onnx = _model(runtime=Candidate(kind="onnx"))
    assert on_onnx.runtime == "onnx" and "onnxruntime" in on_onnx.runtime_version
    assert "runtime onnx" in on_onnx.describe() and "(onnx)" in on_onnx.label()
    on_openvino = _model(runtime=OPENVINO)
    assert on_openvino.runtime == "openvino-fp32" and "OpenVINO" in on_openvino.runtime_version
    assert "runtime openvino-fp32" in on_openvino.describe()
    assert _model(runtime=OPENVINO) == on_openvino  # cached: not timed again
    assert _model(runtime=Candidate(kind="onnx")) == on_onnx
    assert asked == ["onnx", "openvino-fp32"]


def test_a_cache_file_fitted_on_another_runtime_or_format_is_not_used(monkeypatch):
    asked = _fake_timing(monkeypatch)
    model = _model(runtime=OPENVINO)
    path = host_latency._cache_path(32, 1, CONFIGS, OPENVINO)
    assert json.loads(path.read_text())["runtime"] == "openvino-fp32"
    data = model.as_dict() | {"runtime": "onnx"}  # same key, other runtime: not trusted
    path.write_text(json.dumps(data))
    assert host_latency._load(path, OPENVINO) is None
    old = {k: v for k, v in model.as_dict().items() if k not in ("runtime", "runtime_version")}
    path.write_text(json.dumps(old | {"format": 2}))  # fitted on onnxruntime before issue 18
    assert _model(runtime=OPENVINO).runtime == "openvino-fp32"
    assert asked == ["openvino-fp32", "openvino-fp32"]


def test_without_a_runtime_the_search_times_on_what_auto_picks(monkeypatch):
    asked = _fake_timing(monkeypatch)
    picked: list[int] = []

    def fake_host_runtime(threads: int) -> Candidate:
        picked.append(threads)
        return Candidate(kind="openvino", precision="bf16")

    monkeypatch.setattr(host_latency, "host_runtime", fake_host_runtime)
    assert _model().runtime == "openvino-bf16"
    assert picked == [1] and asked == ["openvino-bf16"]  # picked once for all subnets


def test_host_runtime_is_auto_s_choice_for_the_default_model(monkeypatch):
    choice = Choice(
        candidate=Candidate(kind="openvino", precision="bf16"),
        times_ms={"onnx": 20.0, "openvino-bf16": 8.0},
        errors={},
    )
    monkeypatch.setattr(runtime_choice, "cached_choice", lambda descriptor, threads: choice)
    assert host_latency.host_runtime(2) == choice.candidate

    def cannot(*args, **kwargs):
        raise ModelError("no runtime can run it here")

    monkeypatch.setattr(runtime_choice, "cached_choice", lambda descriptor, threads: None)
    monkeypatch.setattr("engine.inference.backends.make_backend", cannot)
    assert host_latency.host_runtime(2) == Candidate(kind="onnx")
