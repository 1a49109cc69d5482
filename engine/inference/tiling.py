"""Run a model over an image in overlapping tiles, with a result equal to the untiled one.

Neighbouring tiles share ``overlap`` low-resolution (LR) pixels. In the middle of each shared
strip the output crossfades linearly from one tile to the next over ``min(overlap / 2, 8)``
pixels, so every output pixel comes from tiles that saw at least ``(overlap - crossfade) / 2``
pixels of real image around it, and no hard edge is left where two estimates meet. Weights
are separable and normalised per axis, so they sum to exactly one everywhere.

How much context is enough depends on the model (``recommended_overlap``). The Real-ESRGAN
teachers really use distant pixels: on astronaut/coffee/chelsea crops, x4plus with 40 LR px of
context still differs by up to 9/255, with 56 px by at most 1.5/255, with 64 px 0.74/255 (the
6-block anime model: 1.4/255 at 48 px). Overlap 128 gives them 60 px. The MFA student's
receptive field reaches at most 26 px from a pixel (6 blocks), so overlap 64 (28 px of
context) makes its tiling exact for every configuration of the search space.

Tile origins are multiples of the model's ``size_multiple``: a model that pools by 2 then sees
the same pooling grid in a tile as in the whole image.

Out of memory: the tile is halved and the image restarted (every tile has the same size, so
this almost always happens on the first tile). Below ``min_tile`` it raises NotEnoughMemory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import psutil

from engine.errors import ModelError
from engine.events import CancelToken, Finished, Notice, Progress
from engine.inference.backends import Backend, is_out_of_memory
from engine.models.descriptor import ModelDescriptor
from engine.models.profiling import profile_model

CROSSFADE = 8
MIN_TILE = 32
MAX_TILE = 512  # larger tiles barely speed up a CPU and make cancel and progress sluggish
BUDGET_FRACTION = 0.5  # of available memory: the rest of the app and the OS need some too
# Backend workspace beyond the live activations a profile sees (conv scratch, onnxruntime's
# arena rounding, tile copies). Measured peak RSS growth / profiled peak: 1.3 to 1.5.
ACTIVATION_SAFETY = 2.0
PROFILE_SIDE = 32
# Shared LR pixels per architecture (see the module docstring). Unknown architectures get the
# teacher's value: slower for small nets, but never visibly seamed.
OVERLAP_BY_ARCHITECTURE = {"rrdbnet": 128, "spandrel:ESRGAN": 128, "mfa": 64, "bicubic": 8}
DEFAULT_OVERLAP = 128


@dataclass(frozen=True, kw_only=True)
class TileFallback(Notice):
    """Out of memory: the image is being redone with ``tile`` px tiles (keep them for the next)."""

    tile: int


class NotEnoughMemory(MemoryError):
    """Even the smallest tile, or the output image itself, does not fit in memory."""


@dataclass(frozen=True, kw_only=True)
class TilePlan:
    """Where the tiles of a padded LR image lie (origins and sizes in LR pixels)."""

    height: int
    width: int
    tile_height: int
    tile_width: int
    overlap: int
    scale: int
    ys: tuple[int, ...]
    xs: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.ys) * len(self.xs)


def recommended_overlap(descriptor: ModelDescriptor) -> int:
    """LR pixels neighbouring tiles should share for this model's output to stay seam-free."""
    return OVERLAP_BY_ARCHITECTURE.get(descriptor.architecture, DEFAULT_OVERLAP)


def plan_tiles(
    height: int, width: int, *, tile: int | None, overlap: int, size_multiple: int, scale: int
) -> TilePlan:
    """Tiles of at most ``tile`` px (None: one tile) covering a padded ``height x width``."""
    m = size_multiple
    if height % m or width % m:
        raise ValueError(f"{height}x{width} is not padded to a multiple of {m}")
    side = max(height, width) if tile is None else max(m, tile // m * m)
    # A tile keeps at least half of itself as new pixels, or small tiles would cost far more
    # than the memory they save (the caller is told when this trims the overlap).
    overlap = max(0, min(overlap, side // 2))
    tile_h, ys = _axis(height, side, overlap, m)
    tile_w, xs = _axis(width, side, overlap, m)
    return TilePlan(
        height=height,
        width=width,
        tile_height=tile_h,
        tile_width=tile_w,
        overlap=overlap,
        scale=scale,
        ys=ys,
        xs=xs,
    )


def _axis(length: int, side: int, overlap: int, m: int) -> tuple[int, tuple[int, ...]]:
    """Tile length and origins along one axis: as few tiles as ``side`` allows, no longer
    than needed (1024 px with a 128 px overlap: 3 tiles of 427, not 3 of 512)."""
    if side >= length:
        return length, (0,)
    shared = -(-overlap // m) * m
    step = max(m, side - shared)
    count = math.ceil((length - side) / step) + 1
    needed = -(-(length + (count - 1) * shared) // count)
    tile = min(side, -(-needed // m) * m)
    span = length - tile
    # Evenly spread and rounded down to the grid: a step never exceeds tile - shared.
    return tile, tuple(i * span // (count - 1) // m * m for i in range(count))


def axis_weights(origins: tuple[int, ...], tile: int, overlap: int, scale: int) -> list[np.ndarray]:
    """Per-tile output weights along one axis; at every output position they sum to 1."""
    size = tile * scale
    fade = min(overlap / 2, CROSSFADE) * scale
    start = (overlap * scale - fade) / 2  # distance from a tile's inner edge where it fades in
    centres = np.arange(size, dtype=np.float64) + 0.5
    raw = []
    for index in range(len(origins)):
        distance = np.full(size, np.inf)
        if index > 0:
            distance = np.minimum(distance, centres)
        if index < len(origins) - 1:
            distance = np.minimum(distance, size - centres)
        weight = np.clip((distance - start) / fade, 0.0, 1.0) if fade > 0 else np.ones(size)
        # Never exactly 0, so odd layouts (uneven last step) still normalise.
        raw.append(np.maximum(weight, 1e-6))
    total = np.zeros((origins[-1] + tile) * scale)
    for origin, weight in zip(origins, raw, strict=True):
        total[origin * scale : origin * scale + size] += weight
    return [
        (weight / total[origin * scale : origin * scale + size]).astype(np.float32)
        for origin, weight in zip(origins, raw, strict=True)
    ]


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad the bottom and right of an NCHW array to a multiple of ``multiple``."""
    height, width = image.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    if not pad_h and not pad_w:
        return image
    return np.pad(image, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="reflect")


def run_tiled(
    backend: Backend,
    image: np.ndarray,
    *,
    scale: int,
    tile: int | None,
    overlap: int,
    size_multiple: int = 1,
    cancel: CancelToken | None = None,
    min_tile: int = MIN_TILE,
) -> Iterator[Progress | Notice | Finished]:
    """Upscale a (1, C, H, W) float32 array tile by tile; Finished.result is (1, C', sH, sW).

    ``tile``: LR tile side including the overlap (None: the whole image at once). Progress
    counts tiles; ``cancel`` is checked before every tile and handed to the backend, which
    stops within one layer of the tile it is running. The output is not clamped.
    """
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) array, got shape {image.shape}")
    height, width = image.shape[-2:]
    padded = pad_to_multiple(np.ascontiguousarray(image, dtype=np.float32), size_multiple)
    while True:
        plan = plan_tiles(
            *padded.shape[-2:], tile=tile, overlap=overlap, size_multiple=size_multiple, scale=scale
        )
        if plan.count > 1 and plan.overlap < overlap:
            yield Notice(
                message=f"{tile} px tiles are small for this model: overlap {plan.overlap} px "
                f"instead of {overlap}, seams may be faintly visible"
            )
        used = max(plan.tile_height, plan.tile_width)
        try:
            output = yield from _run_plan(backend, padded, plan, cancel)
            break
        except NotEnoughMemory:
            raise
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            tile = used // 2 // size_multiple * size_multiple
            if tile < max(min_tile, size_multiple):
                raise NotEnoughMemory(f"not enough memory even with {used} px tiles") from error
        # Outside the except block: the failed attempt's traceback (and the tensors its frames
        # hold) is released before the caller gets control back.
        yield TileFallback(
            message=f"out of memory with {used} px tiles; retrying with {tile} px", tile=tile
        )
    yield Finished(result=output[:, :, : height * scale, : width * scale])


def _run_plan(
    backend: Backend, image: np.ndarray, plan: TilePlan, cancel: CancelToken | None
) -> Iterator[Progress]:
    """Generator returning the blended (1, C', sH', sW') output of every tile of ``plan``."""
    s, th, tw = plan.scale, plan.tile_height, plan.tile_width
    weights_y = axis_weights(plan.ys, th, plan.overlap, s)
    weights_x = axis_weights(plan.xs, tw, plan.overlap, s)
    output: np.ndarray | None = None
    yield Progress(stage="tiles", done=0, total=plan.count)
    for row, (y, weight_y) in enumerate(zip(plan.ys, weights_y, strict=True)):
        for column, (x, weight_x) in enumerate(zip(plan.xs, weights_x, strict=True)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            result = backend.run(image[:, :, y : y + th, x : x + tw], cancel=cancel)
            if result.shape[0] != 1 or result.shape[2:] != (th * s, tw * s):
                raise ModelError(
                    f"the model turned a {th}x{tw} input into shape {tuple(result.shape)}, "
                    f"expected (1, C, {th * s}, {tw * s}): is its scale really x{s}?"
                )
            if output is None:
                output = _allocate((1, result.shape[1], plan.height * s, plan.width * s))
            region = output[:, :, y * s : (y + th) * s, x * s : (x + tw) * s]
            region += result * (weight_y[:, None] * weight_x[None, :])
            done = row * len(plan.xs) + column + 1
            yield Progress(stage="tiles", done=done, total=plan.count)
    assert output is not None
    return output


def _allocate(shape: tuple[int, ...]) -> np.ndarray:
    try:
        return np.zeros(shape, dtype=np.float32)
    except MemoryError as error:
        # The whole output does not fit: smaller tiles cannot help, so say so plainly.
        gib = math.prod(shape) * 4 / 2**30
        raise NotEnoughMemory(f"not enough memory for the {gib:.1f} GiB output image") from error


@dataclass(frozen=True, kw_only=True)
class TileSizeChoice:
    """What ``auto`` picked and from what, for the notice the user sees."""

    tile: int
    budget_bytes: int
    bytes_per_pixel: float

    @property
    def notice(self) -> Notice:
        gib = self.budget_bytes / 2**30
        return Notice(message=f"tile size auto: {self.tile} (budget {gib:.1f} GiB)")


_BYTES_PER_PIXEL: dict[tuple[str, str], float] = {}


def auto_tile_size(
    descriptor: ModelDescriptor, *, budget_bytes: int | None = None
) -> TileSizeChoice:
    """The largest tile whose activations fit the budget (default: half the free memory)."""
    if budget_bytes is None:
        budget_bytes = default_budget_bytes()
    per_pixel = activation_bytes_per_pixel(descriptor)
    side = math.isqrt(int(budget_bytes / (per_pixel * ACTIVATION_SAFETY)))
    step = math.lcm(descriptor.size_multiple, 16)
    tile = min(MAX_TILE // step * step, max(side // step * step, MIN_TILE))
    return TileSizeChoice(tile=tile, budget_bytes=budget_bytes, bytes_per_pixel=per_pixel)


def choose_tile_size(descriptor: ModelDescriptor, *, budget_bytes: int | None = None) -> int:
    """Tile side for ``--tile auto``; ``auto_tile_size`` also gives the notice to show."""
    return auto_tile_size(descriptor, budget_bytes=budget_bytes).tile


def default_budget_bytes() -> int:
    return int(psutil.virtual_memory().available * BUDGET_FRACTION)


def activation_bytes_per_pixel(descriptor: ModelDescriptor) -> float:
    """Peak live activation bytes per LR input pixel, profiled once per model and weights."""
    key = (descriptor.name, descriptor.weights_id())
    if key not in _BYTES_PER_PIXEL:
        side = -(-PROFILE_SIDE // descriptor.size_multiple) * descriptor.size_multiple
        module = descriptor.load().eval()
        report = profile_model(module, height=side, width=side, in_channels=descriptor.in_channels)
        _BYTES_PER_PIXEL[key] = report.peak_activation_bytes / (side * side)
    return _BYTES_PER_PIXEL[key]
