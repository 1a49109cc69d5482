"""Qualcomm AI Hub: compile an exported model, profile it on a real phone, keep the numbers.

The one interface is the ``qai_hub`` module's own surface (0.56): ``Device(name)``,
``submit_compile_job(model, device, name=None, input_specs=None, options='', ...)``,
``submit_profile_job(model, device, name=None, options='', ...)``,
``submit_inference_job(model, device, inputs=None, name=None, options='', ...)``, and on
jobs ``job_id``, ``get_status()`` (``.finished``, ``.success``, ``.message``),
``get_target_model()``, ``download_target_model(filename)``, ``download_profile()`` (a dict
with ``execution_summary`` and ``execution_detail``) and ``download_output_data()``. Callers
pass that module, or a fake with the same signatures (``tests/fake_qai_hub.py``).

The token lives where qai-hub itself reads it (``~/.qai_hub/client.ini`` or
``$QAIHUB_CLIENT_INI``), written by ``store_token`` with mode 0600; it is never printed,
logged, passed on a command line or written into a bundle. Every profile is cached per
device under the user data folder (``cached_measurements``), so a device's latency
calibration can be refined from real runs (token: ``aihub_token``; cache: ``aihub_cache``;
the check that the server answers before any work: ``aihub_reach``).
"""

from __future__ import annotations

import configparser
import contextlib
import io
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from engine.errors import MfaganError, UsageError
from engine.events import Cancelled, CancelToken, Event, Notice, Progress
from engine.phones.aihub_cache import cached_measurements, save_measurement
from engine.phones.aihub_reach import check_reachable
from engine.phones.aihub_token import (
    LOGIN_HINT,
    blank_token,
    config_path,
    store_token,
    stored_api_url,
    stored_token,
    token_configured,
)

Unit = Literal["npu", "gpu"]
Runtime = Literal["tflite", "qnn_dlc"]
UNITS: tuple[Unit, ...] = ("npu", "gpu")
RUNTIMES: tuple[Runtime, ...] = ("tflite", "qnn_dlc")
TARGET_SUFFIX = {"tflite": ".tflite", "qnn_dlc": ".dlc"}
POLL_SECONDS = 5.0


class AihubError(MfaganError):
    """AI Hub could not be used (no token, network, a failed job): one line, no traceback."""


def connect() -> Any:
    """The real ``qai_hub`` module, once a token is configured and the AI Hub server
    answers (``check_reachable``: seconds, not qai-hub's minutes of silent retries);
    AihubError otherwise."""
    try:
        token, url = stored_token(), stored_api_url()
    except UsageError as error:
        raise AihubError(str(error)) from None
    if not token:
        raise AihubError(f"no AI Hub token is configured; {LOGIN_HINT}")
    check_reachable(url)
    import qai_hub

    return qai_hub


@dataclass(frozen=True, kw_only=True)
class AihubRequest:
    """One compile + profile (+ optional inference) of an exported model on one device."""

    model: Path  # ONNX file (QDQ for the NPU)
    device: str  # AI Hub device name, e.g. "Samsung Galaxy S24 (Family)"
    unit: Unit = "npu"
    runtime: Runtime = "tflite"
    name: str = "mfagan"
    inputs: np.ndarray | None = field(default=None, compare=False)  # NCHW crops to run
    target_dir: Path | None = None  # where the compiled model is downloaded
    # What was measured (name, config, input shape, precision, MACs...): kept with the
    # cached result so a latency calibration knows which network the time belongs to.
    about: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AihubResult:
    device: str
    unit: Unit
    runtime: Runtime
    compile_job: str
    profile_job: str
    inference_job: str | None
    inference_ms: float
    peak_memory_bytes: tuple[int, int] | None
    layers_by_unit: dict[str, int]
    off_unit_layers: tuple[str, ...]
    layers: tuple[dict[str, Any], ...]
    target_file: str | None
    measured_at: str
    about: dict[str, Any] = field(default_factory=dict)
    outputs: np.ndarray | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": "Qualcomm AI Hub profile job",
            "device": self.device,
            "compute_unit": self.unit,
            "runtime": self.runtime,
            "compile_job": self.compile_job,
            "profile_job": self.profile_job,
            "inference_job": self.inference_job,
            "inference_ms": round(self.inference_ms, 3),
            "peak_memory_bytes": list(self.peak_memory_bytes) if self.peak_memory_bytes else None,
            "layers_by_unit": dict(self.layers_by_unit),
            "off_unit_layers": list(self.off_unit_layers),
            "layers": [dict(layer) for layer in self.layers],
            "target_file": self.target_file,
            "measured_at": self.measured_at,
            "model": dict(self.about),
        }


def run_on_aihub(
    request: AihubRequest,
    hub: Any,
    *,
    cancel: CancelToken | None = None,
    poll: float = POLL_SECONDS,
) -> Generator[Event, None, AihubResult]:
    """Compile, profile and optionally run ``request.model`` on AI Hub; cache the profile."""
    cancel = cancel or CancelToken()
    with _translated_errors():
        device = hub.Device(request.device)
        options = f"--target_runtime {request.runtime} --compute_unit {request.unit}"
        yield Progress(stage="AI Hub", done=0, total=3, message="compiling")
        compile_job = hub.submit_compile_job(
            str(request.model), device, name=f"{request.name}-compile", options=options
        )
        yield from _wait(compile_job, "compile", cancel, poll)
        target = compile_job.get_target_model()
        target_file = _download_target(compile_job, request)
        yield Progress(stage="AI Hub", done=1, total=3, message="profiling on the phone")
        # qai-hub 0.56 prints a red deprecation banner on stdout for this call (it now wraps
        # submit_inference_job(profile=True)); it would tear through the progress bar.
        with contextlib.redirect_stdout(io.StringIO()):
            profile_job = hub.submit_profile_job(
                target,
                device,
                name=f"{request.name}-profile",
                options=f"--compute_unit {request.unit}",
            )
        yield from _wait(profile_job, "profile", cancel, poll)
        profile = profile_job.download_profile()
        outputs, inference_id = None, None
        if request.inputs is not None:
            yield Progress(stage="AI Hub", done=2, total=3, message="inference on the phone")
            outputs, inference_id = yield from _infer(hub, target, device, request, cancel, poll)
    result = _result(request, profile, compile_job, profile_job, inference_id, target_file, outputs)
    for layer in result.off_unit_layers[:5]:
        yield Notice(message=f"AI Hub: layer {layer} did not run on the {request.unit.upper()}")
    if result.off_unit_layers:
        yield Notice(
            message=f"AI Hub: {len(result.off_unit_layers)} of "
            f"{sum(result.layers_by_unit.values())} layers fell off the "
            f"{request.unit.upper()}: each switch of unit costs a transfer"
        )
    save_measurement(result.as_dict())
    yield Progress(stage="AI Hub", done=3, total=3, message=f"{result.inference_ms:.2f} ms")
    return result


def _infer(
    hub: Any, target: Any, device: Any, request: AihubRequest, cancel: CancelToken, poll: float
) -> Generator[Event, None, tuple[np.ndarray, str]]:
    assert request.inputs is not None
    inputs = {"input": [request.inputs[i : i + 1] for i in range(len(request.inputs))]}
    job = hub.submit_inference_job(target, device, inputs=inputs, name=f"{request.name}-infer")
    yield from _wait(job, "inference", cancel, poll)
    data = job.download_output_data()
    if not data:
        raise AihubError(f"AI Hub inference job {job.job_id} returned no outputs")
    arrays = next(iter(data.values()))
    return np.concatenate([np.asarray(a, dtype=np.float32) for a in arrays]), str(job.job_id)


def _wait(job: Any, kind: str, cancel: CancelToken, poll: float) -> Generator[Event, None, None]:
    """Poll the job (cancel stays responsive, unlike ``job.wait()``); AihubError on failure."""
    while True:
        cancel.raise_if_cancelled()
        status = job.get_status()
        if status.finished:
            break
        yield Progress(stage="AI Hub", done=0, total=0, message=f"{kind} job {job.job_id} running")
        time.sleep(poll)
    if not status.success:
        reason = blank_token((status.message or "no reason given").strip().splitlines()[0])
        raise AihubError(f"AI Hub {kind} job {job.job_id} failed: {reason}")


def _download_target(compile_job: Any, request: AihubRequest) -> str | None:
    if request.target_dir is None:
        return None
    name = f"{request.name}-{request.runtime}-{request.unit}{TARGET_SUFFIX[request.runtime]}"
    saved = compile_job.download_target_model(str(request.target_dir / name))
    return Path(saved).name if saved else None


def _result(
    request: AihubRequest,
    profile: dict[str, Any],
    compile_job: Any,
    profile_job: Any,
    inference_id: str | None,
    target_file: str | None,
    outputs: np.ndarray | None,
) -> AihubResult:
    summary = profile.get("execution_summary") or {}
    detail = profile.get("execution_detail") or []
    if "estimated_inference_time" not in summary:
        raise AihubError(f"AI Hub profile job {profile_job.job_id} returned no timing")
    peak = summary.get("inference_memory_peak_range")
    by_unit: dict[str, int] = {}
    for layer in detail:
        unit = str(layer.get("compute_unit", "?"))
        by_unit[unit] = by_unit.get(unit, 0) + 1
    wanted = request.unit.upper()
    off = tuple(
        f"{layer.get('name', '?')} ({layer.get('type', '?')} on {layer.get('compute_unit')})"
        for layer in detail
        if str(layer.get("compute_unit")) != wanted
    )
    return AihubResult(
        device=request.device,
        unit=request.unit,
        runtime=request.runtime,
        compile_job=str(compile_job.job_id),
        profile_job=str(profile_job.job_id),
        inference_job=inference_id,
        inference_ms=float(summary["estimated_inference_time"]) / 1000.0,  # microseconds
        peak_memory_bytes=(int(peak[0]), int(peak[1])) if _is_range(peak) else None,
        layers_by_unit=by_unit,
        off_unit_layers=off,
        layers=tuple(
            {key: layer.get(key) for key in ("name", "type", "compute_unit", "execution_time")}
            for layer in detail
        ),
        target_file=target_file,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        about=dict(request.about),
        outputs=outputs,
    )


def _is_range(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """qai-hub and network exceptions -> AihubError with one line (the token never in it)."""
    try:
        yield
    except (MfaganError, Cancelled):
        raise
    except Exception as error:
        raise AihubError(blank_token(_describe(error))) from None


def _describe(error: Exception) -> str:
    text = _first_line(error)
    if isinstance(error, configparser.Error):  # its text quotes the file's lines
        return f"qai-hub cannot read its configuration file {config_path()}; {LOGIN_HINT}"
    if "client configuration" in text or "api_token" in text.lower():
        return f"AI Hub has no usable token; {LOGIN_HINT}"
    if _is_network_error(error):
        return f"cannot reach AI Hub (network: {text}); check the connection and try again"
    return f"AI Hub: {text}"


def _is_network_error(error: Exception) -> bool:
    try:
        from requests.exceptions import ConnectionError as RequestsConnectionError
        from requests.exceptions import Timeout
    except ImportError:  # pragma: no cover - requests comes with qai-hub
        return isinstance(error, (ConnectionError, TimeoutError))
    return isinstance(error, (ConnectionError, TimeoutError, RequestsConnectionError, Timeout))


def _first_line(error: BaseException) -> str:
    lines = [line.strip(" |-") for line in str(error).splitlines() if line.strip(" |-")]
    return lines[0] if lines else type(error).__name__


__all__ = [
    "AihubError",
    "AihubRequest",
    "AihubResult",
    "cached_measurements",
    "config_path",
    "connect",
    "run_on_aihub",
    "store_token",
    "token_configured",
]
