"""A latency model of *this computer*: onnxruntime on its CPU, fitted on timed subnets.

The target is the desktop app's own path: a ``size`` x ``size`` photo (512 by default)
through the ONNX export of a subnet on onnxruntime's CPU provider with every core. A
handful of subnets spread over the space (smallest to largest, with and without
half-resolution paths) are exported and timed (the fastest of a few runs after a warm-up:
the run least disturbed by other processes), then fitted with ``ms = a * GMACs + b * GB
moved + c`` (non-negative least squares on relative error). How well that fits is said,
not assumed: the leave-one-out error over the timed subnets becomes the estimate's band.

Timing takes a minute or so, so the fitted model is cached (JSON under the cache folder)
per machine, onnxruntime version, thread count and size; ``refit`` redoes it.
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

from engine.errors import MfaganError
from engine.events import CancelToken, Event, Finished, Progress
from engine.files import atomic_write_bytes
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.nas.latency import ReferencePoint
from engine.paths import cache_dir
from engine.phones.mfa_ops import mfa_ops
from engine.phones.model import LatencyEstimate, does_work

FORMAT_VERSION = 2
HOST_SIZE = 512
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
            f"this computer ({self.machine}), onnxruntime {ort.__version__} CPU, "
            f"{self.threads} threads, {self.size}x{self.size} photo: linear model in MACs, "
            f"bytes fitted on {len(self.timed)} timed subnets, leave-one-out "
            f"error {mean:.1%} mean, {max(self.loo_errors):.1%} max"
        )

    def label(self) -> str:
        return f"this computer (onnxruntime CPU), {self.size}x{self.size} photo"

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
        }


def machine_name() -> str:
    return f"{platform.processor() or platform.machine()}, {platform.system()}"


def time_config(config: MFAConfig, size: int, threads: int, *, repeats: int = 3) -> float:
    """Fastest ms of the config's ONNX export (random weights) on onnxruntime's CPU."""
    net = MFAGenerator(config).eval()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "subnet.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                net, (torch.rand(1, 3, 64, 64),), str(path), dynamo=False, opset_version=17,
                input_names=["input"], output_names=["output"],
                dynamic_axes={"input": {2: "h", 3: "w"}, "output": {2: "h", 3: "w"}},
            )  # fmt: skip
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 4
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    session.run(None, {"input": x})  # warm-up: allocations, kernel selection
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"input": x})
        runs.append((time.perf_counter() - start) * 1000)
    return min(runs)


def _cache_path(size: int, threads: int, configs: Sequence[MFAConfig]) -> Path:
    names = ",".join(c.encode() for c in configs)
    text = f"v{FORMAT_VERSION}|{machine_name()}|{ort.__version__}|{threads}|{size}|{names}"
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    return cache_dir() / "nas" / f"host-latency-{key}.json"


def _load(path: Path) -> HostLatency | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION:
            return None
        return HostLatency(
            size=int(data["size"]),
            threads=int(data["threads"]),
            coefficients=tuple(float(c) for c in data["coefficients"]),
            timed=tuple((str(k), float(v)) for k, v in data["timed"]),
            loo_errors=tuple(float(e) for e in data["loo_errors"]),
            machine=str(data["machine"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def host_latency(
    *,
    size: int = HOST_SIZE,
    threads: int,
    configs: Sequence[MFAConfig] | None = None,
    refit: bool = False,
    cancel: CancelToken | None = None,
) -> Generator[Event, None, None]:
    """The cached model of this computer, or a new fit; ends with ``Finished(HostLatency)``."""
    configs = tuple(configs or TIMED_CONFIGS)
    if len(configs) < 5:
        raise ValueError("the host model has 3 coefficients: time at least 5 subnets")
    path = _cache_path(size, threads, configs)
    cached = None if refit else _load(path)
    if cached is not None:
        yield Finished(result=cached)
        return
    timed = []
    for i, config in enumerate(configs):
        yield Progress(stage="timing subnets on this computer", done=i, total=len(configs))
        if cancel is not None:
            cancel.raise_if_cancelled()
        timed.append((config.encode(), time_config(config, size, threads)))
    yield Progress(stage="timing subnets on this computer", done=len(configs), total=len(configs))
    rows = np.stack([features(c, size) for c in configs])
    ms = np.array([t for _, t in timed])
    model = HostLatency(
        size=size,
        threads=threads,
        coefficients=tuple(float(c) for c in fit(rows, ms)),
        timed=tuple(timed),
        loo_errors=tuple(float(e) for e in leave_one_out(rows, ms)),
        machine=machine_name(),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(model.as_dict(), indent=2).encode("utf-8"))
    except OSError as error:
        raise MfaganError(f"cannot cache the latency model in {path.parent}: {error}") from None
    yield Finished(result=model)
