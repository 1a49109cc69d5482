"""Peak memory and time of the app's own upscale job on one photo (the GUI path: upscale,
keep the result, make the preview), without opening a window.

    python -m desktop_app.upscale.measure PHOTO [MODEL] [--scale N]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_app.upscale.measure")
    parser.add_argument("photo", type=Path)
    parser.add_argument("model", nargs="?", default="")
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from desktop_app import jobs
    from engine.events import CancelToken, Finished, Progress
    from engine.inference.upscale import TargetSize

    _app = QGuiApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="measure-upscale-") as stage_dir:
        request = jobs.UpscaleRequest(
            source=args.photo,
            model=jobs.ModelChoice(spec=args.model),
            target=TargetSize(scale=args.scale),
            stage_dir=Path(stage_dir),
        )
        began = time.perf_counter()
        stages: dict[str, float] = {}
        outcome = None
        for event in jobs.upscale_job(request, jobs.UpscalerPool(), CancelToken()):
            if isinstance(event, Progress):
                stages.setdefault(event.stage, time.perf_counter() - began)
            elif isinstance(event, Finished):
                outcome = event.result
        total = time.perf_counter() - began
    assert outcome is not None
    keeping = total - stages.get("finishing", total)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    width, height = outcome.details["output_size"]
    print(
        f"{args.photo.name} -> {width}x{height} with {outcome.model_name}: {total:.1f} s "
        f"(keeping the result {keeping:.1f} s), peak RSS {peak:.2f} GiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
