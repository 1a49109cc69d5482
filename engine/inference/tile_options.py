"""How one image is tiled: the settings ``run_tiled`` and ``run_tiled_into`` share."""

from __future__ import annotations

from dataclasses import dataclass

from engine.events import CancelToken
from engine.inference.tile_clock import TileClock
from engine.inference.tile_memory import MIN_TILE


@dataclass(frozen=True, kw_only=True)
class TileOptions:
    """``tile``: LR tile side including the overlap (None: the whole image at once); after an
    out of memory it is halved down to ``min_tile``. ``size_multiple``: tile origins and the
    padded image follow the model's grid. ``cancel`` is checked before every tile and handed
    to the backend, which stops within one layer of the tile it is running. ``clock`` times
    the tiles and reports progress inside long ones."""

    scale: int
    tile: int | None
    overlap: int
    size_multiple: int = 1
    cancel: CancelToken | None = None
    min_tile: int = MIN_TILE
    clock: TileClock | None = None
