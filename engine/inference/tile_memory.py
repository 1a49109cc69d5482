"""How large a tile fits in memory, counting what the whole image needs besides the model.

A tile costs the model's live activations (profiled once per model, times a safety factor
for backend workspace) and the float32 blending of its output (``assembly.blend_bytes``).
What the image needs whatever the tile (the 8/16-bit output, the input planes) is reserved
first: the tiles get ``BUDGET_FRACTION`` of the memory that is left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psutil

from engine.events import Notice, TileChoice
from engine.inference.assembly import blend_bytes
from engine.models.descriptor import ModelDescriptor
from engine.models.profiling import profile_model

MIN_TILE = 32
MAX_TILE = 512  # larger tiles barely speed up a CPU and make cancel and progress sluggish
BUDGET_FRACTION = 0.5  # of available memory: the rest of the app and the OS need some too
# Backend workspace beyond the live activations a profile sees (conv scratch, onnxruntime's
# arena rounding, tile copies). Measured peak RSS growth / profiled peak: 1.3 to 1.5.
ACTIVATION_SAFETY = 2.0
PROFILE_SIDE = 32

_BYTES_PER_PIXEL: dict[tuple[str, str], float] = {}


@dataclass(frozen=True, kw_only=True)
class ImageFootprint:
    """What tiling one image needs besides the tile: its LR width, the channels and blend
    overlap of the model output, and the bytes held whatever the tile (output, input)."""

    width: int
    channels: int
    overlap: int
    reserved_bytes: int = 0
    whole_rows: bool = False  # a resize joins each row of tiles into full-width float rows


@dataclass(frozen=True, kw_only=True)
class TileSizeChoice:
    """What ``auto`` picked and from what, for the notice the user sees."""

    tile: int
    budget_bytes: int
    bytes_per_pixel: float
    reserved_bytes: int = 0

    @property
    def notice(self) -> TileChoice:
        return TileChoice(
            tile=self.tile, budget_bytes=self.budget_bytes, reserved_bytes=self.reserved_bytes
        )


def tile_bytes(descriptor: ModelDescriptor, tile: int, footprint: ImageFootprint | None) -> float:
    """Memory one ``tile`` px tile needs: activations with their safety margin, and the
    float32 blending of its output when the image is known."""
    need = tile * tile * activation_bytes_per_pixel(descriptor) * ACTIVATION_SAFETY
    if footprint is not None:
        need += blend_bytes(
            tile,
            scale=descriptor.scale,
            width=footprint.width,
            channels=footprint.channels,
            overlap=min(footprint.overlap, tile // 2),
        )
        if footprint.whole_rows:
            # RowCollector's rows of one row of tiles, and the resizer's hold on the last.
            row_bytes = descriptor.scale * footprint.width * descriptor.scale * footprint.channels
            need += 2 * tile * row_bytes * 4
    return need


def auto_tile_size(
    descriptor: ModelDescriptor,
    *,
    budget_bytes: int | None = None,
    footprint: ImageFootprint | None = None,
) -> TileSizeChoice:
    """The largest tile (at most MAX_TILE) that fits the budget; the default budget is
    BUDGET_FRACTION of the available memory left after ``footprint.reserved_bytes``."""
    reserved = footprint.reserved_bytes if footprint is not None else 0
    if budget_bytes is None:
        budget_bytes = default_budget_bytes(reserved)
    per_pixel = activation_bytes_per_pixel(descriptor)
    step = math.lcm(descriptor.size_multiple, 16)
    side = math.isqrt(int(max(budget_bytes, 0) / (per_pixel * ACTIVATION_SAFETY)))
    tile = min(MAX_TILE // step * step, max(side // step * step, MIN_TILE))
    while tile > MIN_TILE and tile_bytes(descriptor, tile, footprint) > budget_bytes:
        tile = max(MIN_TILE, tile - step)
    return TileSizeChoice(
        tile=tile, budget_bytes=budget_bytes, bytes_per_pixel=per_pixel, reserved_bytes=reserved
    )


def fit_requested_tile(
    descriptor: ModelDescriptor, requested: int, *, footprint: ImageFootprint | None = None
) -> tuple[int, Notice | None]:
    """``--tile N`` as given when it fits in memory; otherwise what auto picks, and why."""
    budget = default_budget_bytes(footprint.reserved_bytes if footprint is not None else 0)
    need = tile_bytes(descriptor, requested, footprint)
    if need <= budget:
        return requested, None
    choice = auto_tile_size(descriptor, budget_bytes=budget, footprint=footprint)
    if choice.tile >= requested:
        return requested, None
    return choice.tile, Notice(
        message=f"--tile {requested} needs about {need / 2**30:.1f} GiB, more than the "
        f"{budget / 2**30:.1f} GiB this computer can spare; using {choice.tile} px tiles"
    )


def choose_tile_size(descriptor: ModelDescriptor, *, budget_bytes: int | None = None) -> int:
    """Tile side for ``--tile auto``; ``auto_tile_size`` also gives the notice to show."""
    return auto_tile_size(descriptor, budget_bytes=budget_bytes).tile


def default_budget_bytes(reserved_bytes: int = 0) -> int:
    available = psutil.virtual_memory().available - reserved_bytes
    return max(0, int(available * BUDGET_FRACTION))


def activation_bytes_per_pixel(descriptor: ModelDescriptor) -> float:
    """Peak live activation bytes per LR input pixel, profiled once per model and weights."""
    key = (descriptor.name, descriptor.weights_id())
    if key not in _BYTES_PER_PIXEL:
        side = -(-PROFILE_SIDE // descriptor.size_multiple) * descriptor.size_multiple
        module = descriptor.load().eval()
        report = profile_model(module, height=side, width=side, in_channels=descriptor.in_channels)
        _BYTES_PER_PIXEL[key] = report.peak_activation_bytes / (side * side)
    return _BYTES_PER_PIXEL[key]
