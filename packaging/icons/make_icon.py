"""Draw the MFAGAN Studio icon (the source of every icon file) and write it per platform.

    python packaging/icons/make_icon.py OUT_DIR

Writes ``mfagan-studio.png`` (256 px, Linux .desktop and window icon), ``mfagan-studio.ico``
(Windows, 16-256 px) and ``mfagan-studio.icns`` (macOS). The picture is code rather than a
binary file so it can be reviewed and changed in a diff: a coarse 4x4-pixel block on the left
turning into a smooth disc on the right, the app's idea (4x upscaling) in one glance.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 1024  # drawn large, then downsampled: smooth edges without an anti-aliasing library
NAME = "mfagan-studio"
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
BACKGROUND = (28, 42, 74)
ACCENT = (255, 176, 59)
PIXELS = ((245, 128, 36), (255, 176, 59), (255, 214, 120), (214, 96, 30))


def draw(size: int = SIZE) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    margin = size // 16
    pen.rounded_rectangle(
        (margin, margin, size - margin, size - margin), radius=size // 6, fill=BACKGROUND
    )
    # The low-resolution half: a 4x4 grid of flat squares.
    cell = size // 12
    left, top = size // 7, size // 2 - 2 * cell
    for row in range(4):
        for col in range(4):
            colour = PIXELS[(row * 3 + col) % len(PIXELS)]
            x, y = left + col * cell, top + row * cell
            pen.rectangle((x, y, x + cell - size // 128, y + cell - size // 128), fill=colour)
    # The upscaled half: the same content, smooth.
    radius = size // 6
    cx, cy = size - size // 7 - radius, size // 2
    pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=ACCENT)
    return image


def write_icons(out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    big = draw()
    paths = {
        "png": out_dir / f"{NAME}.png",
        "ico": out_dir / f"{NAME}.ico",
        "icns": out_dir / f"{NAME}.icns",
    }
    big.resize((256, 256), Image.Resampling.LANCZOS).save(paths["png"])
    big.save(paths["ico"], sizes=ICO_SIZES)
    big.resize((512, 512), Image.Resampling.LANCZOS).save(paths["icns"])
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_icon.py OUT_DIR")
    for path in write_icons(Path(sys.argv[1])).values():
        print(path)
