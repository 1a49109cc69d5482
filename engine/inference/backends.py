"""Run a model on an NCHW float32 array with PyTorch, onnxruntime or OpenVINO.

PyTorch and onnxruntime agree within 1/255; OpenVINO (``openvino_backend``) runs the same
ONNX export, at fp32 or, where the CPU has it and a check on a real photo passes, bf16.

The ONNX file is exported once per model and weights (``cache_dir()/onnx/``) with dynamic
batch, height and width, and checked against PyTorch at a second size before it is cached, so
a tracer that froze a shape into the graph is caught at export time instead of producing
wrong pixels later.

Exporter choice (verified on torch 2.13.0): the dynamo exporter (``dynamo=True``, the default
since torch 2.9) needs the ``onnxscript`` package; the TorchScript exporter (``dynamo=False``)
works with what we ship, exports RRDBNet, pixel shuffle and bicubic/nearest resizes with
dynamic axes, and only emits a DeprecationWarning, which we silence where we call it.

Cancellation inside one call (a 512 px teacher tile takes minutes on two cores): PyTorch
checks the token in a forward pre-hook of every submodule, so it stops before the next layer;
onnxruntime is stopped through ``RunOptions.terminate`` before its next node (see
``engine.inference.abortable``). Either way the call raises ``Cancelled``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from engine.errors import ModelError, StorageError
from engine.events import CancelToken
from engine.inference.abortable import cancel_hooks, run_session_abortable
from engine.models.descriptor import ModelDescriptor
from engine.paths import cache_dir

BackendKind = Literal["auto", "onnx", "openvino", "torch"]
BACKEND_KINDS: tuple[BackendKind, ...] = ("auto", "onnx", "openvino", "torch")

ONNX_OPSET = 17
EXPORT_SIDE = 32  # traced input side; the check runs at a different, non-square size
EXPORT_TOLERANCE = 1.0 / 255.0
TORCH_HINT = "--backend torch needs no export"  # make_room's advice for a model's export
_EXPORT_LOCK = threading.Lock()

_OOM_MARKERS = (
    "out of memory",
    "can't allocate memory",  # torch's DefaultCPUAllocator
    "cannot allocate memory",
    "failed to allocate memory",  # onnxruntime's BFCArena
    "bad_alloc",
    "bad allocation",
)


class Backend(Protocol):
    """Runs one model: NCHW float32 in [0, 1] in, NCHW float32 out (not clamped).

    ``run`` raises ``Cancelled`` soon after ``cancel`` is set, even in the middle of the call.
    """

    name: str

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray: ...


def available_threads() -> int:
    """Cores this process may use (the affinity mask, not the machine's total)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def is_out_of_memory(error: BaseException) -> bool:
    """True for allocation failures of numpy, PyTorch (CPU or GPU) and onnxruntime."""
    if isinstance(error, MemoryError):
        return True
    message = str(error).lower()
    return any(marker in message for marker in _OOM_MARKERS)


def _as_input(x: np.ndarray) -> np.ndarray:
    if x.ndim != 4:
        raise ValueError(f"expected an NCHW array, got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


class TorchBackend:
    """The model's PyTorch module under ``torch.inference_mode``, on the CPU or, with
    ``device="cuda"``, on PyTorch's CUDA GPU (auto checks its output against the CPU's)."""

    name = "torch"

    def __init__(
        self, descriptor: ModelDescriptor, *, threads: int | None = None, device: str = "CPU"
    ) -> None:
        self.descriptor = descriptor
        self.threads = threads or available_threads()
        self.device = "cuda" if device.lower().startswith("cuda") else "cpu"
        torch.set_num_threads(self.threads)
        module = descriptor.load().eval()
        if self.device == "cuda":
            self.name = "torch-cuda"
            try:
                if not torch.cuda.is_available():
                    raise RuntimeError("PyTorch sees no CUDA GPU")
                module = module.to(self.device)
            except Exception as error:  # a driver or memory problem: not this runtime
                raise ModelError(
                    f"PyTorch cannot load {descriptor.name!r} on the CUDA GPU "
                    f"({_first_line(error)}); use --backend onnx"
                ) from None
        self._module = module

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        tensor = torch.from_numpy(_as_input(x)).to(self.device)
        with torch.inference_mode(), cancel_hooks(self._module, cancel):
            y = self._module(tensor)
        return y.float().cpu().numpy()


class OnnxBackend:
    """The model exported to ONNX (cached), run by onnxruntime's CPU execution provider."""

    name = "onnx"

    def __init__(self, descriptor: ModelDescriptor, *, threads: int | None = None) -> None:
        self.descriptor = descriptor
        self.threads = threads or available_threads()
        self.path = ensure_onnx(descriptor)
        try:
            self._session = onnx_session(self.path, self.threads)
        except ModelError:
            raise
        except Exception:
            # A damaged cache file (disk trouble, a crash of another tool): rebuild it once.
            try:
                self.path.unlink(missing_ok=True)
            except OSError as error:
                raise _cache_error(self.path, error) from None
            self.path = ensure_onnx(descriptor)
            try:
                self._session = onnx_session(self.path, self.threads)
            except Exception as error:
                raise ModelError(
                    f"{self.path}: onnxruntime cannot open this model's export "
                    f"({_first_line(error)}); use --backend torch"
                ) from None
        self._input = self._session.get_inputs()[0].name

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        inputs = {self._input: _as_input(x)}
        if cancel is None:
            (y,) = self._session.run(None, inputs)
        else:
            (y,) = run_session_abortable(self._session, inputs, cancel)
        return y


def make_backend(
    descriptor: ModelDescriptor,
    kind: BackendKind,
    *,
    threads: int | None = None,
    precision: str | None = None,
    device: str = "CPU",
) -> Backend:
    """The backend of ``kind`` for ``descriptor`` (threads: default all usable cores).

    ``precision`` applies to OpenVINO (None: bf16 where it is native and passes its check,
    else fp32); ``device`` to OpenVINO ("CPU", "GPU.0", "NPU") and PyTorch ("CPU", "cuda").
    ModelError if the model cannot run there (e.g. no ONNX export, no CUDA GPU).
    """
    if kind == "auto":
        return _auto_backend(descriptor, threads or available_threads())
    if kind == "torch":
        return TorchBackend(descriptor, threads=threads, device=device)
    if kind == "onnx":
        return OnnxBackend(descriptor, threads=threads)
    if kind == "openvino":
        # Imported here: OpenVINO's import costs time that onnx/torch runs need not pay.
        from engine.inference.openvino_backend import OpenVinoBackend

        return OpenVinoBackend(
            descriptor,
            threads=threads or available_threads(),
            precision=precision,
            device=device,
            onnx_file=ensure_onnx(descriptor),
        )
    raise ValueError(f"unknown backend {kind!r}; choose one of {', '.join(BACKEND_KINDS)}")


def _auto_backend(descriptor: ModelDescriptor, threads: int) -> Backend:
    """The runtime ``runtime_choice`` measured fastest here; its ``name`` says "(auto)" and
    ``choice`` keeps the measurement for the one line the CLI and the app show."""
    from engine.inference.runtime_choice import choose

    def build(candidate) -> Backend:
        return make_backend(
            descriptor,
            candidate.kind,
            threads=threads,
            precision=candidate.precision if candidate.kind == "openvino" else None,
            device=candidate.device,
        )

    choice, backend = choose(descriptor, threads, build=build)
    backend.name = f"{choice.candidate.label} (auto)"
    backend.choice = choice  # type: ignore[attr-defined]
    return backend


def onnx_path(descriptor: ModelDescriptor) -> Path:
    """Where the export of this model and these weights is cached."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", descriptor.name).strip("._") or "model"
    return cache_dir() / "onnx" / f"{safe_name}-{descriptor.weights_id()[:16]}.onnx"


def ensure_onnx(descriptor: ModelDescriptor) -> Path:
    """Path of the cached export, exporting and checking it first if it is not there yet."""
    path = onnx_path(descriptor)
    if path.is_file():
        return path
    if not descriptor.onnx_exportable:
        raise ModelError(
            f"model {descriptor.name!r} cannot be exported to ONNX; use the torch backend"
        )
    make_room(path, hint=TORCH_HINT)
    module = descriptor.load().eval()
    # A temp file in the same folder, then os.replace: a crash or a concurrent export never
    # leaves a half-written file under the final name.
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        os.close(fd)
    except OSError as error:
        raise _cache_error(path, error) from None
    tmp = Path(tmp_name)
    try:
        _export(module, descriptor, tmp)
        _check_export(module, descriptor, tmp)
        os.replace(tmp, path)
    except OSError as error:
        raise _cache_error(path, error) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def make_room(path: Path, *, hint: str | None) -> None:
    """The cache folder of the ONNX export ``path`` made, with damaged entries moved aside
    to be rebuilt: a folder where the export file goes, a file where the ``onnx`` folder goes.

    When that fails, a StorageError naming the folder, ending with ``hint`` (what the user
    can do instead, e.g. ``TORCH_HINT``; None: only how to move the cache)."""
    try:
        if os.path.lexists(path.parent) and not path.parent.is_dir():
            _move_aside(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            _move_aside(path)
    except OSError as error:
        raise _cache_error(path, error, hint=hint) from None


def _move_aside(entry: Path) -> None:
    """Rename a damaged cache entry (kept, not deleted: it is not known to be ours)."""
    os.rename(entry, entry.with_name(f"{entry.name}.damaged-{os.getpid()}-{time.time_ns()}"))


def _cache_error(path: Path, error: OSError, *, hint: str | None = TORCH_HINT) -> StorageError:
    reason = error.strerror or _first_line(error)
    return StorageError(
        path.parent,
        f"cannot write the ONNX export {path.name} in the cache "
        f"({reason[:1].lower() + reason[1:]}); MFAGAN_CACHE_DIR moves the cache"
        + (f", {hint}" if hint else ""),
    )


def _export(module: nn.Module, descriptor: ModelDescriptor, path: Path) -> None:
    side = _round_up(EXPORT_SIDE, descriptor.size_multiple)
    dummy = torch.rand(1, descriptor.in_channels, side, side)
    axes = {0: "batch", 2: "height", 3: "width"}
    try:
        # One export at a time: warning filters are process-wide, and two threads exporting
        # would race on them (and do the same work twice).
        with _EXPORT_LOCK, warnings.catch_warnings():
            # The TorchScript exporter's deprecation and tracer warnings: the check below
            # verifies the result, so they would only be noise for the user.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (dummy,),
                str(path),
                dynamo=False,
                opset_version=ONNX_OPSET,
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": axes, "output": dict(axes)},
            )
    except Exception as error:
        raise ModelError(
            f"could not export {descriptor.name!r} to ONNX ({_first_line(error)}); "
            "use the torch backend"
        ) from error


def _check_export(module: nn.Module, descriptor: ModelDescriptor, path: Path) -> None:
    """Compare with PyTorch at a size other than the traced one (catches frozen shapes)."""
    m = descriptor.size_multiple
    height = _round_up(EXPORT_SIDE // 2 + 3, m)
    width = _round_up(EXPORT_SIDE // 2 + 3 * m + 5, m)
    x = np.random.default_rng(0).random((1, descriptor.in_channels, height, width))
    x = x.astype(np.float32)
    with torch.inference_mode():
        expected = module(torch.from_numpy(x)).float().numpy()
    try:
        session = onnx_session(path, available_threads())
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
    except Exception as error:
        raise ModelError(
            f"the ONNX export of {descriptor.name!r} does not run ({_first_line(error)}); "
            "use the torch backend"
        ) from error
    diff = float(np.abs(got - expected).max()) if got.shape == expected.shape else np.inf
    if not diff <= EXPORT_TOLERANCE:
        raise ModelError(
            f"the ONNX export of {descriptor.name!r} differs from PyTorch "
            f"(shape {got.shape} vs {expected.shape}, max diff {diff:.3g}); "
            "use the torch backend"
        )


def onnx_session(path: Path, threads: int) -> ort.InferenceSession:
    """An onnxruntime CPU session of the ONNX file at ``path`` on ``threads`` cores, as every
    ONNX run here is set up (the backend, host latency timings)."""
    if "CPUExecutionProvider" not in ort.get_available_providers():
        raise ModelError("onnxruntime has no CPU execution provider; use the torch backend")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Failures (out of memory included) reach us as exceptions; onnxruntime would also print
    # them to stderr, which clutters the CLI's progress bar.
    options.log_severity_level = 4
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
