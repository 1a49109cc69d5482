"""HR photo folders -> a fixed, reproducible pool of crops, split into train and validation.

The split is by file content (sha256), so a file never lands on both sides, byte-identical
duplicates (T91 has one) always land on the same side, and adding photos never moves the
old ones. Every crop has a fixed position and degradation seed derived from the run seed and
its image's digest: that is what lets the teacher's output for it be cached on disk.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.distill.config import SCALE, DataConfig, DegradationConfig
from engine.errors import ImageError, UsageError
from engine.events import CancelToken, Event, Finished, Notice, Progress, result_of
from engine.files import file_sha256
from engine.imageio import read_image
from engine.imageio.marker import PROGRAM
from engine.imageio.source import input_problem
from engine.inference.batch_scan import KnownModels, earlier_result, results_left_out

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})


@dataclass(frozen=True, kw_only=True)
class SourceImage:
    path: Path
    digest: str
    width: int
    height: int


@dataclass(frozen=True, kw_only=True)
class Crop:
    """One HR square ``size`` px at (top, left) of ``image``, degraded with ``seed``."""

    image: SourceImage
    top: int
    left: int
    size: int
    seed: int
    # HR box (top, left, height, width) that is degraded and shown to the teacher, the crop
    # inside it at offsets that are multiples of the scale; None: the crop alone.
    window: tuple[int, int, int, int] | None = None

    def key(self, degradation: DegradationConfig) -> str:
        """Identifies the (HR, LR, teacher) triple: same key, same pixels."""
        fields: dict[str, object] = {
            "image": self.image.digest,
            "box": [self.top, self.left, self.size],
            "seed": self.seed,
            "degradation": degradation.identity(),
        }
        if self.window is not None:
            fields["window"] = list(self.window)
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class CropPool:
    train: tuple[Crop, ...]
    val: tuple[Crop, ...]


@dataclass(frozen=True, kw_only=True)
class PhotoScan:
    """What a scan found: photos to train on, and every file left out with the reason."""

    good: list[SourceImage]
    # Left out with the reason: cannot be read (damaged, not a format we read), or an
    # upscaled result of this app (engine.inference.batch_scan), which is not a photo.
    bad: list[tuple[Path, str]]
    small: list[Path]  # smaller than the crop
    duplicates: list[Path]  # same content as a photo in ``good``


def inspect_photo(path: Path) -> SourceImage:
    """Hash and fully decode one photo (ImageError if it cannot be trained on).

    Decoding the whole file, not just its header, is what finds a truncated JPEG or an
    AVIF named .jpg here rather than in the middle of training. Only a regular file is
    opened: hashing a FIFO would block, a link to /dev/zero would never end.
    """
    problem = input_problem(path)
    if problem is not None:
        raise ImageError(path, problem)
    try:
        digest = file_sha256(path)
    except OSError as error:
        raise ImageError(path, f"cannot be read ({error.strerror or error})") from None
    color = read_image(path).color  # orientation applied, as training will see it
    return SourceImage(path=path, digest=digest, width=color.shape[1], height=color.shape[0])


def image_files(dirs: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in dirs:
        if not folder.is_dir():
            raise UsageError(f"{folder}: not a folder")
        files += sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError("no training images found in " + ", ".join(map(str, dirs)))
    return files


def scan_photos(
    dirs: Sequence[Path], min_side: int, *, cancel: CancelToken | None = None
) -> Iterator[Event]:
    """Decode every photo of ``dirs``; Finished.result is a PhotoScan (good and bad).

    Each unreadable file gets one important Notice (shown even with --quiet) naming it and
    the reason; one more Notice counts what was left out. Images smaller than ``min_side``
    and exact duplicates are left out, and so are the app's own results (found from their
    header, before any decoding): trained on, the student would learn from upscaled pixels.
    """
    files = image_files(dirs)
    stems: dict[Path, set[str]] = defaultdict(set)
    for path in files:
        stems[path.parent].add(path.stem)
    seen: set[str] = set()
    known = KnownModels()
    scan = PhotoScan(good=[], bad=[], small=[], duplicates=[])
    yield Progress(stage="scan", done=0, total=len(files))
    for index, path in enumerate(files):
        if cancel is not None:
            cancel.raise_if_cancelled()
        result = earlier_result(path, stems[path.parent], known)
        if result is not None:
            scan.bad.append((path, result))  # said in the count below, not one line each
        else:
            yield from _inspect_into(scan, path, seen, min_side)
        yield Progress(stage="scan", done=index + 1, total=len(files))
    if scan.bad or scan.small or scan.duplicates:
        results = results_left_out(scan.bad)
        ours = f"{results} earlier result(s) of {PROGRAM}, " if results else ""
        yield Notice(
            message=f"{len(scan.good)} photo(s) to train on; left out {ours}"
            f"{len(scan.bad) - results} that cannot be read, {len(scan.small)} smaller than "
            f"{min_side} px and {len(scan.duplicates)} duplicate(s)"
        )
    yield Finished(result=scan)


def _inspect_into(scan: PhotoScan, path: Path, seen: set[str], min_side: int) -> Iterator[Event]:
    """Decode one photo and file it in ``scan``: good, bad, small or a duplicate."""
    try:
        image = inspect_photo(path)
    except ImageError as error:
        scan.bad.append((path, error.reason))
        yield Notice(message=f"left out {path}: {error.reason}", important=True)
        return
    if image.digest in seen:
        scan.duplicates.append(path)
    elif min(image.width, image.height) < min_side:
        scan.small.append(path)
    else:
        seen.add(image.digest)
        scan.good.append(image)


def scan_images(dirs: Sequence[Path], min_side: int) -> Iterator[Event]:
    """``scan_photos`` for the trainer: Finished.result is the list of good SourceImages."""
    scan: PhotoScan = yield from result_of(scan_photos(dirs, min_side))
    yield Finished(result=scan.good)


def _hash_fraction(digest: str) -> float:
    return int(digest[:8], 16) / 2**32


def split_images(
    images: Sequence[SourceImage], val_fraction: float
) -> tuple[list[SourceImage], list[SourceImage]]:
    """(train, val) by content hash; at least one image on each side."""
    if len(images) < 2:
        raise UsageError("distillation needs at least 2 usable images (train and validation)")
    ranked = sorted(images, key=lambda im: _hash_fraction(im.digest))
    n_val = sum(_hash_fraction(im.digest) < val_fraction for im in ranked)
    n_val = min(max(n_val, 1), len(ranked) - 1)
    return ranked[n_val:], ranked[:n_val]


def _image_rng(seed: int, image: SourceImage, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, int(image.digest[:16], 16)])


def _crops(image: SourceImage, size: int, count: int, seed: int, *, centred: bool) -> list[Crop]:
    rng = _image_rng(seed, image, 1 if centred else 0)
    crops = []
    for index in range(count):
        if centred and index == 0:
            top, left = (image.height - size) // 2, (image.width - size) // 2
        else:
            top = int(rng.integers(0, image.height - size + 1))
            left = int(rng.integers(0, image.width - size + 1))
        crop_seed = int(rng.integers(0, 2**63 - 1))
        crops.append(Crop(image=image, top=top, left=left, size=size, seed=crop_seed))
    return crops


def _in_context(crops: list[Crop], config: DataConfig, seed: int, *, centred: bool) -> list[Crop]:
    """Shared degradation draws and teacher windows (``degradations_per_image``,
    ``teacher_context``); crops move to multiples of the scale so that every window of an
    image degrades to the same LR grid."""
    if not crops or not (config.teacher_context or config.degradations_per_image):
        return crops
    image = crops[0].image
    if config.degradations_per_image:
        rng = _image_rng(seed, image, 3 if centred else 2)
        draws = [int(v) for v in rng.integers(0, 2**63 - 1, size=config.degradations_per_image)]
        crops = [replace(c, seed=draws[i % len(draws)]) for i, c in enumerate(crops)]
    if not config.teacher_context:
        return crops
    crops = [replace(c, top=c.top - c.top % SCALE, left=c.left - c.left % SCALE) for c in crops]
    height, width = image.height - image.height % SCALE, image.width - image.width % SCALE
    margin = SCALE * config.teacher_context
    whole = (0, 0, height, width)
    windows = [_window(c, margin, height, width) for c in crops]
    for draw_seed in {c.seed for c in crops}:
        group = [i for i, c in enumerate(crops) if c.seed == draw_seed]
        # One pass over the whole photo when that costs no more than one per crop.
        if len(group) * max(windows[i][2] * windows[i][3] for i in group) >= height * width:
            for i in group:
                windows[i] = whole
    return [replace(c, window=w) for c, w in zip(crops, windows, strict=True)]


def _window(crop: Crop, margin: int, height: int, width: int) -> tuple[int, int, int, int]:
    top, left = max(0, crop.top - margin), max(0, crop.left - margin)
    bottom = min(height, crop.top + crop.size + margin)
    right = min(width, crop.left + crop.size + margin)
    return top, left, bottom - top, right - left


def plan_crops(images: Sequence[SourceImage], config: DataConfig, seed: int) -> CropPool:
    """Fixed crops: random ones for training, the centre (then random) ones for validation."""
    train, val = split_images(images, config.val_fraction)
    size, per_train, per_val = config.hr_crop, config.crops_per_image, config.val_crops_per_image
    ordered_train = sorted(train, key=lambda im: str(im.path))
    ordered_val = sorted(val, key=lambda im: str(im.path))

    def crops(image: SourceImage, count: int, *, centred: bool) -> list[Crop]:
        planned = _crops(image, size, count, seed, centred=centred)
        return _in_context(planned, config, seed, centred=centred)

    return CropPool(
        train=tuple(c for im in ordered_train for c in crops(im, per_train, centred=False)),
        val=tuple(c for im in ordered_val for c in crops(im, per_val, centred=True)),
    )


def load_rgb(path: Path) -> np.ndarray:
    """HxWx3 float32 in [0, 1] (grey replicated, alpha dropped), EXIF orientation applied."""
    color = read_image(path).color
    return np.repeat(color, 3, axis=2) if color.shape[2] == 1 else color[:, :, :3]


def cut(image: np.ndarray, crop: Crop) -> np.ndarray:
    return image[crop.top : crop.top + crop.size, crop.left : crop.left + crop.size]
