"""Run an ONNX export with OpenVINO (Intel's runtime): fp32, or bf16/fp16 where it pays.

OpenVINO reads the cached ONNX export directly (dynamic batch, height and width kept). On a
CPU with AVX512-BF16 or AMX a bf16 precision hint ran the student 2.6x (512-px photo) and the
teacher 6.6x (96-px crop) faster than onnxruntime fp32 on a 2-core Xeon: matrix units do the
convolutions. A reduced precision is only used after a check at first use: the model runs
on a crop of a real photo (``resources/samples/astronaut.png``) at fp32 and at that precision,
and the precision is kept only if the outputs are at least ``MIN_PSNR_DB`` apart. The result
is cached per export, OpenVINO version and CPU (``cache_dir()/runtime/fidelity.json``).

``MFAGAN_DISABLE_BF16=1`` makes the CPU look as if it had no bf16 (for tests, and for anyone
who wants today's fp32 numbers).

Cancellation inside a call: the request runs asynchronously; the caller waits on it in short
slices (``wait_for``) and calls ``cancel()`` once the token is set, then raises Cancelled.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import ModelError
from engine.events import Cancelled, CancelToken
from engine.files import atomic_write_bytes
from engine.paths import RESOURCES, cache_dir

# ``import openvino`` loads its converter, whose telemetry would create ~/intel/ and send a
# usage event to Google Analytics from a user's desktop; a None entry makes that import fail,
# so OpenVINO falls back to its own no-op stub (openvino.tools.ovc.telemetry_stub).
sys.modules.setdefault("openvino_telemetry", None)
import openvino as ov  # noqa: E402

PRECISIONS = ("fp32", "bf16", "fp16")
_HINTS = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
_CAPABILITY = {"bf16": "BF16", "fp16": "FP16"}
MIN_PSNR_DB = 45.0
FIDELITY_PHOTO = RESOURCES / "samples" / "astronaut.png"
FIDELITY_SIDE = 64  # LR side of the check crop: the teacher runs it in well under a second
CANCEL_POLL_MS = 50
DISABLE_BF16_ENV = "MFAGAN_DISABLE_BF16"
_FIDELITY_LOCK = threading.Lock()


@functools.cache
def core() -> ov.Core:
    return ov.Core()


def devices() -> list[str]:
    """OpenVINO devices this computer has ("CPU", and "GPU"/"NPU" where Intel ones exist)."""
    try:
        return list(core().available_devices)
    except Exception:  # a broken driver must not stop the CPU path
        return ["CPU"]


def capabilities(device: str = "CPU") -> set[str]:
    """OPTIMIZATION_CAPABILITIES of ``device`` (BF16 removed under MFAGAN_DISABLE_BF16)."""
    try:
        caps = set(core().get_property(device, "OPTIMIZATION_CAPABILITIES"))
    except Exception:
        return set()
    if os.environ.get(DISABLE_BF16_ENV, "") not in ("", "0"):
        caps.discard("BF16")
    return caps


def device_name(device: str = "CPU") -> str:
    try:
        return str(core().get_property(device, "FULL_DEVICE_NAME"))
    except Exception:
        return device


def supports(precision: str, device: str = "CPU") -> bool:
    """Whether ``device`` runs ``precision`` natively (fp32 always)."""
    return precision == "fp32" or _CAPABILITY.get(precision, "?") in capabilities(device)


def compile_model(path: Path, *, precision: str, device: str, threads: int) -> ov.CompiledModel:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": _HINTS[precision]}
    if device == "CPU":
        config["INFERENCE_NUM_THREADS"] = threads
        # Other programs share the cores: pinning threads to cores would fight them.
        config["ENABLE_CPU_PINNING"] = False
    return core().compile_model(str(path), device, config)


def infer(
    compiled: ov.CompiledModel, x: np.ndarray, cancel: CancelToken | None = None
) -> list[np.ndarray]:
    """All outputs of one call; Cancelled soon after ``cancel`` is set, even mid-call."""
    request = compiled.create_infer_request()
    if cancel is None:
        request.infer({0: x})
    else:
        cancel.raise_if_cancelled()
        request.start_async({0: x})
        try:
            while not request.wait_for(CANCEL_POLL_MS):
                if cancel.cancelled:
                    request.cancel()
                    break
        finally:
            # Also reached by an exception in the wait (a second Ctrl-C): the request must
            # not go on holding the cores and its memory after we return.
            with contextlib.suppress(Exception):
                request.wait()
        if cancel.cancelled:
            raise Cancelled("cancelled")
    return [np.array(request.get_output_tensor(i).data) for i in range(len(compiled.outputs))]


def psnr(reference: np.ndarray, other: np.ndarray) -> float:
    """PSNR in dB of ``other`` against ``reference`` (values in [0, 1], clamped)."""
    a = np.clip(reference.astype(np.float64), 0.0, 1.0)
    b = np.clip(other.astype(np.float64), 0.0, 1.0)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0.0 else 10.0 * float(np.log10(1.0 / mse))


def fidelity_crop(channels: int, size_multiple: int = 1) -> np.ndarray:
    """A fixed 1xCxSxS crop of a real photo (texture and flat sky) in [0, 1]."""
    side = -(-FIDELITY_SIDE // size_multiple) * size_multiple
    with Image.open(FIDELITY_PHOTO) as image:
        image = image.convert("RGB" if channels == 3 else "L")
        top, left = image.height // 4, image.width // 3
        crop = image.crop((left, top, left + side, top + side))
        array = np.asarray(crop, dtype=np.float32) / 255.0
    array = array[..., None] if array.ndim == 2 else array
    return np.ascontiguousarray(array.transpose(2, 0, 1)[None])


def precision_psnr(
    path: Path, precision: str, *, device: str, threads: int, x: np.ndarray
) -> float:
    """PSNR of ``precision`` against fp32 on ``x`` (first output), cached per machine."""
    key = "|".join((path.name, precision, device, device_name(device), ov.__version__))
    with _FIDELITY_LOCK:
        known = _read_fidelity()
        if key in known:
            return float(known[key])
        reference = infer(compile_model(path, precision="fp32", device=device, threads=threads), x)
        reduced = infer(compile_model(path, precision=precision, device=device, threads=threads), x)
        value = psnr(reference[0], reduced[0])
        known[key] = value if np.isfinite(value) else 999.0
        _write_fidelity(known)
        return float(known[key])


def _fidelity_file() -> Path:
    return cache_dir() / "runtime" / "fidelity.json"


def _read_fidelity() -> dict[str, float]:
    try:
        data = json.loads(_fidelity_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_fidelity(data: dict[str, float]) -> None:
    path = _fidelity_file()
    with contextlib.suppress(OSError):  # not cached: the next run checks again
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(data, indent=1, sort_keys=True).encode())


class OpenVinoBackend:
    """The model's cached ONNX export run by OpenVINO on ``device`` at ``precision``.

    ``precision=None`` picks the fastest this device supports whose check passes (bf16, then
    fp32); an explicit reduced precision that fails the check raises ModelError.
    """

    def __init__(
        self,
        descriptor,  # ModelDescriptor (not imported: backends imports this module)
        *,
        threads: int,
        precision: str | None = None,
        device: str = "CPU",
        onnx_file: Path,
    ) -> None:
        self.descriptor = descriptor
        self.device = device
        self.threads = threads
        self.path = onnx_file
        self.fidelity_db: float | None = None
        self.precision = self._choose(precision)
        try:
            self._compiled = compile_model(
                self.path, precision=self.precision, device=device, threads=threads
            )
        except Exception as error:
            raise ModelError(
                f"{self.path}: OpenVINO cannot compile this model's export for {device} "
                f"({_first_line(error)}); use --backend onnx"
            ) from None
        self.name = runtime_label(device, self.precision)

    def _choose(self, precision: str | None) -> str:
        wanted: Sequence[str] = (precision,) if precision else ("bf16", "fp32")
        for candidate in wanted:
            if candidate == "fp32":
                return candidate
            if not supports(candidate, self.device):
                if precision:
                    raise ModelError(f"OpenVINO {self.device} has no {candidate} here")
                continue
            x = fidelity_crop(self.descriptor.in_channels, self.descriptor.size_multiple)
            value = precision_psnr(
                self.path, candidate, device=self.device, threads=self.threads, x=x
            )
            if value >= MIN_PSNR_DB:
                self.fidelity_db = value
                return candidate
            if precision:
                raise ModelError(
                    f"OpenVINO {candidate} output is {value:.1f} dB from fp32 for "
                    f"{self.descriptor.name} (needs {MIN_PSNR_DB:g} dB); use fp32"
                )
        return "fp32"

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        if x.ndim != 4:
            raise ValueError(f"expected an NCHW array, got shape {x.shape}")
        return infer(self._compiled, np.ascontiguousarray(x, dtype=np.float32), cancel)[0]


def runtime_label(device: str, precision: str) -> str:
    """How a runtime is named to the user: "openvino-bf16", "openvino-gpu-fp16"."""
    prefix = "openvino" if device == "CPU" else f"openvino-{device.lower()}"
    return f"{prefix}-{precision}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
