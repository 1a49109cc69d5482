"""``mfagan-studio``: the desktop app's entry point.

Until the GUI lands (issue 4) it does the main job from the terminal: it upscales the bundled
sample photo with the default model and says where the result is.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from engine.paths import RESOURCES, data_dir

SAMPLE = RESOURCES / "samples" / "astronaut.png"


def main(argv: Sequence[str] | None = None) -> int:
    from engine.cli import main as cli_main

    print("MFAGAN Studio: the desktop window is not built yet (issue 4);")
    print(f"upscaling the sample photo {SAMPLE.name} with the default model instead.")
    out_dir = Path(data_dir()) / "samples"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = ["upscale", str(SAMPLE), "-o", str(out_dir), *(argv or [])]
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
