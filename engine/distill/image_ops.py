"""Float image operations the degradation models share: convolution, resize, JPEG."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

RESIZE_MODES = ("area", "bilinear", "bicubic")


def convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """HxWxC float image * odd square kernel, reflected borders, same size (FFT: a 21x21
    kernel over a 512-px photo costs a few ms, not the half second of a direct sum)."""
    radius = kernel.shape[0] // 2
    padded = np.pad(image, ((radius, radius), (radius, radius), (0, 0)), mode="reflect")
    size = padded.shape[:2]
    # Circular convolution by numpy's FFT; dropping its first 2*radius rows and columns
    # leaves exactly the wrap-free ("valid") part, the image's own size.
    flipped = np.fft.rfft2(kernel[::-1, ::-1], s=size)[..., None]
    spectrum = np.fft.rfft2(padded, axes=(0, 1)) * flipped
    out = np.fft.irfft2(spectrum, s=size, axes=(0, 1))[2 * radius :, 2 * radius :]
    return out.astype(np.float32)


def _bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Half-pixel-centred bilinear without antialiasing (aliases on downscale, as
    torch's does, which the teacher's training used)."""
    out = image
    for axis, (old, new) in enumerate(zip(image.shape[:2], size, strict=True)):
        coords = np.clip((np.arange(new) + 0.5) * (old / new) - 0.5, 0, old - 1)
        low = np.floor(coords).astype(int)
        high = np.minimum(low + 1, old - 1)
        weight = (coords - low).astype(np.float32)
        shape = [1, 1, 1]
        shape[axis] = new
        weight = weight.reshape(shape)
        out = np.take(out, low, axis=axis) * (1 - weight) + np.take(out, high, axis=axis) * weight
    return out.astype(np.float32)


def resize(image: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """HxWxC float image -> size (height, width): area (box), bilinear (no antialias) or
    bicubic (PIL's, antialiased on downscale)."""
    if tuple(image.shape[:2]) == tuple(size):
        return np.asarray(image, dtype=np.float32)
    if mode == "bilinear":
        return _bilinear(image, size)
    if mode not in RESIZE_MODES:
        raise ValueError(f"unknown resize mode {mode!r}")
    resample = Image.BOX if mode == "area" else Image.BICUBIC
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(image[:, :, c], dtype=np.float32)).resize(
                (size[1], size[0]), resample
            )
        )
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=2)


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode an 8-bit RGB image as JPEG in memory and decode it again."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.array(decoded.convert("RGB"))
