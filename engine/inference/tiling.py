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

Tiles are blended into final blocks of output as they come (``assembly``), so only a tile
and a band of rows are ever float32; the caller's sink keeps the result (``run_tiled``: one
float array; the upscaler: 8/16-bit pixels). Input tiles are cut, padded and converted one
at a time (``tile_sources``). With a ``TileClock`` a long tile reports progress from this
computer's measured speed while it runs (``tile_clock``).

Out of memory: the tile is halved and the image restarted (every tile has the same size, so
this almost always happens on the first tile). Below ``min_tile`` it raises NotEnoughMemory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

import numpy as np

from engine.errors import ModelError
from engine.events import CancelToken, Finished, Notice, Progress
from engine.inference.assembly import FloatCanvas, Sink, StripBlender
from engine.inference.backends import Backend, is_out_of_memory
from engine.inference.tile_clock import CALIBRATION_SIDE, TileClock, TileProgress, run_reporting
from engine.inference.tile_memory import (  # noqa: F401  (re-exported: the tiling API)
    ACTIVATION_SAFETY,
    MAX_TILE,
    MIN_TILE,
    ImageFootprint,
    TileSizeChoice,
    auto_tile_size,
    choose_tile_size,
    default_budget_bytes,
    fit_requested_tile,
)
from engine.inference.tile_options import TileOptions
from engine.inference.tile_sources import (  # noqa: F401  (pad_to_multiple: the tiling API)
    ArraySource,
    PlanesSource,
    pad_to_multiple,
)
from engine.models.descriptor import ModelDescriptor

CROSSFADE = 8
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


def run_tiled(
    backend: Backend, image: np.ndarray, options: TileOptions
) -> Iterator[Progress | Notice | Finished]:
    """Upscale a (1, C, H, W) float32 array tile by tile; Finished.result is (1, C', sH, sW).

    Progress counts tiles. The output is not clamped.
    """
    source = ArraySource(image, options.size_multiple)
    height, width = source.size
    canvas = FloatCanvas(height * options.scale, width * options.scale)
    yield from run_tiled_into(backend, source, lambda: canvas, options)
    yield Finished(result=canvas.array)


def run_tiled_into(
    backend: Backend,
    source: ArraySource | PlanesSource,
    make_sink: Callable[[], Sink],
    options: TileOptions,
) -> Iterator[Progress | Notice]:
    """``run_tiled`` handing final blocks of output to a sink instead of one float array.

    ``make_sink`` is called at every (re)start: after an out-of-memory retry the blocks
    begin again at (0, 0).
    """
    scale, overlap, size_multiple = options.scale, options.overlap, options.size_multiple
    cancel, clock, tile = options.cancel, options.clock, options.tile
    while True:
        plan = plan_tiles(
            *source.padded_size,
            tile=tile,
            overlap=overlap,
            size_multiple=size_multiple,
            scale=scale,
        )
        if plan.count > 1 and plan.overlap < overlap:
            yield Notice(
                message=f"{tile} px tiles are small for this model: overlap {plan.overlap} px "
                f"instead of {overlap}, seams may be faintly visible"
            )
        used = max(plan.tile_height, plan.tile_width)
        try:
            yield from _run_plan(backend, source, plan, make_sink(), cancel, clock)
            return
        except NotEnoughMemory:
            raise
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            tile = used // 2 // size_multiple * size_multiple
            if tile < max(options.min_tile, size_multiple):
                raise NotEnoughMemory(f"not enough memory even with {used} px tiles") from error
        # Outside the except block: the failed attempt's traceback (and the tensors its frames
        # hold) is released before the caller gets control back.
        yield TileFallback(
            message=f"out of memory with {used} px tiles; retrying with {tile} px", tile=tile
        )


def _run_plan(
    backend: Backend,
    source: ArraySource | PlanesSource,
    plan: TilePlan,
    sink: Sink,
    cancel: CancelToken | None,
    clock: TileClock | None,
) -> Iterator[Progress]:
    """Run every tile of ``plan`` and blend it into ``sink``."""
    s, th, tw = plan.scale, plan.tile_height, plan.tile_width
    height, width = source.size
    blender = StripBlender(
        ys=plan.ys,
        xs=plan.xs,
        tile_height=th,
        tile_width=tw,
        scale=s,
        weights_y=axis_weights(plan.ys, th, plan.overlap, s),
        weights_x=axis_weights(plan.xs, tw, plan.overlap, s),
        crop=(height * s, width * s),
        sink=sink,
    )
    yield Progress(stage="tiles", done=0, total=plan.count)
    if clock is not None and clock.seconds_per_pixel is None:
        _calibrate(backend, source, clock, th * tw, cancel)
    for row, y in enumerate(plan.ys):
        for column, x in enumerate(plan.xs):
            if cancel is not None:
                cancel.raise_if_cancelled()
            done = row * len(plan.xs) + column
            result = yield from _run_tile(
                backend, source.read(y, x, th, tw), cancel, clock, done, plan.count
            )
            if result.shape[0] != 1 or result.shape[2:] != (th * s, tw * s):
                raise ModelError(
                    f"the model turned a {th}x{tw} input into shape {tuple(result.shape)}, "
                    f"expected (1, C, {th * s}, {tw * s}): is its scale really x{s}?"
                )
            blender.add(row, column, result)
            del result  # blended: its memory is free before the next tile runs
            yield Progress(stage="tiles", done=done + 1, total=plan.count)


def _run_tile(
    backend: Backend,
    tile: np.ndarray,
    cancel: CancelToken | None,
    clock: TileClock | None,
    done: int,
    total: int,
) -> Generator[Progress, None, np.ndarray]:
    if clock is None:
        return backend.run(tile, cancel=cancel)
    pixels = tile.shape[2] * tile.shape[3]
    expected = clock.expected(pixels)
    per_tile = expected or 0.0

    def report(fraction: float, left: float) -> Progress:
        seconds_left = left + (total - done - 1) * per_tile
        overall = (done + fraction) / total
        return TileProgress(
            stage="tiles",
            done=done,
            total=total,
            message=f"tile {done + 1} of {total}: about {round(100 * fraction)}% "
            f"(estimated from this computer's speed)",
            fraction=overall,
            seconds_left=seconds_left,
        )

    started = time.perf_counter()
    result = yield from run_reporting(
        lambda: backend.run(tile, cancel=cancel), expected=expected, report=report, cancel=cancel
    )
    clock.record(pixels, time.perf_counter() - started)
    return result


def _calibrate(
    backend: Backend,
    source: ArraySource | PlanesSource,
    clock: TileClock,
    tile_pixels: int,
    cancel: CancelToken | None,
) -> None:
    """Time a small crop before a large first tile, so it can report progress too."""
    height, width = source.padded_size
    side = CALIBRATION_SIDE
    if tile_pixels < 16 * side * side or min(height, width) < side:
        return
    crop = source.read((height - side) // 2, (width - side) // 2, side, side)
    clock.calibrate(lambda part: backend.run(part, cancel=cancel), crop, cancel=cancel)
