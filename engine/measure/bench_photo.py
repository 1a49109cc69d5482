"""The phone-photo line of ``mfagan bench``: a 12-megapixel photo upscaled x4 end to end.

What a phone takes (4000 x 3000, JPEG) goes through the ``mfagan upscale`` command in a
child process, with the default model and tile size and the ``--backend`` asked for: the
bench runs ``onnx`` (onnxruntime fp32) and then ``auto`` (the default: the runtime measured
fastest on this computer; which one ran is read back from auto's cache and said in the
line), so each line measures exactly what a user runs: wall time from start to
exit, and the child's peak resident memory as the kernel counts it (``wait4``'s
``ru_maxrss``, the "Maximum resident set size" of ``/usr/bin/time -v``; elsewhere psutil
polls the child every 50 ms).

The photo is made from the bundled sample photos (a 4 x 3 mosaic of Lanczos-enlarged
copies, saved as a JPEG as a phone would) in a temp folder that is deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from PIL import Image, ImageOps

from engine.events import CancelToken, Event, Progress
from engine.paths import RESOURCES

SAMPLES = ("astronaut.png", "coffee.png")
POLL_SECONDS = 0.05
PHONE_PHOTO = (4000, 3000)


@dataclass(frozen=True, kw_only=True)
class PhotoRun:
    """One ``mfagan upscale`` of a ``size`` photo to ``format`` (error: why it failed)."""

    size: tuple[int, int]
    output_size: tuple[int, int]
    format: str
    model: str
    seconds: float | None = None
    peak_rss_bytes: int | None = None
    error: str = ""
    backend: str = "auto"  # what --backend was given
    runtime: str = ""  # what ran: auto's pick ("openvino-bf16"), "" where not known

    @property
    def command(self) -> str:
        return f"mfagan upscale photo.jpg -o out.{self.format.lower()} --backend {self.backend}"

    def as_dict(self) -> dict[str, object]:
        return {
            "size": list(self.size),
            "output_size": list(self.output_size),
            "format": self.format,
            "model": self.model,
            "seconds": self.seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "command": self.command,
            "backend": self.backend,
            "runtime": self.runtime,
            "error": self.error,
        }


def make_phone_photo(path: Path, size: tuple[int, int] = PHONE_PHOTO) -> Path:
    """A ``size`` JPEG photo from the bundled samples, 4 x 3 tiles of real photos."""
    width, height = size
    cell_w, cell_h = -(-width // 4), -(-height // 3)
    canvas = Image.new("RGB", (cell_w * 4, cell_h * 3))
    for row in range(3):
        for column in range(4):
            name = SAMPLES[(row + column) % len(SAMPLES)]
            with Image.open(RESOURCES / "samples" / name) as sample:
                cell = ImageOps.fit(
                    sample.convert("RGB"), (cell_w, cell_h), Image.Resampling.LANCZOS
                )
            canvas.paste(cell, (column * cell_w, row * cell_h))
    canvas.crop((0, 0, width, height)).save(path, quality=92)
    return path


def run_photo(
    *,
    size: tuple[int, int],
    model: str,
    scale: int,
    format: str = "png",
    backend: str = "auto",
    cancel: CancelToken | None = None,
) -> Iterator[Event]:
    """Generator: Progress("photo") while the child runs; returns a PhotoRun."""
    output_size = (size[0] * scale, size[1] * scale)
    with tempfile.TemporaryDirectory(prefix="mfagan-bench-photo-") as folder:
        photo = make_phone_photo(Path(folder) / "photo.jpg", size)
        output = Path(folder) / f"out.{format}"
        command = [sys.executable, "-m", "engine.cli", "upscale", str(photo), "-o", str(output)]
        command += ["--model", model, "--backend", backend, "--quiet"]
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        status, peak = yield from _wait(child, cancel, started, backend)
        seconds = time.perf_counter() - started
        errors = child.stderr.read().decode(errors="replace").strip() if child.stderr else ""
        if child.stderr:
            child.stderr.close()
    error = "" if status == 0 else (errors.splitlines() or [f"exit status {status}"])[-1]
    return PhotoRun(
        size=size,
        output_size=output_size,
        format=format.upper(),
        model=model,
        seconds=None if error else seconds,
        peak_rss_bytes=peak,
        error=error,
        backend=backend,
        runtime="" if error else ran_on(model, backend),
    )


def ran_on(model: str, backend: str) -> str:
    """The runtime ``mfagan upscale --backend backend`` ran ``model`` on: for auto, the choice
    the child measured or found in the cache (same cache folder and cores as this process)."""
    if backend != "auto":
        return backend
    from engine.inference.backends import available_threads
    from engine.inference.runtime_choice import cached_choice
    from engine.models.registry import get_model

    try:
        choice = cached_choice(get_model(model), available_threads())
    except Exception:  # weights that cannot be read here: the line just says "auto"
        return ""
    return "" if choice is None else choice.candidate.label


def _wait(
    child: subprocess.Popen, cancel: CancelToken | None, started: float, backend: str
) -> Iterator[Event]:
    """Wait for ``child`` (killed on cancel); returns (exit status, peak RSS bytes)."""
    peak = 0
    last_report = started
    try:
        while True:
            if hasattr(os, "wait4"):
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    child.returncode = os.waitstatus_to_exitcode(status)
                    return child.returncode, usage.ru_maxrss * 1024  # kB on Linux
            else:  # pragma: no cover - Windows
                with contextlib.suppress(psutil.Error):
                    peak = max(peak, psutil.Process(child.pid).memory_info().rss)
                if child.poll() is not None:
                    return child.returncode, peak or None
            if cancel is not None:
                cancel.raise_if_cancelled()
            now = time.perf_counter()
            if now - last_report >= 1.0:
                last_report = now
                message = f"upscaling a phone photo on {backend}: {now - started:.0f} s"
                yield Progress(stage="photo", done=0, total=1, message=message)
            time.sleep(POLL_SECONDS)
    finally:
        if child.returncode is None:
            child.kill()
            child.wait()
