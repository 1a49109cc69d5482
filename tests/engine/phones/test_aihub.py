"""The AI Hub adapter against a fake with qai-hub 0.56's real signatures and result shapes."""

from __future__ import annotations

import inspect
import io
import stat
from pathlib import Path

import numpy as np
import pytest
import qai_hub
from fake_qai_hub import FakeHub, profile_dict

from engine.cli import main
from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Finished, Notice
from engine.phones import aihub

TOKEN = "tok3n-s3cr3t-value"


@pytest.fixture(autouse=True)
def client_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """qai-hub's config file lives in the test's folder, never in the real home."""
    path = tmp_path / "qai_hub" / "client.ini"
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(path))
    return path


def _run(request: aihub.AihubRequest, hub: FakeHub, cancel: CancelToken | None = None):
    events = []
    generator = aihub.run_on_aihub(request, hub, cancel=cancel, poll=0)
    while True:
        try:
            events.append(next(generator))
        except StopIteration as stop:
            return stop.value, events


def _request(tmp_path: Path, **changes) -> aihub.AihubRequest:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    fields = {"model": model, "device": "Samsung Galaxy S24 (Family)", "target_dir": tmp_path}
    return aihub.AihubRequest(**(fields | changes))


@pytest.mark.parametrize(
    ("name", "real"),
    [
        ("submit_compile_job", qai_hub.Client.submit_compile_job),
        ("submit_profile_job", qai_hub.Client.submit_profile_job),
        ("submit_inference_job", qai_hub.Client.submit_inference_job),
        ("get_devices", qai_hub.Client.get_devices),
    ],
)
def test_fake_follows_the_real_client_signatures(name: str, real) -> None:
    fake = inspect.signature(getattr(FakeHub(), name))
    expected = list(inspect.signature(real).parameters)[1:]  # without self
    assert list(fake.parameters) == expected


def test_success_records_time_memory_and_layers_off_the_npu(tmp_path: Path) -> None:
    hub = FakeHub()
    crops = np.random.default_rng(0).random((2, 3, 8, 8), dtype=np.float32)
    result, events = _run(_request(tmp_path, inputs=crops), hub)
    assert result.inference_ms == pytest.approx(2.345)
    assert result.peak_memory_bytes == (1_048_576, 13_631_488)
    assert result.layers_by_unit == {"NPU": 3, "GPU": 1}
    assert result.off_unit_layers == ("/module/DepthToSpace (DepthToSpace on GPU)",)
    assert any("did not run on the NPU" in e.message for e in events if isinstance(e, Notice))
    compile_call = hub.calls[0]
    assert compile_call[0] == "compile"
    assert compile_call[1]["options"] == "--target_runtime tflite --compute_unit npu"
    assert isinstance(compile_call[1]["device"], FakeHub.Device)
    assert (tmp_path / result.target_file).read_bytes().startswith(b"compiled")
    assert result.outputs is not None and result.outputs.shape == (2, 3, 32, 32)
    cached = aihub.cached_measurements("Samsung Galaxy S24 (Family)")
    assert [c["profile_job"] for c in cached] == [result.profile_job]
    assert cached[0]["inference_ms"] == pytest.approx(2.345)
    assert aihub.cached_measurements("another phone") == []
    assert len(aihub.cached_measurements()) == 1


def test_gpu_qnn_request_passes_its_options(tmp_path: Path) -> None:
    hub = FakeHub(profile=profile_dict(layers=(("conv", "Conv2d", "GPU"),)))
    result, _ = _run(_request(tmp_path, unit="gpu", runtime="qnn_dlc"), hub)
    assert hub.calls[0][1]["options"] == "--target_runtime qnn_dlc --compute_unit gpu"
    assert result.off_unit_layers == () and result.target_file.endswith(".dlc")
    assert [c[0] for c in hub.calls] == ["compile", "profile"]  # no inputs: no inference job


@pytest.mark.parametrize("stage", ["compile", "profile", "inference"])
def test_failed_job_is_one_line_and_caches_nothing(tmp_path: Path, stage: str) -> None:
    crops = np.zeros((1, 3, 8, 8), np.float32)
    with pytest.raises(aihub.AihubError, match=rf"AI Hub {stage} job j\d+ failed: Compilation"):
        _run(_request(tmp_path, inputs=crops), FakeHub(fail=stage))
    assert aihub.cached_measurements() == []


def test_network_error_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(aihub.AihubError, match="cannot reach AI Hub") as caught:
        _run(_request(tmp_path), FakeHub(network_error=True))
    assert "\n" not in str(caught.value)


def test_client_without_configuration_says_how_to_log_in(tmp_path: Path) -> None:
    with pytest.raises(aihub.AihubError, match="mfagan aihub login"):
        _run(_request(tmp_path), FakeHub(no_config=True))


def test_no_token_connect_fails_before_any_call() -> None:
    assert not aihub.token_configured()
    with pytest.raises(
        aihub.AihubError, match=r"no AI Hub token is configured.*mfagan aihub login"
    ):
        aihub.connect()


def test_cancel_stops_while_a_job_runs(tmp_path: Path) -> None:
    cancel = CancelToken()
    generator = aihub.run_on_aihub(_request(tmp_path), FakeHub(), cancel=cancel, poll=0)
    next(generator)
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(generator)


def test_store_token_writes_qai_hub_config_0600_and_keeps_other_settings(
    client_ini: Path,
) -> None:
    client_ini.parent.mkdir(parents=True)
    client_ini.write_text("[api]\napi_token = old\napi_url = https://example.test\n")
    path = aihub.store_token(f"  {TOKEN}\n")
    assert path == client_ini
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert f"api_token = {TOKEN}" in text and "api_url = https://example.test" in text
    assert aihub.token_configured()
    # The file is one qai-hub itself reads.
    from qai_hub.api_utils import load_api_config_from_file

    assert load_api_config_from_file(str(path)).api_token == TOKEN
    with pytest.raises(UsageError):
        aihub.store_token("two words")


def test_login_reads_stdin_never_prints_the_token(
    client_ini: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    assert main(["aihub", "login"]) == 0
    out, err = capsys.readouterr()
    assert TOKEN not in out + err and "saved" in out
    assert TOKEN in client_ini.read_text()


def test_login_token_on_the_command_line_is_refused_without_echo(
    client_ini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["aihub", "login", TOKEN]) == 2
    out, err = capsys.readouterr()
    assert TOKEN not in out + err and "never taken from the command line" in err
    assert not client_ini.exists()


def test_export_to_aihub_without_token_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", "--format", "aihub", "--out", str(tmp_path / "b"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "mfagan aihub login" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_measurements_command_lists_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["aihub", "measurements"]) == 0
    assert "no AI Hub measurements" in capsys.readouterr().out
    _run(_request(tmp_path), FakeHub())
    assert main(["aihub", "measurements", "--json"]) == 0
    assert '"inference_ms": 2.345' in capsys.readouterr().out


def test_result_events_end_without_finished(tmp_path: Path) -> None:
    """run_on_aihub is a sub-job: it returns its result, the export job sends Finished."""
    _result, events = _run(_request(tmp_path), FakeHub())
    assert not any(isinstance(e, Finished) for e in events)
