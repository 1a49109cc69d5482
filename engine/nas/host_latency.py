"""A latency model of *this computer*: the runtime ``--backend auto`` picks, fitted on timed
subnets.

The target is the desktop app's own path: a ``size`` x ``size`` photo (512 by default)
through a subnet on the runtime auto runs the default model on here, with every core
(:func:`host_runtime`: onnxruntime fp32, OpenVINO fp32/bf16 or a GPU, as
:mod:`engine.inference.runtime_choice` measured; picked once per search, and every subnet is
timed on it from its ONNX export, or as a PyTorch module for a torch runtime). A handful
of subnets spread over the space (smallest to largest, with and without half-resolution
paths) are exported and timed (the fastest of three rounds that each run
every subnet once: the run least disturbed by other processes), then fitted with
``ms = a * GMACs + b * GB moved + c`` (non-negative least squares on relative error). How
well that fits is said, not assumed: the leave-one-out error over the timed subnets
becomes the estimate's band.

Timing takes a minute or so, so the fitted model is cached (JSON under the cache folder)
per machine, runtime (and its version), thread count and size; a model fitted on another
runtime is fitted again; ``refit`` redoes it.
"""

from __future__ import annotations

import hashlib
import json
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from engine.errors import MfaganError, ModelError
from engine.events import CancelToken, Event, Finished, Progress
from engine.files import atomic_write_bytes
from engine.inference.backends import onnx_session
from engine.inference.runtime_choice import Candidate
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.nas.latency import ReferencePoint
from engine.paths import cache_dir
from engine.phones.mfa_ops import mfa_ops
from engine.phones.model import LatencyEstimate, does_work

FORMAT_VERSION = 3  # 3: the runtime is part of the model (2 was onnxruntime only)
HOST_SIZE = 512
ROUNDS = 3
TIMED_CONFIGS = tuple(
    MFAConfig.decode(text)
    for text in (
        "b2-c16-g8-h00-conv-x4",
        "b2-c24-g16-h11-conv-x4",
        "b3-c32-g16-h010-conv-x4",
        "b4-c16-g16-h1111-conv-x4",
        "b4-c48-g24-h0000-conv-x4",
        "b5-c32-g32-h10101-conv-x4",
        "b6-c24-g8-h111111-conv-x4",
        "b6-c48-g32-h111111-conv-x4",
    )
)


def features(config: MFAConfig, size: int) -> np.ndarray:
    """[GMACs, GB moved, 1] of one forward at size x size (analytic op list)."""
    ops = [op for op in mfa_ops(config, size, size).ops if does_work(op)]
    macs = sum(op.macs for op in ops)
    moved = sum(op.memory_access_bytes for op in ops)
    return np.array([macs / 1e9, moved / 1e9, 1.0])


def fit(rows: np.ndarray, ms: np.ndarray) -> np.ndarray:
    """Non-negative coefficients minimising squared relative error (active-set NNLS)."""
    design, target = rows / ms[:, None], np.ones_like(ms)
    active = list(range(rows.shape[1]))
    while True:
        coef = np.zeros(rows.shape[1])
        coef[active] = np.linalg.lstsq(design[:, active], target, rcond=None)[0]
        negative = [i for i in active if coef[i] < 0]
        if not negative:
            return coef
        active.remove(min(negative, key=lambda i: coef[i]))


def leave_one_out(rows: np.ndarray, ms: np.ndarray) -> list[float]:
    """Relative error of each timed subnet predicted by a fit to the others."""
    errors = []
    for i in range(len(ms)):
        keep = np.arange(len(ms)) != i
        predicted = float(rows[i] @ fit(rows[keep], ms[keep]))
        errors.append(abs(predicted - ms[i]) / ms[i])
    return errors


@dataclass(frozen=True, kw_only=True)
class HostLatency:
    """The fitted model; ``timed`` keeps each subnet's fastest run (ms)."""

    size: int
    threads: int
    coefficients: tuple[float, ...]
    timed: tuple[tuple[str, float], ...]
    loo_errors: tuple[float, ...]
    machine: str
    runtime: str = "onnx"  # Candidate.label of what timed the subnets
    runtime_version: str = ""  # e.g. "onnxruntime 1.22.0"

    def estimate(self, config: MFAConfig) -> LatencyEstimate:
        ms = float(features(config, self.size) @ np.array(self.coefficients))
        return LatencyEstimate.banded(
            ms, relative_error=max(self.loo_errors), basis=self.describe()
        )

    def __call__(self, config: MFAConfig) -> float:
        return self.estimate(config).ms

    def describe(self) -> str:
        mean = statistics.fmean(self.loo_errors)
        return (
            f"this computer ({self.machine}), runtime {self.runtime} "
            f"({self.runtime_version or 'auto'}; what --backend auto runs here), "
            f"{self.threads} threads, {self.size}x{self.size} photo: linear model in MACs, "
            f"bytes fitted on {len(self.timed)} timed subnets, leave-one-out "
            f"error {mean:.1%} mean, {max(self.loo_errors):.1%} max"
        )

    def label(self) -> str:
        return f"this computer ({self.runtime}), {self.size}x{self.size} photo"

    def references(self) -> tuple[ReferencePoint, ...]:
        return ()  # no published figures for this machine

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "size": self.size,
            "threads": self.threads,
            "coefficients": list(self.coefficients),
            "timed": [list(t) for t in self.timed],
            "loo_errors": list(self.loo_errors),
            "machine": self.machine,
            "runtime": self.runtime,
            "runtime_version": self.runtime_version,
        }


def host_runtime(threads: int) -> Candidate:
    """The runtime ``--backend auto`` runs the default model on here (measured once and
    cached by runtime_choice); onnxruntime fp32 where auto cannot measure it."""
    from engine.inference.backends import make_backend
    from engine.inference.runtime_choice import cached_choice
    from engine.models.registry import default_model_name, get_model

    try:
        descriptor = get_model(default_model_name())
        known = cached_choice(descriptor, threads)
        if known is not None:
            return known.candidate
        return make_backend(descriptor, "auto", threads=threads).choice.candidate  # type: ignore[attr-defined]
    except (ModelError, OSError):
        return Candidate(kind="onnx")


def runtime_version(runtime: Candidate) -> str:
    if runtime.kind == "openvino":
        from engine.inference.openvino_backend import ov

        return f"OpenVINO {ov.__version__} {runtime.device}"
    if runtime.kind == "torch":
        return f"PyTorch {torch.__version__} {runtime.device}"
    return f"onnxruntime {ort.__version__} CPU"


def machine_name() -> str:
    return f"{platform.processor() or platform.machine()}, {platform.system()}"


def export_config(config: MFAConfig, path: Path) -> None:
    """The config's ONNX export at random weights (latency does not depend on them)."""
    net = MFAGenerator(config).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript exporter deprecation noise
        torch.onnx.export(
            net, (torch.rand(1, 3, 64, 64),), str(path), dynamo=False, opset_version=17,
            input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {2: "h", 3: "w"}, "output": {2: "h", 3: "w"}},
        )  # fmt: skip


ONNX_RUNTIME = Candidate(kind="onnx")


def time_once(
    path: Path, size: int, threads: int, runtime: Candidate = ONNX_RUNTIME,
    config: MFAConfig | None = None,
) -> float:  # fmt: skip
    """ms of one run of a subnet on ``runtime``, after a warm-up run: its ONNX export
    (``path``) on onnxruntime or OpenVINO, or ``config``'s module on PyTorch."""
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    run = _runner(path, threads, runtime, config)
    run(x)  # allocations, kernel selection
    start = time.perf_counter()
    run(x)
    return (time.perf_counter() - start) * 1000


def _runner(path: Path, threads: int, runtime: Candidate, config: MFAConfig | None):
    """One run of the subnet on ``runtime``, from the pieces the backends are built of.

    Not ``make_backend``: it takes a registered model (weights hashed, an export cached per
    model) and its torch backend's cancel hooks would add their cost to every timing.
    """
    if runtime.kind == "openvino":
        from engine.inference import openvino_backend as ovb

        compiled = ovb.compile_model(
            path, precision=runtime.precision, device=runtime.device, threads=threads
        )
        return lambda x: ovb.infer(compiled, x)
    if runtime.kind == "torch":
        if config is None:
            raise ValueError("timing on PyTorch needs the subnet's config")
        device = "cuda" if runtime.device.lower().startswith("cuda") else "cpu"
        torch.set_num_threads(threads)
        net = MFAGenerator(config).eval().to(device)

        def run_torch(x: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                y = net(torch.from_numpy(x).to(device))
                if device == "cuda":
                    torch.cuda.synchronize()
            return y.cpu().numpy()

        return run_torch
    session = onnx_session(path, threads)
    return lambda x: session.run(None, {"input": x})


def time_configs(
    configs: Sequence[MFAConfig], size: int, threads: int, *, rounds: int = ROUNDS,
    cancel: CancelToken | None = None, runtime: Candidate = ONNX_RUNTIME,
) -> Generator[Event, None, list[float]]:  # fmt: skip
    """Fastest ms of each config over ``rounds`` rounds that each time every config once:
    a burst of load from other processes then slows one run of every config, not all runs
    of one, and the minimum keeps the least disturbed run."""
    runs = yield from time_config_runs(
        configs, size, threads, rounds=rounds, cancel=cancel, runtime=runtime
    )
    return [min(ms) for ms in runs]


def time_config_runs(
    configs: Sequence[MFAConfig], size: int, threads: int, *, rounds: int = ROUNDS,
    cancel: CancelToken | None = None, runtime: Candidate = ONNX_RUNTIME,
) -> Generator[Event, None, list[list[float]]]:  # fmt: skip
    """Every run's ms of each config, in ``rounds`` interleaved rounds (see time_configs)."""
    runs: list[list[float]] = [[] for _ in configs]
    total = len(configs) * (rounds + 1)
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"{c.encode()}.onnx" for c in configs]
        for i, (config, path) in enumerate(zip(configs, paths, strict=True)):
            yield Progress(stage="timing subnets on this computer", done=i, total=total)
            export_config(config, path)
        for r in range(rounds):
            for i, path in enumerate(paths):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                done = len(paths) * (r + 1) + i
                yield Progress(stage="timing subnets on this computer", done=done, total=total)
                runs[i].append(time_once(path, size, threads, runtime, configs[i]))
    yield Progress(stage="timing subnets on this computer", done=total, total=total)
    return runs


def _cache_path(
    size: int, threads: int, configs: Sequence[MFAConfig], runtime: Candidate = ONNX_RUNTIME
) -> Path:
    names = ",".join(c.encode() for c in configs)
    where = f"{runtime.label}|{runtime_version(runtime)}"
    text = f"v{FORMAT_VERSION}|{machine_name()}|{where}|{threads}|{size}|{names}"
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    return cache_dir() / "nas" / f"host-latency-{key}.json"


def _load(path: Path, runtime: Candidate = ONNX_RUNTIME) -> HostLatency | None:
    """The cached model, or None where there is none fitted on ``runtime`` (another
    runtime's, an older format's or a damaged file are fitted again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION or data.get("runtime") != runtime.label:
            return None
        return HostLatency(
            size=int(data["size"]),
            threads=int(data["threads"]),
            coefficients=tuple(float(c) for c in data["coefficients"]),
            timed=tuple((str(k), float(v)) for k, v in data["timed"]),
            loo_errors=tuple(float(e) for e in data["loo_errors"]),
            machine=str(data["machine"]),
            runtime=str(data["runtime"]),
            runtime_version=str(data.get("runtime_version", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def host_latency(
    *,
    size: int = HOST_SIZE,
    threads: int,
    configs: Sequence[MFAConfig] | None = None,
    refit: bool = False,
    cancel: CancelToken | None = None,
    runtime: Candidate | None = None,
) -> Generator[Event, None, None]:
    """The cached model of this computer, or a new fit; ends with ``Finished(HostLatency)``.

    ``runtime``: what times the subnets; None: :func:`host_runtime`, picked once here."""
    configs = tuple(configs or TIMED_CONFIGS)
    if len(configs) < 5:
        raise ValueError("the host model has 3 coefficients: time at least 5 subnets")
    if runtime is None:
        yield Progress(stage="choosing this computer's runtime", done=0, total=1)
        runtime = host_runtime(threads)
    path = _cache_path(size, threads, configs, runtime)
    cached = None if refit else _load(path, runtime)
    if cached is not None:
        yield Finished(result=cached)
        return
    ms = np.array((yield from time_configs(configs, size, threads, cancel=cancel, runtime=runtime)))
    timed = [(c.encode(), float(t)) for c, t in zip(configs, ms, strict=True)]
    rows = np.stack([features(c, size) for c in configs])
    model = HostLatency(
        size=size,
        threads=threads,
        coefficients=tuple(float(c) for c in fit(rows, ms)),
        timed=tuple(timed),
        loo_errors=tuple(float(e) for e in leave_one_out(rows, ms)),
        machine=machine_name(),
        runtime=runtime.label,
        runtime_version=runtime_version(runtime),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(model.as_dict(), indent=2).encode("utf-8"))
    except OSError as error:
        raise MfaganError(f"cannot cache the latency model in {path.parent}: {error}") from None
    yield Finished(result=model)
