"""The user's goal ("a 12 MP photo in 60 s", "640 x 360 video at 1 fps") as a per-tile budget.

A phone runs the exported model on fixed ``tile`` x ``tile`` low-resolution tiles that overlap
(as the bundle's README tells it to), so a picture of W x H pixels costs
``ceil((W - overlap) / stride) * ceil((H - overlap) / stride)`` tile runs, ``stride = tile -
overlap``; the time allowed per picture divided by that count is the budget the search gets.
The overlap is the one the export bundle advises for MFA students (engine tiling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.inference.tiling import OVERLAP_BY_ARCHITECTURE

MFA_OVERLAP = OVERLAP_BY_ARCHITECTURE["mfa"]
PHOTO_ASPECT = 4 / 3  # phone cameras


@dataclass(frozen=True, kw_only=True)
class Budget:
    width: int
    height: int
    tiles: int
    overlap: int
    stride: int
    seconds_per_picture: float
    per_tile_ms: float
    lines: tuple[str, ...]  # the arithmetic, one step a line

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def photo_size(megapixels: float) -> tuple[int, int]:
    """A 4:3 photo of about ``megapixels`` (12 MP -> 4000 x 3000)."""
    width = math.sqrt(megapixels * 1e6 * PHOTO_ASPECT)
    return round(width), round(width / PHOTO_ASPECT)


def tile_count(width: int, height: int, tile: int) -> tuple[int, int, int]:
    """(tiles, overlap, stride) for a ``width`` x ``height`` LR picture in ``tile`` tiles."""
    overlap = min(MFA_OVERLAP, tile // 2)
    stride = tile - overlap
    across = math.ceil(max(width - overlap, 1) / stride)
    down = math.ceil(max(height - overlap, 1) / stride)
    return across * down, overlap, stride


def _budget(width: int, height: int, seconds: float, tile: int, first: str) -> Budget:
    if width < 1 or height < 1 or seconds <= 0 or tile < 16:
        raise ValueError("the goal needs a positive size, time and a tile of 16 px or more")
    tiles, overlap, stride = tile_count(width, height, tile)
    per_tile = seconds * 1000.0 / tiles
    lines = (
        first,
        f"Tiles of {tile} x {tile} px overlapping by {overlap} px (a new tile every {stride} px):"
        f" {math.ceil(max(width - overlap, 1) / stride)} x "
        f"{math.ceil(max(height - overlap, 1) / stride)} = {tiles} tiles",
        f"{seconds * 1000:,.0f} ms / {tiles} tiles = {per_tile:.2f} ms per tile",
    )
    return Budget(
        width=width, height=height, tiles=tiles, overlap=overlap, stride=stride,
        seconds_per_picture=seconds, per_tile_ms=per_tile, lines=lines,
    )  # fmt: skip


def photo_budget(megapixels: float, seconds: float, tile: int) -> Budget:
    width, height = photo_size(megapixels)
    return _budget(
        width, height, seconds, tile,
        f"A {megapixels:g} MP photo is {width} x {height} px; it may take {seconds:g} s",
    )  # fmt: skip


def video_budget(width: int, height: int, fps: float, tile: int) -> Budget:
    if fps <= 0:
        raise ValueError("frames per second must be positive")
    return _budget(
        width, height, 1.0 / fps, tile,
        f"A {width} x {height} frame at {fps:g} frames per second may take "
        f"{1000.0 / fps:,.1f} ms",
    )  # fmt: skip
