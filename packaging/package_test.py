"""``make package-test``: run the installed build the way a user would, and check what it does.

    python packaging/package_test.py [--archive dist/mfagan-studio-*.tar.gz] [--keep DIR]

The archive is checked against its .sha256 and unpacked into a scratch folder; every command
then runs from there in a clean environment (like ``env -i``: no virtual environment, no
PYTHONPATH, a fresh HOME, the working directory outside the repository), so nothing can come
from the source tree. The same upscale run from the source tree (this Python) must give the
same pixels. Prints one line per check and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "resources" / "samples"
PHOTO = SAMPLES / "coffee.png"
EXPORT_FORMATS = "onnx,onnx-int8,torchscript"
# CUDA runtimes, GPU builds of torch, and onnxruntime's GPU execution providers.
GPU_LIBRARY = re.compile(
    r"^lib(cuda|cudart|cudnn|cublas|cufft|curand|cusolver|cusparse|nccl|nvrtc|nvjitlink"
    r"|torch_cuda|c10_cuda)|providers_(cuda|tensorrt|rocm|migraphx|openvino)",
    re.IGNORECASE,
)

DISTILL_TOML = """\
# 20 steps on the two sample photos with the real (bundled) teacher, on small crops.
student = "b2-c16-g8-h11-conv-x4"
teacher = "realesrgan-x4plus"
teacher_d_ndf = 8
student_d_ndf = 4

[data]
hr_crop = 32
crops_per_image = 2
val_fraction = 0.5

[schedule]
steps = 20
teacher_d_steps = 5
warmup_steps = 5
batch_size = 2
val_every = 10
checkpoint_every = 10
"""


@dataclass
class Context:
    app: Path  # the unpacked bundle folder
    scratch: Path
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def run(
        self, name: str, *args: str, env: dict[str, str] | None = None, timeout: int = 900
    ) -> subprocess.CompletedProcess[str]:
        """Run a frozen executable in the clean environment; CheckFailed on a non-zero exit."""
        command = [str(self.app / name), *args]
        done = subprocess.run(
            command,
            cwd=self.scratch,
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise CheckFailed(f"{name} {' '.join(args)} -> exit {done.returncode}: {tail}")
        return done


class CheckFailed(Exception):
    pass


def clean_env(home: Path) -> dict[str, str]:
    """What ``env -i`` leaves, plus the few variables a login always has."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home / "tmp"),
    }


def verify_archive(archive: Path) -> str:
    """The archive's sha256, after checking it against the ``.sha256`` file beside it."""
    digest = hashlib.sha256()
    with archive.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    recorded = Path(f"{archive}.sha256").read_text(encoding="ascii").split()[0]
    if recorded != digest.hexdigest():
        raise CheckFailed(f"{archive.name}: sha256 {digest.hexdigest()} != recorded {recorded}")
    return recorded


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")
    (folder,) = [p for p in into.iterdir() if p.is_dir()]
    return folder


def check_version(ctx: Context) -> str:
    import engine

    out = ctx.run("mfagan", "--version").stdout.strip()
    if out != f"mfagan {engine.__version__}":
        raise CheckFailed(f"--version printed {out!r}")
    return out


def check_models(ctx: Context) -> str:
    frozen = json.loads(ctx.run("mfagan", "models", "--json").stdout)
    source = json.loads(source_cli(ctx, "models", "--json").stdout)
    # What auto measured is per install (each has its own cache), not part of the model list.
    for listing in (frozen, source):
        for model in listing["models"]:
            model.pop("runtime", None)
    if frozen != source:
        raise CheckFailed("models --json differs from the source tree's")
    names = [m["name"] for m in frozen["models"]]
    return f"{len(names)} models, same as the source tree ({', '.join(names)})"


def source_cli(ctx: Context, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command from the source tree, with its own fresh HOME and caches."""
    home = ctx.scratch / "source-home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = clean_env(home) | {"PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=ctx.scratch,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def check_upscale(ctx: Context) -> str:
    results = []
    # OpenVINO too: the bundle keeps only its CPU plugin and ONNX frontend (bundle_rules).
    for backend in ("onnx", "torch", "openvino"):
        frozen = ctx.scratch / f"frozen-{backend}.png"
        source = ctx.scratch / f"source-{backend}.png"
        ctx.run("mfagan", "upscale", str(PHOTO), "-o", str(frozen), "--backend", backend, "--quiet")
        source_cli(ctx, "upscale", str(PHOTO), "-o", str(source), "--backend", backend, "--quiet")
        a, b = _pixels(frozen), _pixels(source)
        if a.shape != b.shape or not np.array_equal(a, b):
            diff = int(np.abs(a.astype(int) - b.astype(int)).max()) if a.shape == b.shape else -1
            raise CheckFailed(f"{backend}: frozen output differs from source (max diff {diff})")
        same_bytes = frozen.read_bytes() == source.read_bytes()
        results.append(
            f"{backend} {a.shape[1]}x{a.shape[0]} identical pixels"
            + (" and bytes" if same_bytes else "")
        )
    return "; ".join(results)


def check_user_model(ctx: Context) -> str:
    """A small ESRGAN file loaded through spandrel (and so torchvision) in both installs."""
    import torch
    from safetensors.torch import save_file

    from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

    torch.manual_seed(0)
    net = RRDBNet(RRDBNetConfig(num_block=1, num_feat=16, num_grow_ch=32))  # spandrel: gc 32
    weights = ctx.scratch / "user-esrgan.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    crop = ctx.scratch / "crop.png"
    with Image.open(PHOTO) as photo:
        photo.convert("RGB").crop((200, 120, 264, 184)).save(crop)
    outputs = []
    for name, runner in (("frozen", ctx.run), ("source", None)):
        out = ctx.scratch / f"user-{name}.png"
        # One runtime for both: auto may time them differently in the two installs.
        args = (
            "upscale",
            str(crop),
            "-o",
            str(out),
            "--model",
            str(weights),
            "--quiet",
            "--backend",
            "onnx",
        )
        if runner is None:
            source_cli(ctx, *args)
        else:
            runner("mfagan", *args)
        outputs.append(_pixels(out))
    if not np.array_equal(*outputs):
        raise CheckFailed("a spandrel user model upscales differently in the frozen app")
    return f"ESRGAN file via spandrel: identical {outputs[0].shape[1]}x{outputs[0].shape[0]}"


def check_providers(ctx: Context) -> str:
    """No GPU execution provider or CUDA library in the bundle: onnxruntime runs on the CPU."""
    found = [
        str(p.relative_to(ctx.app))
        for p in ctx.app.rglob("*")
        if p.is_file() and GPU_LIBRARY.search(p.name)
    ]
    if found:
        raise CheckFailed(f"GPU libraries in the bundle: {found[:5]}")
    providers = sorted(p.name for p in ctx.app.rglob("libonnxruntime_providers_*"))
    return f"no CUDA/GPU libraries; onnxruntime provider libraries: {providers or 'none'}"


def check_distill(ctx: Context) -> str:
    config = ctx.scratch / "distill.toml"
    config.write_text(DISTILL_TOML, encoding="utf-8")
    out = ctx.scratch / "distill-run"
    done = ctx.run(
        "mfagan",
        "distill",
        "--data",
        str(SAMPLES),
        "--config",
        str(config),
        "--out",
        str(out),
        "--name",
        "package-test",
        "--threads",
        "2",
        "--quiet",
    )
    # The registered student must be usable by the same build.
    upscaled = ctx.scratch / "distilled.png"
    ctx.run(
        "mfagan", "upscale", str(PHOTO), "-o", str(upscaled), "--model", "package-test", "--quiet"
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return f"20 steps with the bundled teacher; {last}; upscale with it ok"


def check_export(ctx: Context) -> str:
    probe = subprocess.run(
        [str(ctx.app / "mfagan"), "export", "--help"],
        cwd=ctx.scratch,
        env=ctx.env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    if probe.returncode != 0:
        # Before 'mfagan export' existed: the onnx backend's own export (torch.onnx.export
        # inside the frozen app, verified against PyTorch) is the ONNX export there is.
        ctx.notes.append(
            "no 'mfagan export' in this build: ONNX export checked via the onnx backend"
        )
        onnx_files = list((ctx.scratch / "home").rglob("*.onnx"))
        if not onnx_files:
            raise CheckFailed("the onnx backend left no ONNX export in the cache")
        return f"via the onnx backend: {onnx_files[0].name}"
    out = ctx.scratch / "export"
    ctx.run(
        "mfagan",
        "export",
        "--format",
        EXPORT_FORMATS,
        "--out",
        str(out),
        "--teacher",
        "none",
        "--quiet",
    )
    files = sorted(p.name for p in out.rglob("*") if p.suffix in (".onnx", ".pt", ".ptl"))
    if not any(name.endswith(".onnx") for name in files):
        raise CheckFailed(f"mfagan export wrote no .onnx file ({files})")
    # TFLite is left out of the build on purpose: it must be refused with a clear message.
    refused = subprocess.run(
        [str(ctx.app / "mfagan"), "export", "--format", "tflite", "--out", str(out / "tfl")],
        cwd=ctx.scratch,
        env=ctx.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if refused.returncode != 2 or "TFLite" not in refused.stderr:
        raise CheckFailed(f"tflite: exit {refused.returncode}, {refused.stderr.strip()[-200:]}")
    return f"{EXPORT_FORMATS}: {', '.join(files)}; tflite refused (exit 2)"


def check_search(ctx: Context) -> str:
    """A tiny NAS search with the bundled supernet and teacher."""
    done = ctx.run(
        "mfagan", "search", "--budget-ms", "15", "--candidates", "4", "--population", "2",
        "--patches", "2", "--patch-size", "32", "--no-baseline", "--threads", "2",
        "--out", str(ctx.scratch / "search"), "--quiet",
    )  # fmt: skip
    if "Pareto front" not in done.stdout:
        raise CheckFailed(f"search printed no Pareto front: {done.stdout.strip()[-300:]}")
    best = [line for line in done.stdout.splitlines() if line.startswith("evolution")]
    return best[0] if best else "Pareto front printed"


def check_screenshot(ctx: Context) -> str:
    shot = ctx.scratch / "screenshot.png"
    ctx.run("mfagan-studio", "--screenshot", str(shot), env={"QT_QPA_PLATFORM": "offscreen"})
    pixels = _pixels(shot)
    if pixels.std() < 5:
        raise CheckFailed(f"{shot.name} is blank (std {pixels.std():.1f})")
    return f"{pixels.shape[1]}x{pixels.shape[0]} PNG, std {pixels.std():.0f}"


CHECKS: tuple[tuple[str, Callable[[Context], str]], ...] = (
    ("--version", check_version),
    ("models --json", check_models),
    ("CPU only", check_providers),
    ("upscale = source", check_upscale),
    ("user model file", check_user_model),
    ("ONNX export", check_export),
    ("distill 20 steps", check_distill),
    ("search (NAS)", check_search),
    ("GUI --screenshot", check_screenshot),
)


def run_checks(ctx: Context) -> bool:
    ok = True
    for name, check in CHECKS:
        start = time.perf_counter()
        try:
            result, passed = check(ctx), True
        except (CheckFailed, subprocess.SubprocessError, OSError, ValueError) as error:
            result, passed = str(error), False
        ok &= passed
        seconds = time.perf_counter() - start
        print(f"{'PASS' if passed else 'FAIL'}  {name:<18} {seconds:6.1f} s  {result}", flush=True)
    for note in ctx.notes:
        print(f"note: {note}")
    return ok


def latest_archive(dist: Path) -> Path:
    archives = sorted(dist.glob("mfagan-studio-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not archives:
        sys.exit(f"no mfagan-studio-*.tar.gz in {dist}: run 'make package' first")
    return archives[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="unpack here and keep it")
    parser.add_argument(
        "--app", type=Path, default=None, help="test this unpacked folder instead (no archive)"
    )
    args = parser.parse_args()
    archive = args.archive or (None if args.app else latest_archive(ROOT / "dist"))
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="mfagan-package-test-"))
    try:
        if args.app is not None:
            app = args.app.resolve()
            print(f"folder {app} (archive not checked)")
        else:
            print(f"archive {archive.name}  sha256 {verify_archive(archive)}")
            app = unpack(archive, scratch / "unpacked")
        home = scratch / "home"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        ctx = Context(app=app, scratch=scratch, env=clean_env(home))
        return 0 if run_checks(ctx) else 1
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
