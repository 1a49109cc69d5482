"""Photo crops at exactly the export shape: calibration for INT8, held-out crops for fidelity.

Calibration reads the user's photos (``--calibration DIR``) or the bundled crops in
``resources/calibration/`` (the top halves of the two sample photos) and cuts square crops of
the export side at reproducible random places, spread over the photos in turn. Quantization
ranges depend on the input statistics, so crops are cut at the photo's own resolution, as
the app tiles a photo; a photo smaller than the side is enlarged (bicubic) to fit.

Validation uses pixels calibration never sees: the bottom halves of the same sample photos,
cut into a grid, plus any extra photos the caller names (the INT8 measurement adds
scikit-image's photos; they are a test dependency, not a runtime one).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import ImageError, UsageError
from engine.files import file_sha256
from engine.imageio.formats import FORMATS
from engine.imageio.reader import read_image
from engine.paths import RESOURCES

BUNDLED_DIR = RESOURCES / "calibration"
SAMPLES_DIR = RESOURCES / "samples"
# (photo, box left, top, right, bottom): the halves resources/calibration/ does not use.
HELD_OUT = (("astronaut.png", (0, 256, 512, 512)), ("coffee.png", (0, 200, 600, 400)))
DEFAULT_CALIBRATION_COUNT = 32
_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"}
    | {f".{name.lower()}" for name in FORMATS}
)


@dataclass(frozen=True, kw_only=True)
class Crop:
    """One LR input crop: HxWx3 float32 in [0, 1], named after its photo and position."""

    name: str
    pixels: np.ndarray


def photo_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder`` (sorted); UsageError if none or not a folder."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: calibration folder not found")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
    if not files:
        raise UsageError(f"{folder}: no photos to calibrate on (PNG, JPEG, WebP, TIFF, BMP)")
    return files


def load_rgb(path: Path) -> np.ndarray:
    """HxWx3 float32 in [0, 1]; grey replicated, alpha dropped."""
    color = read_image(path).color
    return np.repeat(color, 3, axis=2) if color.shape[2] == 1 else color[:, :, :3]


def fit(image: np.ndarray, side: int) -> np.ndarray:
    """The image itself when both sides reach ``side``, else enlarged (bicubic) until they do."""
    height, width = image.shape[:2]
    if min(height, width) >= side:
        return image
    factor = side / min(height, width)
    size = (max(side, round(width * factor)), max(side, round(height * factor)))
    as8 = Image.fromarray(np.clip(np.rint(image * 255), 0, 255).astype(np.uint8))
    return np.asarray(as8.resize(size, Image.BICUBIC), dtype=np.float32) / 255.0


def calibration_crops(
    folder: Path | None, *, side: int, count: int = DEFAULT_CALIBRATION_COUNT, seed: int = 0
) -> list[Crop]:
    """``count`` crops of side x side from the photos in ``folder`` (bundled crops if None)."""
    files = photo_files(BUNDLED_DIR if folder is None else folder)
    photos: list[tuple[Path, np.ndarray]] = []
    for path in files:
        try:
            photos.append((path, fit(load_rgb(path), side)))
        except ImageError:
            continue  # one unreadable file in a folder of photos is not worth stopping for
    if not photos:
        raise UsageError(f"{files[0].parent}: none of its {len(files)} files could be read")
    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        path, image = photos[index % len(photos)]
        top = int(rng.integers(0, image.shape[0] - side + 1))
        left = int(rng.integers(0, image.shape[1] - side + 1))
        pixels = np.ascontiguousarray(image[top : top + side, left : left + side])
        crops.append(Crop(name=f"{path.name}@{left},{top}", pixels=pixels))
    return crops


def grid_crops(image: np.ndarray, *, side: int, name: str) -> list[Crop]:
    """Non-overlapping side x side crops covering as much of ``image`` as fits."""
    image = fit(image, side)
    height, width = image.shape[:2]
    return [
        Crop(
            name=f"{name}@{left},{top}",
            pixels=np.ascontiguousarray(image[top : top + side, left : left + side]),
        )
        for top in range(0, height - side + 1, side)
        for left in range(0, width - side + 1, side)
    ]


def validation_crops(*, side: int, extra: tuple[Path, ...] = (), per_photo: int = 4) -> list[Crop]:
    """Held-out crops: the sample photos' bottom halves, then ``extra`` photos, each gridded
    and evenly thinned to at most ``per_photo`` crops."""
    sources: list[tuple[str, np.ndarray]] = []
    for name, (left, top, right, bottom) in HELD_OUT:
        sources.append((name, load_rgb(SAMPLES_DIR / name)[top:bottom, left:right]))
    sources += [(path.name, load_rgb(path)) for path in extra]
    crops: list[Crop] = []
    for name, image in sources:
        grid = grid_crops(image, side=side, name=name)
        keep = np.linspace(0, len(grid) - 1, min(per_photo, len(grid))).round().astype(int)
        crops += [grid[i] for i in sorted(set(keep.tolist()))]
    return crops


def folder_digest(files: list[Path]) -> str:
    """sha256 over the names and contents of ``files``: which photos, without their path."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0" + file_sha256(path).encode("ascii"))
    return digest.hexdigest()


def as_batch(crops: list[Crop]) -> np.ndarray:
    """NCHW float32 batch of equally sized crops."""
    return np.ascontiguousarray(np.stack([c.pixels for c in crops]).transpose(0, 3, 1, 2))
