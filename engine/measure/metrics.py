"""Super-resolution image metrics, the standard way: Y channel (BT.601), border shaved.

These are the conventions behind every published x4 table (and the reference figures in
docs/TEACHER.md): ``modcrop`` the ground truth to a multiple of the scale, downscale it with PIL's
bicubic filter, compare 8-bit outputs on the luma channel ``Y = 16 + 65.481 R + 128.553 G +
24.966 B`` (RGB in [0, 1], Y in [16, 235]) after cutting ``shave`` pixels off every border.
SSIM is Wang et al. 2004 computed as scikit-image's ``structural_similarity`` does by
default (7x7 uniform window, sample covariance, data range 255, mean over the "valid" part):
that is the convention of the project's reference table (bicubic Set5 28.43 dB / 0.8230).
MATLAB's and BasicSR's 11x11 Gaussian-window SSIM reads about 0.012 lower on the same images
(0.8111 for bicubic Set5), so compare SSIM figures only within one convention.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])
_SSIM_WINDOW = 7
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] quantised to 8 bits, as it would be saved (round half even)."""
    return np.clip(np.rint(np.asarray(image, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """HxW, HxWx1 or HxWx3 -> HxWx3 (grey replicated; alpha, if any, dropped)."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return image[:, :, :3]


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """8-bit RGB (HxWx3 uint8) -> BT.601 luma in [16, 235] as float64 HxW."""
    if image.dtype != np.uint8:
        raise TypeError(f"rgb_to_y expects uint8 RGB, got {image.dtype}")
    rgb = as_rgb(image).astype(np.float64) / 255.0
    # Element-wise rather than a matrix product: BLAS may round differently for different
    # memory layouts, and identical images must give bit-identical Y (PSNR exactly inf).
    return (
        rgb[..., 0] * _Y_WEIGHTS[0]
        + rgb[..., 1] * _Y_WEIGHTS[1]
        + rgb[..., 2] * _Y_WEIGHTS[2]
        + 16.0
    )


def modcrop(image: np.ndarray, multiple: int) -> np.ndarray:
    """Cut the bottom/right rows and columns so both sides are a multiple of ``multiple``."""
    height, width = image.shape[:2]
    return image[: height - height % multiple, : width - width % multiple]


def shave(image: np.ndarray, border: int) -> np.ndarray:
    return image[border:-border, border:-border] if border > 0 else image


def bicubic_resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """PIL's bicubic resize (antialiased when shrinking) of an 8-bit RGB image."""
    return np.asarray(Image.fromarray(as_rgb(image)).resize((width, height), Image.BICUBIC))


def bicubic_down(image: np.ndarray, scale: int) -> np.ndarray:
    """The standard LR input: PIL bicubic by 1/``scale`` of an already modcropped image."""
    height, width = image.shape[:2]
    if height % scale or width % scale:
        raise ValueError(f"{width}x{height} is not a multiple of {scale}: modcrop first")
    return bicubic_resize(image, width // scale, height // scale)


def psnr(a: np.ndarray, b: np.ndarray, *, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB; ``math.inf`` for identical images (no division)."""
    _check_same_shape(a, b)
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(data_range**2 / mse)


def _mean_valid(image: np.ndarray) -> np.ndarray:
    """Mean over every full 7x7 window (a separable box filter, 'valid' part only)."""
    view = np.lib.stride_tricks.sliding_window_view(image, _SSIM_WINDOW, axis=0).mean(axis=-1)
    return np.lib.stride_tricks.sliding_window_view(view, _SSIM_WINDOW, axis=1).mean(axis=-1)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two single-channel images in the 0..255 range (float64 throughout)."""
    _check_same_shape(a, b)
    if a.ndim != 2:
        raise ValueError(f"ssim expects single-channel HxW images, got shape {a.shape}")
    if min(a.shape) < _SSIM_WINDOW:
        raise ValueError(f"ssim needs at least {_SSIM_WINDOW}x{_SSIM_WINDOW} pixels")
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    # Unbiased (sample) variances, as scikit-image's default use_sample_covariance=True.
    unbias = _SSIM_WINDOW**2 / (_SSIM_WINDOW**2 - 1)
    mu_x, mu_y = _mean_valid(x), _mean_valid(y)
    var_x = unbias * (_mean_valid(x * x) - mu_x**2)
    var_y = unbias * (_mean_valid(y * y) - mu_y**2)
    cov = unbias * (_mean_valid(x * y) - mu_x * mu_y)
    numerator = (2 * mu_x * mu_y + _C1) * (2 * cov + _C2)
    denominator = (mu_x**2 + mu_y**2 + _C1) * (var_x + var_y + _C2)
    return float(np.mean(numerator / denominator))


def y_scores(output: np.ndarray, reference: np.ndarray, *, border: int) -> tuple[float, float]:
    """(PSNR, SSIM) of two 8-bit RGB images on Y with ``border`` pixels shaved."""
    _check_same_shape(output, reference)
    out_y, ref_y = shave(rgb_to_y(output), border), shave(rgb_to_y(reference), border)
    return psnr(out_y, ref_y), ssim(out_y, ref_y)


def _check_same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
