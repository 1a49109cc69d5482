"""HR crop -> LR input: the classic degradation model, reproducible from a seed.

Order: Gaussian blur at HR (the camera's optics), PIL bicubic x4 down (the same filter the
eval protocol uses), Gaussian noise (the sensor), JPEG (the file). Each step happens with its
own probability. ``model = "real"`` mixes clean, mild and real-world draws
(engine.distill.realworld). Every random number is drawn up front in a fixed order, whatever the
probabilities say, so changing one probability never reshuffles the other draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from engine.distill.config import SCALE, DegradationConfig
from engine.distill.image_ops import jpeg_roundtrip
from engine.distill.realworld import ChainDraw, apply_chain, draw_chain


@dataclass(frozen=True, kw_only=True)
class DegradationDraw:
    """What was applied to one crop (None: that step was skipped)."""

    blur_sigma: float | None
    noise_sigma: float | None
    jpeg_quality: int | None
    noise_seed: int


def draw(config: DegradationConfig, seed: int) -> DegradationDraw:
    rng = np.random.default_rng(seed)
    u_blur, sigma, u_noise, noise, u_jpeg = rng.random(5)
    quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
    noise_seed = int(rng.integers(0, 2**63 - 1))
    low, high = config.blur_sigma
    n_low, n_high = config.noise_sigma
    return DegradationDraw(
        blur_sigma=low + (high - low) * sigma if u_blur < config.blur_prob else None,
        noise_sigma=n_low + (n_high - n_low) * noise if u_noise < config.noise_prob else None,
        jpeg_quality=quality if u_jpeg < config.jpeg_prob else None,
        noise_seed=noise_seed,
    )


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an HxWxC float image, reflected borders, radius 3 sigma."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-(offsets**2) / (2 * sigma**2))
    kernel /= kernel.sum()
    padded = np.pad(image, ((radius, radius), (radius, radius), (0, 0)), mode="reflect")
    height, width = image.shape[:2]
    rows = sum(w * padded[i : i + height] for i, w in enumerate(kernel))
    return sum(w * rows[:, i : i + width] for i, w in enumerate(kernel)).astype(np.float32)


def bicubic_down_float(image: np.ndarray, scale: int) -> np.ndarray:
    """PIL bicubic (antialiased) of a float HxWx3 image, channel by channel, no quantisation."""
    height, width = image.shape[:2]
    size = (width // scale, height // scale)
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(image[:, :, c])).resize(size, Image.BICUBIC)
        )
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=2)


@dataclass(frozen=True, kw_only=True)
class MixedDraw:
    """What ``model = "real"`` applies to one image: exactly one of the three kinds."""

    kind: str  # "clean", "mild" or "real"
    mild: DegradationDraw | None
    chain: ChainDraw | None


CLEAN = DegradationConfig(blur_prob=0.0, noise_prob=0.0, jpeg_prob=0.0)


def draw_mixed(config: DegradationConfig, seed: int) -> MixedDraw:
    u = float(np.random.default_rng([seed, 0]).random())
    if u < config.clean_share:
        return MixedDraw(kind="clean", mild=draw(CLEAN, seed), chain=None)
    if u < config.clean_share + config.mild_share:
        return MixedDraw(kind="mild", mild=draw(config, seed), chain=None)
    return MixedDraw(kind="real", mild=None, chain=draw_chain(seed))


def degrade(hr: np.ndarray, config: DegradationConfig, seed: int) -> np.ndarray:
    """HxWx3 float32 HR in [0, 1] (H, W multiples of 4) -> (H/4)x(W/4)x3 uint8 LR."""
    if hr.ndim != 3 or hr.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 image, got shape {hr.shape}")
    if hr.shape[0] % SCALE or hr.shape[1] % SCALE:
        raise ValueError(f"HR size {hr.shape[:2]} is not a multiple of {SCALE}")
    if config.model == "mild":
        return apply_mild(hr, draw(config, seed))
    mixed = draw_mixed(config, seed)
    if mixed.chain is not None:
        lr_size = (hr.shape[0] // SCALE, hr.shape[1] // SCALE)
        return apply_chain(np.clip(hr, 0.0, 1.0), mixed.chain, lr_size)
    return apply_mild(hr, mixed.mild)


def apply_mild(hr: np.ndarray, chosen: DegradationDraw) -> np.ndarray:
    image = np.asarray(hr, dtype=np.float32)
    if chosen.blur_sigma is not None:
        image = gaussian_blur(image, chosen.blur_sigma)
    image = bicubic_down_float(image, SCALE) * 255.0
    if chosen.noise_sigma is not None:
        noise = np.random.default_rng(chosen.noise_seed).standard_normal(image.shape)
        image = image + chosen.noise_sigma * noise.astype(np.float32)
    lr = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    if chosen.jpeg_quality is not None:
        lr = jpeg_roundtrip(lr, chosen.jpeg_quality)
    return lr
