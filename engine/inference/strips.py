"""From final blocks of model output to the 8/16-bit result, one block or strip at a time.

The steps are those the full-size float path took, in the same order and with the same
arithmetic: clip to [0, 1], back to the image's channels (mean or repeat), a Lanczos resize
for sizes other than the model's (whole rows, Pillow's filter with a ``box``, which gives
the coefficients of a whole-image resize), compositing over white for a format without
alpha, grey to RGB for a format without grey, and rounding to the output's integer range.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image

from engine.imageio.raster import quantize
from engine.inference.assembly import RowCollector, Sink

LANCZOS_SUPPORT = 3.0  # Pillow's Lanczos filter reaches 3 source pixels (times the downscale)
RESIZE_ROWS = 64  # output rows resized at once
QUANTIZE_ROWS = 128  # rows of a block rounded at once


class ToImageChannels:
    """Clip, then turn the model's channels into the image's (a grey photo through an RGB
    model comes back as the mean of R, G and B)."""

    def __init__(self, channels: int, sink: Sink) -> None:
        self.channels, self.sink = channels, sink

    def __call__(self, top: int, left: int, block: np.ndarray) -> None:
        values = np.clip(block, 0.0, 1.0)
        if values.shape[0] != self.channels:
            values = (
                values.mean(axis=0, keepdims=True)
                if self.channels == 1
                else np.repeat(values, self.channels, axis=0)
            )
        self.sink(top, left, values)


class Quantizer:
    """Writes blocks into ``out[..., start:start + channels]`` (HxWxK uint8/uint16).

    ``backdrop``: the alpha (HxWx1 uint16) to composite over white with, for formats that
    cannot hold it. Grey blocks are repeated to RGB when ``channels`` is 3.
    """

    def __init__(
        self, out: np.ndarray, *, start: int, channels: int, backdrop: np.ndarray | None = None
    ) -> None:
        self.out, self.start, self.channels, self.backdrop = out, start, channels, backdrop

    def __call__(self, top: int, left: int, block: np.ndarray) -> None:
        # A few rows at a time: the float temporaries stay small whatever the block.
        for first in range(0, block.shape[1], QUANTIZE_ROWS):
            self._write(top + first, left, block[:, first : first + QUANTIZE_ROWS])

    def _write(self, top: int, left: int, block: np.ndarray) -> None:
        rows, columns = block.shape[1:]
        values = block.transpose(1, 2, 0)
        if self.backdrop is not None:
            alpha = self.backdrop[top : top + rows, left : left + columns]
            alpha = alpha.astype(np.float32) / np.float32(np.iinfo(alpha.dtype).max)
            values = values * alpha + (1.0 - alpha)
        if values.shape[2] != self.channels:
            values = np.repeat(values, self.channels, axis=2)
        end = self.start + self.channels
        quantize(values, self.out[top : top + rows, left : left + columns, self.start : end])

    def fill(self, value: float) -> None:
        """Every pixel ``value`` (a constant alpha), without a full-size float plane."""
        level = np.empty((1, 1, 1), self.out.dtype)
        quantize(np.full((1, 1, 1), value, np.float32), level)
        self.out[:, :, self.start : self.start + self.channels] = level


class LanczosRows:
    """Resizes full-width float rows, arriving top to bottom, to ``size`` (width, height)
    with Pillow's Lanczos filter, ``RESIZE_ROWS`` output rows at a time; clipped as before.

    Holds only the source rows the next output rows still need.
    """

    def __init__(self, source_size: tuple[int, int], size: tuple[int, int], sink: Sink) -> None:
        self.source_height, self.source_width = source_size
        self.width, self.height = size
        self.sink = sink
        self.step = self.source_height / self.height
        self.support = LANCZOS_SUPPORT * max(self.step, 1.0)
        self._chunks: list[tuple[int, np.ndarray]] = []
        self._next = 0  # next output row

    def __call__(self, top: int, rows: np.ndarray) -> None:
        if top == 0:  # a restart after an out-of-memory retry
            self._chunks, self._next = [], 0
        self._chunks.append((top, rows))
        have = top + rows.shape[1]
        while self._next < self.height:
            first = self._next
            last = min(self.height, first + RESIZE_ROWS)
            start, stop = self._window(first, last)
            if have < stop:
                break
            self.sink(first, 0, self._resize(first, last, start, stop))
            self._next = last
            keep_from = self._window(last, min(self.height, last + RESIZE_ROWS))[0]
            self._chunks = [(t, c) for t, c in self._chunks if t + c.shape[1] > keep_from]

    def _window(self, first: int, last: int) -> tuple[int, int]:
        """Source rows [start, stop) every tap of output rows [first, last) reads."""
        start = max(0, math.floor(first * self.step - self.support) - 1)
        stop = min(self.source_height, math.ceil(last * self.step + self.support) + 2)
        return start, stop

    def _gather(self, start: int, stop: int) -> np.ndarray:
        parts = [
            chunk[:, max(start - top, 0) : stop - top]
            for top, chunk in self._chunks
            if top < stop and top + chunk.shape[1] > start
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _resize(self, first: int, last: int, start: int, stop: int) -> np.ndarray:
        rows = self._gather(start, stop)
        # min(): last * step may round a hair above the image's height.
        bottom = min(last * self.step - start, float(stop - start))
        box = (0.0, first * self.step - start, float(self.source_width), bottom)
        planes = [
            np.asarray(
                Image.fromarray(np.ascontiguousarray(plane)).resize(
                    (self.width, last - first), Image.Resampling.LANCZOS, box=box
                )
            )
            for plane in rows
        ]
        return np.clip(np.stack(planes), 0.0, 1.0).astype(np.float32)


def make_chain(
    *,
    image_channels: int,
    model_size: tuple[int, int],
    size: tuple[int, int],
    final: Sink,
) -> Callable[[], Sink]:
    """A fresh sink chain per (re)start: model output at ``model_size`` (height, width) to
    ``final`` at ``size`` (width, height)."""
    def make() -> Sink:
        sink = final
        if (model_size[1], model_size[0]) != size:
            sink = RowCollector(model_size[1], LanczosRows(model_size, size, final))
        return ToImageChannels(image_channels, sink)

    return make
