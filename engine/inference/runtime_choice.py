"""``--backend auto``: the fastest runtime this computer has for one model, measured once.

On first use of a model on a computer every candidate this CPU supports (onnxruntime fp32,
OpenVINO fp32, OpenVINO bf16 where the CPU lists BF16 and the output passes its check against
fp32, any GPU or NPU that OpenVINO lists, and PyTorch's CUDA GPU where it sees one) runs a
short fixed input; the fastest wins. A GPU or NPU must also give the CPU's output (PSNR >=
``MIN_PSNR_DB`` against onnxruntime fp32 on the probe, a crop of a real photo); one that fails
that check, or errors at load or at run, is left out and the CPU candidates remain. The choice
is cached per model weights and machine: the key holds the CPU, the thread count and every
library version, so a new CPU, a library upgrade or new weights measure again.

onnxruntime is the baseline: another runtime is only chosen when it beats it by
:data:`MIN_GAIN`, so timing noise can never make auto slower than the runtime it replaces.
"""

from __future__ import annotations

import contextlib
import json
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from engine.errors import ModelError
from engine.files import atomic_write_bytes
from engine.models.descriptor import ModelDescriptor
from engine.paths import cache_dir

PROBE_SIDE = 64  # LR pixels per side of the timed input: a teacher call stays near a second
PROBE_RUNS = 3  # timed calls per candidate, after one warm-up; the median counts
MIN_GAIN = 1.05  # a runtime must beat onnxruntime by 5 % to replace it
_LOCK = threading.Lock()


@dataclass(frozen=True, kw_only=True)
class Candidate:
    kind: str  # "onnx" | "openvino" | "torch"
    precision: str = "fp32"
    device: str = "CPU"

    @property
    def label(self) -> str:
        if self.kind == "torch" and self.device.lower().startswith("cuda"):
            return "torch-cuda"
        if self.kind != "openvino":
            return self.kind
        prefix = "openvino" if self.device == "CPU" else f"openvino-{self.device.lower()}"
        return f"{prefix}-{self.precision}"


@dataclass(frozen=True, kw_only=True)
class Choice:
    """The runtime auto picked, and every candidate's median time on the probe (ms)."""

    candidate: Candidate
    times_ms: dict[str, float]
    errors: dict[str, str]

    @property
    def speedup(self) -> float | None:
        """How much faster than onnxruntime fp32 the chosen runtime ran the probe."""
        base = self.times_ms.get("onnx")
        mine = self.times_ms.get(self.candidate.label)
        return base / mine if base and mine else None

    def describe(self) -> str:
        """One line for the CLI and the app: which runtime runs, and why."""
        ms = self.times_ms.get(self.candidate.label)
        if self.speedup is None or self.candidate.kind == "onnx":
            others = ", ".join(f"{k} {v:.0f} ms" for k, v in self.times_ms.items())
            return f"runtime {self.candidate.label} (auto; {others or 'only candidate'})"
        return (
            f"runtime {self.candidate.label} (auto: {self.speedup:.1f}x faster than onnx here, "
            f"{ms:.0f} ms per {PROBE_SIDE}px probe)"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "runtime": self.candidate.label,
            "candidate": asdict(self.candidate),
            "probe_ms": self.times_ms,
            "speedup_vs_onnx": round(self.speedup, 3) if self.speedup else None,
            "errors": self.errors,
        }


def candidates(descriptor: ModelDescriptor) -> list[Candidate]:
    """What this computer can run ``descriptor`` on, onnxruntime first (the CPU ones first)."""
    gpu = [Candidate(kind="torch", device="cuda")] if cuda_available() else []
    if not descriptor.onnx_exportable:
        return [Candidate(kind="torch"), *gpu]
    from engine.inference import openvino_backend as ov

    found = [Candidate(kind="onnx"), Candidate(kind="openvino")]
    if ov.supports("bf16"):
        found.append(Candidate(kind="openvino", precision="bf16"))
    for device in ov.devices():
        if device.startswith(("GPU", "NPU")):
            precision = "fp16" if ov.supports("fp16", device) else "fp32"
            found.append(Candidate(kind="openvino", precision=precision, device=device))
    return found + gpu


def cuda_available() -> bool:
    """Whether PyTorch sees a CUDA GPU (False on any driver trouble)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def machine_key(descriptor: ModelDescriptor, threads: int) -> str:
    """What the choice depends on: weights, CPU, threads, runtimes' versions, bf16 switch."""
    import onnxruntime

    from engine.inference import openvino_backend as ov

    caps = ",".join(sorted(ov.capabilities("CPU")))
    return "|".join(
        (
            descriptor.weights_id()[:16],
            ov.device_name("CPU") or platform.processor(),
            caps,
            f"threads={threads}",
            f"ort={onnxruntime.__version__}",
            f"ov={ov.ov.__version__}",
            f"devices={','.join(ov.devices())}",
            f"cuda={int(cuda_available())}",
        )
    )


def _choices_file():
    return cache_dir() / "runtime" / "auto.json"


def _read_all() -> dict[str, dict]:
    try:
        data = json.loads(_choices_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _from_dict(entry: object) -> Choice | None:
    """A cached choice, or None where the entry is not one (an older or damaged file)."""
    try:
        candidate = Candidate(**entry["candidate"])  # type: ignore[index]
        times = {str(k): float(v) for k, v in entry["probe_ms"].items()}  # type: ignore[index]
        errors = {str(k): str(v) for k, v in entry.get("errors", {}).items()}  # type: ignore[union-attr]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Choice(candidate=candidate, times_ms=times, errors=errors)


def cached_choice(descriptor: ModelDescriptor, threads: int) -> Choice | None:
    """The choice measured before on this machine, without measuring (None: not yet)."""
    return _from_dict(_read_all().get(machine_key(descriptor, threads)))


def _time(run: Callable[[np.ndarray], object], x: np.ndarray) -> float:
    """Median ms of PROBE_RUNS calls (the caller has made the warm-up call)."""
    runs = []
    for _ in range(PROBE_RUNS):
        start = time.perf_counter()
        run(x)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000.0


def choose(
    descriptor: ModelDescriptor,
    threads: int,
    *,
    build: Callable[[Candidate], object],
) -> tuple[Choice, object]:
    """The cached choice (its backend built) or a fresh measurement of every candidate.

    ``build(candidate)`` makes the backend (an object with ``run``); it may raise ModelError
    (e.g. bf16 failed its fidelity check), which removes that candidate. Returns the choice
    and the chosen backend, ready to run.
    """
    with _LOCK:
        key = machine_key(descriptor, threads)
        known = _from_dict(_read_all().get(key))
        if known is not None:
            try:
                return known, build(known.candidate)
            except ModelError:
                pass  # the cached runtime no longer loads here: measure again
        from engine.inference.openvino_backend import fidelity_crop

        x = fidelity_crop(descriptor.in_channels, descriptor.size_multiple)[
            ..., :PROBE_SIDE, :PROBE_SIDE
        ]
        times: dict[str, float] = {}
        errors: dict[str, str] = {}
        built: dict[str, tuple[Candidate, object]] = {}
        reference: np.ndarray | None = None  # the first CPU candidate's output
        for candidate in candidates(descriptor):
            accelerator = candidate.device != "CPU"
            try:
                backend = build(candidate)
                # The warm-up call (first calls allocate and compile kernels) and its output.
                y = np.asarray(backend.run(x))  # type: ignore[attr-defined]
                if accelerator:
                    _check_against_cpu(reference, y)
                elif reference is None:
                    reference = y
                times[candidate.label] = round(_time(backend.run, x), 2)  # type: ignore[attr-defined]
            except ModelError as error:
                errors[candidate.label] = str(error)
                continue
            except Exception as error:
                # A GPU driver, its memory or its compiler failing: the CPU candidates stay.
                if not accelerator:
                    raise
                errors[candidate.label] = f"{type(error).__name__}: {error}".splitlines()[0]
                continue
            built[candidate.label] = (candidate, backend)
        if not built:
            raise ModelError(
                f"model {descriptor.name}: no runtime can run it here ("
                + "; ".join(f"{k}: {v}" for k, v in errors.items())
                + ")"
            )
        best = _pick(times)
        candidate, backend = built[best]
        choice = Choice(candidate=candidate, times_ms=times, errors=errors)
        data = _read_all()
        data[key] = choice.as_dict()
        path = _choices_file()
        # A cache that cannot be written (full, read-only) only costs the next run a probe.
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, json.dumps(data, indent=1, sort_keys=True).encode())
        return choice, backend


def _check_against_cpu(reference: np.ndarray | None, y: np.ndarray) -> None:
    """ModelError unless a GPU/NPU output is within MIN_PSNR_DB of the CPU's."""
    from engine.inference.openvino_backend import MIN_PSNR_DB, psnr

    if reference is None:
        raise ModelError("no CPU runtime ran the probe to check this device against")
    value = psnr(reference, y) if reference.shape == y.shape else float("-inf")
    if not value >= MIN_PSNR_DB:
        raise ModelError(
            f"its output is {value:.1f} dB from the CPU's (needs {MIN_PSNR_DB:g} dB): not used"
        )


def _pick(times: dict[str, float]) -> str:
    """The fastest label; onnxruntime unless another beats it by MIN_GAIN."""
    fastest = min(times, key=times.__getitem__)
    base = times.get("onnx")
    if base is not None and times[fastest] * MIN_GAIN > base:
        return "onnx"
    return fastest
