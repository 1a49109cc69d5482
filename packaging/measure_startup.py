"""Cold and warm start-up time of the installed build (the numbers in packaging/README.md).

    python packaging/measure_startup.py [dist/mfagan-studio] [--runs 5]

Each command runs from the bundle in a clean environment (as in package_test.py). "Cold":
before every run the bundle's files are dropped from the operating system's page cache
(posix_fadvise DONTNEED, per file: no root needed, other programs' caches untouched), as after
a reboot or when the app has not run for a long time. "Warm": one untimed run first, then the
timed ones, as when the app is started again. Prints min / median / max wall seconds.
Linux only (posix_fadvise). The machine's load changes these numbers: quote the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS = {
    "mfagan --version": ["mfagan", "--version"],
    "mfagan models --json (imports torch)": ["mfagan", "models", "--json"],
    # Start, show the window, upscale the sample with the instant model, save, quit.
    "mfagan-studio to first window (--screenshot)": [
        "mfagan-studio",
        "--screenshot",
        "{scratch}/shot.png",
        "--model",
        "bicubic",
    ],
}


def evict(folder: Path) -> int:
    """Drop every file under ``folder`` from the page cache; returns how many were advised."""
    count = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                count += 1
            finally:
                os.close(fd)
    return count


def time_run(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def measure(app: Path, runs: int) -> list[tuple[str, str, list[float]]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="mfagan-startup-") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "tmp").mkdir()
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(scratch),
            "LANG": "C.UTF-8",
            "TMPDIR": str(scratch / "tmp"),
            "QT_QPA_PLATFORM": "offscreen",
        }
        for label, template in COMMANDS.items():
            command = [str(app / template[0])] + [a.format(scratch=scratch) for a in template[1:]]
            cold = []
            for _ in range(runs):
                evict(app)
                cold.append(time_run(command, env, scratch))
            time_run(command, env, scratch)  # warm-up
            warm = [time_run(command, env, scratch) for _ in range(runs)]
            results += [(label, "cold", cold), (label, "warm", warm)]
    return results


def render(results: list[tuple[str, str, list[float]]]) -> str:
    lines = ["| command | start | median s | min s | max s |", "| --- | --- | ---: | ---: | ---: |"]
    for label, kind, times in results:
        lines.append(
            f"| {label} | {kind} | {statistics.median(times):.2f} | {min(times):.2f} "
            f"| {max(times):.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", type=Path, nargs="?", default=ROOT / "dist" / "mfagan-studio")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (args.app / "mfagan").is_file():
        sys.exit(f"{args.app}: no built app here; run 'make package' first")
    print(render(measure(args.app.resolve(), args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
