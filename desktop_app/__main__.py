"""``mfagan-studio``: the desktop app.

    mfagan-studio [IMAGE ...] [--model NAME]
    mfagan-studio --screenshot PATH [--page main|batch|retrain] [--model NAME]
    mfagan-studio --screenshot PATH --page phone [--step N]

``--screenshot`` renders that page with the bundled sample photo loaded (upscaled on the Upscale
page, run through a batch with one damaged file on the Batch page) to a PNG and exits; it uses
fresh default settings, never the user's. With the default model (the teacher, until a trained
student ships) the Upscale page takes about two minutes on a CPU; ``--model bicubic`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mfagan-studio", description="MFAGAN Studio")
    parser.add_argument("images", nargs="*", type=Path, help="images or folders to open")
    parser.add_argument("--model", "-m", help="model to select (name or model file)")
    parser.add_argument(
        "--screenshot", type=Path, metavar="PATH", help="render a page to this PNG and exit"
    )
    parser.add_argument(
        "--page",
        choices=("main", "batch", "retrain", "phone"),
        default="main",
        help="page for --screenshot (default: main)",
    )
    parser.add_argument(
        "--step",
        type=int,
        choices=range(1, 7),
        default=1,
        metavar="N",
        help="phone wizard step 1-6 for --page phone: steps before it run for real",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from desktop_app import platform_check

    # Qt would abort with a message that names no library: say what to install instead.
    if platform_check.main():
        return 1
    from desktop_app.app import LaunchOptions, run

    return run(
        LaunchOptions(
            images=tuple(args.images),
            model=args.model,
            screenshot=args.screenshot,
            page=args.page,
            step=args.step,
        )
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
