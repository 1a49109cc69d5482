"""Blend overlapping tile outputs into finished blocks, keeping only a little float32.

A full-size float32 output of a 12-megapixel photo at x4 is 2.1 GiB. Here the only float
buffers are the tile being blended (with the columns it shares with the next tile) and the
band of rows the next row of tiles still adds to. As soon as a block of output is final
(no later tile touches it) it goes to the sink, which for a file quantizes it to 8 or 16
bits. Every pixel receives the same additions in the same order as in one full-size array
(tiles in row-major order, onto zeros), so the blocks are bit-identical to that array's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# (top, left, float32 block shaped (channels, rows, columns)) in output pixels. For one row
# of tiles the blocks share their rows and arrive left to right; rows of tiles arrive top to
# bottom. A restart (out of memory: smaller tiles) begins again at (0, 0).
Sink = Callable[[int, int, np.ndarray], None]


class StripBlender:
    """Accumulates weighted tiles laid out on ``ys`` x ``xs`` (LR origins) and hands final
    blocks, cropped to ``crop`` (output height, width), to ``sink``.

    ``weights_y``/``weights_x`` are the per-axis blend weights of ``tiling.axis_weights``.
    Call ``add`` for every tile in row-major order.
    """

    def __init__(
        self,
        *,
        ys: tuple[int, ...],
        xs: tuple[int, ...],
        tile_height: int,
        tile_width: int,
        scale: int,
        weights_y: list[np.ndarray],
        weights_x: list[np.ndarray],
        crop: tuple[int, int],
        sink: Sink,
    ) -> None:
        self.ys, self.xs, self.scale = ys, xs, scale
        self.tile_height, self.tile_width = tile_height, tile_width
        self.weights_y, self.weights_x = weights_y, weights_x
        self.crop, self.sink = crop, sink
        self.full_width = (xs[-1] + tile_width) * scale
        self._carry: np.ndarray | None = None  # rows of this tile row earlier rows added to
        self._next_carry: np.ndarray | None = None
        self._pending: np.ndarray | None = None  # columns the next tile of this row shares
        self._pending_left = 0

    def add(self, row: int, column: int, result: np.ndarray) -> None:
        """Blend one tile's (1, C, th*s, tw*s) float32 output, which is overwritten (a
        read-only or other-typed one is copied first); deliver what is now final."""
        s = self.scale
        last_row, last_column = row == len(self.ys) - 1, column == len(self.xs) - 1
        height, width = self.tile_height * s, self.tile_width * s
        left = self.xs[column] * s
        top = self.ys[row] * s
        final_rows = height if last_row else self.ys[row + 1] * s - top
        final_columns = width if last_column else self.xs[column + 1] * s - left
        if column == 0:
            self._start_row(result.shape[1], height - final_rows)
        block = result[0]
        if block.dtype != np.float32 or not block.flags.writeable:
            block = block.astype(np.float32)
        # This tile's share, weighted in place: no second tile-sized float array.
        block *= self.weights_y[row][:, None] * self.weights_x[column][None, :]
        # Then what earlier tiles added there (a + b == b + a exactly: the result is the same
        # as adding this tile onto them). The pending columns already hold the carried rows.
        shared = 0
        if self._pending is not None:
            shared = self._pending.shape[2]
            block[:, :, :shared] += self._pending
        if self._carry is not None:
            rows = self._carry.shape[1]
            block[:, :rows, shared:] += self._carry[:, :, left + shared : left + width]
        self._deliver(top, left, block[:, :final_rows, :final_columns])
        if self._next_carry is not None:
            self._next_carry[:, :, left : left + final_columns] = block[
                :, final_rows:, :final_columns
            ]
        # A copy, so the tile's own array can go before the next tile runs.
        self._pending = None if last_column else block[:, :, final_columns:].copy()
        self._pending_left = left + final_columns
        if last_column:
            self._carry, self._next_carry = self._next_carry, None

    def _start_row(self, channels: int, carried_rows: int) -> None:
        self._pending = None
        self._next_carry = None
        if carried_rows:
            self._next_carry = np.zeros((channels, carried_rows, self.full_width), np.float32)

    def _deliver(self, top: int, left: int, block: np.ndarray) -> None:
        height, width = self.crop
        rows, columns = min(block.shape[1], height - top), min(block.shape[2], width - left)
        if rows > 0 and columns > 0:
            self.sink(top, left, block[:, :rows, :columns])


class FloatCanvas:
    """A sink keeping the whole output as one (1, C, H, W) float32 array (small images,
    and the input of a second model pass)."""

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.array: np.ndarray | None = None

    def __call__(self, top: int, left: int, block: np.ndarray) -> None:
        if self.array is None:
            self.array = np.zeros((1, block.shape[0], self.height, self.width), np.float32)
        rows, columns = block.shape[1:]
        self.array[0, :, top : top + rows, left : left + columns] = block


class RowCollector:
    """Joins the blocks of one row of tiles into full-width rows for a row-wise sink (a
    resize needs whole rows); holds one row of tiles' final rows as float32."""

    def __init__(self, width: int, rows_sink: Callable[[int, np.ndarray], None]) -> None:
        self.width, self.rows_sink = width, rows_sink
        self._rows: np.ndarray | None = None
        self._top = -1

    def __call__(self, top: int, left: int, block: np.ndarray) -> None:
        if left == 0:
            self._rows = np.empty((block.shape[0], block.shape[1], self.width), np.float32)
            self._top = top
        assert self._rows is not None and top == self._top
        self._rows[:, :, left : left + block.shape[2]] = block
        if left + block.shape[2] == self.width:
            rows, self._rows = self._rows, None
            self.rows_sink(top, rows)


def blend_bytes(tile: int, *, scale: int, width: int, channels: int, overlap: int) -> int:
    """Float32 bytes the blender holds at most for ``tile`` px tiles over a ``width`` px wide
    (LR) image: the tile being blended, its clipped copy on the way to the sink, and two
    bands of carried rows."""
    tile_out = (tile * scale) ** 2 * channels * 4
    band = overlap * scale * width * scale * channels * 4
    return 2 * tile_out + 2 * band
