"""Run the teacher for the teacher cache on the fastest runtime: OpenVINO bf16, else the
faster of OpenVINO fp32 and PyTorch.

The cache needs the teacher's image and the outputs of some RRDB blocks (the feature loss).
For OpenVINO the teacher is exported once per weights and block list to an ONNX file whose
outputs are the image and those blocks (``cache_dir()/onnx/``), checked against PyTorch at
fp32 before it is kept. On a CPU with bf16 (AVX512-BF16 or AMX) that runs the x4plus
teacher several times faster than PyTorch fp32; the bf16 image must be at least
``MIN_PSNR_DB`` from fp32 on a real photo crop, and the measured PSNR is kept with the cache
(``TeacherRunner.info``) so the model card can state it. Without bf16, OpenVINO fp32 and
PyTorch are timed on a probe and the faster kept; a CUDA teacher or a failed ONNX export
runs in PyTorch as before.

Cancellation inside a call works on both paths (forward pre-hooks; OpenVINO's async request).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.distill.teacher_net import weights_digest
from engine.events import CancelToken
from engine.inference.abortable import cancel_hooks
from engine.inference.runtime_choice import MIN_GAIN
from engine.models.rrdbnet import RRDBNet
from engine.paths import cache_dir

RUNTIMES = ("auto", "openvino", "torch")
CHECK_SIDE = 24  # LR side of the export check (not the traced side, to catch frozen shapes)
TRACE_SIDE = 16
IMAGE_TOLERANCE = 1.0 / 255.0
# A 128-px HR crop is 32 LR pixels plus 16 of context on each side, taught in chunks.
PROBE_SIDE, PROBE_BATCH = 64, 2
FEATURE_TOLERANCE = 1e-3  # relative to the feature's largest magnitude


@dataclass(frozen=True, kw_only=True)
class TeacherOutputs:
    image: torch.Tensor  # (N, 3, H, W) float32 on the CPU, not clamped
    feats: dict[int, torch.Tensor]  # block -> (N, C, h, w)


@dataclass(kw_only=True)
class TeacherRunner:
    """Runs one teacher with a fixed block list; ``info`` describes the runtime for cards."""

    teacher: RRDBNet
    blocks: tuple[int, ...]
    info: dict[str, object] = field(default_factory=lambda: {"runtime": "torch-fp32"})
    compiled: object | None = None  # an OpenVINO CompiledModel

    @property
    def label(self) -> str:
        return str(self.info["runtime"])

    def run(self, x: np.ndarray, cancel: CancelToken) -> TeacherOutputs:
        """``x``: (N, 3, h, w) float32 in [0, 1]."""
        if self.compiled is None:
            return self._run_torch(x, cancel)
        from engine.inference.openvino_backend import infer

        outputs = infer(self.compiled, np.ascontiguousarray(x, dtype=np.float32), cancel)
        image, *feats = (torch.from_numpy(o) for o in outputs)
        return TeacherOutputs(image=image, feats=dict(zip(self.blocks, feats, strict=True)))

    def _run_torch(self, x: np.ndarray, cancel: CancelToken) -> TeacherOutputs:
        device = next(self.teacher.parameters()).device
        tensor = torch.from_numpy(x).to(device, torch.float32)
        # A chunk of crops takes seconds on a CPU: stop within a layer, not after the chunk.
        with cancel_hooks(self.teacher, cancel):
            image, feats = run_with_features(self.teacher, tensor, self.blocks)
        return TeacherOutputs(
            image=image.float().cpu(), feats={b: v.float().cpu() for b, v in feats.items()}
        )


def make_runner(teacher: RRDBNet, blocks: Sequence[int], runtime: str = "auto") -> TeacherRunner:
    """The fastest runner for ``teacher`` here; ``runtime`` "torch" or "openvino" forces one.

    "auto" uses OpenVINO bf16 where bf16 is native and passes its check; on other CPUs it
    times OpenVINO fp32 against PyTorch on a crop of the cache's size and keeps OpenVINO only
    if it beats PyTorch by the runtime choice's ``MIN_GAIN`` (it ran 1.25x faster on a 2-core
    AMD EPYC with AVX2 only, but not on every CPU). "openvino" also accepts fp32 untimed.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown teacher runtime {runtime!r}; choose one of {RUNTIMES}")
    blocks = tuple(blocks)
    runner = TeacherRunner(teacher=teacher, blocks=blocks)
    on_cpu = next(teacher.parameters()).device.type == "cpu"
    if runtime == "torch" or not on_cpu:
        return runner
    try:
        return _openvino_runner(runner, runtime)
    except Exception as error:
        if runtime == "openvino":
            raise
        # The export or OpenVINO failing must not stop a training job: PyTorch still works.
        runner.info = {"runtime": "torch-fp32", "openvino_error": _first_line(error)}
        return runner


def _openvino_runner(runner: TeacherRunner, runtime: str) -> TeacherRunner:
    from engine.inference import openvino_backend as ovb

    teacher, blocks = runner.teacher, runner.blocks
    bf16 = ovb.supports("bf16")
    path = ensure_feature_onnx(teacher, blocks)
    threads = torch.get_num_threads()
    precision, value = "fp32", None
    if bf16:
        x = ovb.fidelity_crop(3, teacher.config.size_multiple)
        value = ovb.precision_psnr(path, "bf16", device="CPU", threads=threads, x=x)
        if value >= ovb.MIN_PSNR_DB:
            precision = "bf16"
        elif runtime == "auto":
            return runner
    compiled = ovb.compile_model(path, precision=precision, device="CPU", threads=threads)
    timed: dict[str, float] = {}
    if runtime == "auto" and precision == "fp32":
        openvino = TeacherRunner(teacher=teacher, blocks=blocks, compiled=compiled)
        timed = probe_seconds(runner, openvino)
        if timed["openvino-fp32"] * MIN_GAIN > timed["torch-fp32"]:
            runner.info = {"runtime": "torch-fp32", "probe_s": timed}
            return runner
    runner.compiled = compiled
    runner.info = {
        "runtime": ovb.runtime_label("CPU", precision),
        "openvino": ovb.ov.__version__,
        "cpu": ovb.device_name("CPU"),
        "bf16_psnr_vs_fp32_db": None if value is None else round(value, 2),
        "fidelity_photo": f"{ovb.FIDELITY_PHOTO.parent.name}/{ovb.FIDELITY_PHOTO.name}",
    } | ({"probe_s": timed} if timed else {})
    return runner


def probe_seconds(torch_runner: TeacherRunner, openvino_runner: TeacherRunner) -> dict[str, float]:
    """Best of two timed calls each, after a warm-up, on a chunk shaped like the cache's."""
    x = np.random.default_rng(0).random((PROBE_BATCH, 3, PROBE_SIDE, PROBE_SIDE), np.float32)
    best = {"torch-fp32": float("inf"), "openvino-fp32": float("inf")}
    pairs = (("torch-fp32", torch_runner), ("openvino-fp32", openvino_runner))
    for _ in range(3):  # interleaved, so a busy moment costs both alike
        for name, candidate in pairs:
            start = time.perf_counter()
            candidate.run(x, CancelToken())
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: round(seconds, 4) for name, seconds in best.items()}


class _WithFeatures(nn.Module):
    """The teacher returning (image, *block outputs): what the ONNX export traces."""

    def __init__(self, teacher: RRDBNet, blocks: tuple[int, ...]) -> None:
        super().__init__()
        self.teacher = teacher
        self.blocks = blocks

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        image, feats = run_with_features(self.teacher, x, self.blocks)
        return (image, *(feats[b] for b in self.blocks))


def feature_onnx_path(teacher: RRDBNet, blocks: Sequence[int]) -> Path:
    tag = "-".join(map(str, blocks)) or "none"
    return cache_dir() / "onnx" / f"teacher-{weights_digest(teacher)[:16]}-feat-{tag}.onnx"


def ensure_feature_onnx(teacher: RRDBNet, blocks: Sequence[int]) -> Path:
    """The cached export with outputs image + ``blocks``, exported and checked if missing,
    unreadable or damaged."""
    from engine.inference.backends import make_room

    blocks = tuple(blocks)
    path = feature_onnx_path(teacher, blocks)
    if path.is_file():
        if _readable(path):
            return path
        # Disk trouble or another tool's crash: without this, every run would fall back to
        # PyTorch for good. Only this module writes the name, so the file is not kept.
        path.unlink()
    # The student's export's repair: a folder in the file's place (os.replace cannot put a
    # file over it) or a file in the onnx folder's place is moved aside.
    make_room(path, hint=None)  # no flag runs the teacher without the export
    wrapper = _WithFeatures(teacher, blocks).eval()
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        _export(wrapper, teacher, tmp)
        _check(wrapper, teacher, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def _readable(path: Path) -> bool:
    from engine.inference import openvino_backend as ovb

    try:
        ovb.core().read_model(str(path))
    except Exception:  # OpenVINO raises RuntimeError and its own types for a bad file
        return False
    return True


def _export(wrapper: _WithFeatures, teacher: RRDBNet, path: Path) -> None:
    m = teacher.config.size_multiple
    side = -(-TRACE_SIDE // m) * m
    dummy = torch.rand(1, 3, side, side)
    axes = {0: "batch", 2: "height", 3: "width"}
    names = ["image", *(f"feat{b}" for b in wrapper.blocks)]
    from engine.inference.backends import ONNX_OPSET

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript exporter deprecation: _check verifies
        torch.onnx.export(
            wrapper,
            (dummy,),
            str(path),
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=["input"],
            output_names=names,
            dynamic_axes={"input": axes} | {n: dict(axes) for n in names},
        )


def _check(wrapper: _WithFeatures, teacher: RRDBNet, path: Path) -> None:
    """OpenVINO fp32 against PyTorch at a batch and size other than the traced ones."""
    from engine.inference import openvino_backend as ovb

    m = teacher.config.size_multiple
    height, width = -(-CHECK_SIDE // m) * m, -(-(CHECK_SIDE + 2 * m + 3) // m) * m
    x = np.random.default_rng(0).random((2, 3, height, width), dtype=np.float32)
    with torch.no_grad():
        expected = [t.numpy() for t in wrapper(torch.from_numpy(x))]
    compiled = ovb.compile_model(path, precision="fp32", device="CPU", threads=1)
    got = ovb.infer(compiled, x)
    for i, (a, b) in enumerate(zip(expected, got, strict=True)):
        bound = IMAGE_TOLERANCE if i == 0 else FEATURE_TOLERANCE * max(1.0, float(np.abs(a).max()))
        diff = float(np.abs(a - b).max()) if a.shape == b.shape else np.inf
        if not diff <= bound:
            raise RuntimeError(f"teacher feature export differs from PyTorch (output {i}: {diff})")


def run_with_features(
    teacher: RRDBNet, x: torch.Tensor, blocks: Sequence[int]
) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Teacher output and the outputs of RRDB blocks ``blocks`` (no gradients)."""
    feats: dict[int, torch.Tensor] = {}
    handles = [
        teacher.body[block].register_forward_hook(
            lambda _m, _i, out, block=block: feats.__setitem__(block, out.detach().clone())
        )
        for block in blocks
    ]
    try:
        with torch.no_grad():
            output = teacher(x)
    finally:
        for handle in handles:
            handle.remove()
    return output, feats


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
