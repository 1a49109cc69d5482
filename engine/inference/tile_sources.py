"""Where tiles come from: an NCHW array padded once, or an HxWxC photo cut tile by tile."""

from __future__ import annotations

import numpy as np


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad the bottom and right of an NCHW array to a multiple of ``multiple``."""
    height, width = image.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    if not pad_h and not pad_w:
        return image
    return np.pad(image, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="reflect")


class ArraySource:
    """Tiles of a (1, C, H, W) float32 array, reflect-padded to the model's size multiple."""

    def __init__(self, image: np.ndarray, size_multiple: int) -> None:
        if image.ndim != 4 or image.shape[0] != 1:
            raise ValueError(f"expected a (1, C, H, W) array, got shape {image.shape}")
        self.size = image.shape[2], image.shape[3]
        self._padded = pad_to_multiple(np.ascontiguousarray(image, np.float32), size_multiple)
        self.padded_size = self._padded.shape[2], self._padded.shape[3]

    def read(self, y: int, x: int, height: int, width: int) -> np.ndarray:
        return self._padded[:, :, y : y + height, x : x + width]


class PlanesSource:
    """Tiles of an HxWxC float image for a model of ``channels`` channels, cut, padded and
    converted one tile at a time: no full-size NCHW or padded copy of a large photo."""

    def __init__(self, planes: np.ndarray, channels: int, size_multiple: int) -> None:
        self._planes, self._channels, self._m = planes, channels, size_multiple
        height, width = planes.shape[:2]
        self.size = height, width
        self.padded_size = (
            -(-height // size_multiple) * size_multiple,
            -(-width // size_multiple) * size_multiple,
        )

    def read(self, y: int, x: int, height: int, width: int) -> np.ndarray:
        rows, columns = self.size
        # Start early enough that the reflection sees the rows a whole-image pad would.
        top, left = min(y, max(0, rows - self._m)), min(x, max(0, columns - self._m))
        region = self._planes[top : min(y + height, rows), left : min(x + width, columns)]
        pad = ((0, max(0, y + height - rows)), (0, max(0, x + width - columns)), (0, 0))
        if pad[0][1] or pad[1][1]:
            region = np.pad(region, pad, mode="reflect")
        region = region[y - top :, x - left :]
        if region.shape[2] != self._channels:
            region = (
                np.repeat(region, 3, axis=2)
                if self._channels == 3
                else region.mean(axis=2, keepdims=True)
            )
        return np.ascontiguousarray(region.transpose(2, 0, 1)[None], dtype=np.float32)
