"""HR -> LR the way real photos are damaged: Real-ESRGAN's second-order chain, our own code.

Facts from the Real-ESRGAN paper (Wang et al., 2021) and its public x4plus training
options: blur, random resize, noise, JPEG, twice,
then a final resize to the LR size with a sinc filter before or after the last JPEG. Every
parameter is drawn up front from the seed (``draw_chain``), then applied (``apply_chain``), so
the same seed gives the same bytes and a draw can be inspected or tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.distill.image_ops import RESIZE_MODES, convolve, jpeg_roundtrip, resize
from engine.distill.kernels import KernelDraw, draw_kernel, draw_sinc, make_kernel

# Poisson noise counts per unit of signal. Real-ESRGAN takes 2^ceil(log2(#distinct values)),
# which on its float crops is 4096 and more; a constant keeps the noise independent of the
# window size the teacher cache degrades (a whole photo has more distinct values than a crop).
POISSON_PEAK = 4096.0


@dataclass(frozen=True, kw_only=True)
class StageSpec:
    """Ranges of one stage of the chain (sigma in 8-bit levels for Gaussian noise)."""

    blur_prob: float
    blur_sigma: tuple[float, float]
    resize_probs: tuple[float, float, float]  # up, down, keep
    resize_up: tuple[float, float]
    resize_down: tuple[float, float]
    gaussian_prob: float
    noise_sigma: tuple[float, float]
    poisson_scale: tuple[float, float]
    grey_prob: float
    jpeg_quality: tuple[int, int]


# Real-ESRGAN x4plus's ranges, (first stage, second stage) side by side: how they differ shows.
_STAGE_RANGES: dict[str, tuple[Any, Any]] = {
    "blur_prob": (1.0, 0.8),
    "blur_sigma": ((0.2, 3.0), (0.2, 1.5)),
    "resize_probs": ((0.2, 0.7, 0.1), (0.3, 0.4, 0.3)),
    "resize_up": ((1.0, 1.5), (1.0, 1.2)),
    "resize_down": ((0.15, 1.0), (0.3, 1.0)),
    "gaussian_prob": (0.5, 0.5),
    "noise_sigma": ((1.0, 30.0), (1.0, 25.0)),
    "poisson_scale": ((0.05, 3.0), (0.05, 2.5)),
    "grey_prob": (0.4, 0.4),
    "jpeg_quality": ((30, 95), (30, 95)),
}
FIRST, SECOND = (StageSpec(**{k: v[i] for k, v in _STAGE_RANGES.items()}) for i in (0, 1))
FINAL_SINC_PROB = 0.8
FINAL_JPEG = (30, 95)


@dataclass(frozen=True, kw_only=True)
class NoiseDraw:
    kind: str  # "gaussian" (strength: sigma in 8-bit levels) or "poisson" (strength: scale)
    strength: float
    grey: bool
    seed: int


@dataclass(frozen=True, kw_only=True)
class StageDraw:
    blur: KernelDraw | None
    scale: float  # of the stage's input size (stage 1) or of the LR size (stage 2)
    resize_mode: str
    noise: NoiseDraw
    jpeg_quality: int


@dataclass(frozen=True, kw_only=True)
class ChainDraw:
    """Everything the chain applies to one image."""

    first: StageDraw
    second: StageDraw
    final_mode: str
    final_sinc: KernelDraw | None
    jpeg_before_resize: bool  # the last JPEG before the final resize + sinc, or after it
    final_jpeg_quality: int


def _stage(rng: np.random.Generator, spec: StageSpec) -> StageDraw:
    blur = draw_kernel(rng, spec.blur_sigma) if rng.random() < spec.blur_prob else None
    direction = rng.choice(3, p=spec.resize_probs)
    scale = (
        rng.uniform(*spec.resize_up)
        if direction == 0
        else rng.uniform(*spec.resize_down)
        if direction == 1
        else 1.0
    )
    mode = RESIZE_MODES[int(rng.integers(len(RESIZE_MODES)))]
    gaussian = rng.random() < spec.gaussian_prob
    strength = rng.uniform(*(spec.noise_sigma if gaussian else spec.poisson_scale))
    noise = NoiseDraw(
        kind="gaussian" if gaussian else "poisson",
        strength=float(strength),
        grey=bool(rng.random() < spec.grey_prob),
        seed=int(rng.integers(0, 2**63 - 1)),
    )
    quality = int(rng.integers(spec.jpeg_quality[0], spec.jpeg_quality[1] + 1))
    return StageDraw(
        blur=blur, scale=float(scale), resize_mode=mode, noise=noise, jpeg_quality=quality
    )


def draw_chain(seed: int) -> ChainDraw:
    # One generator per part: a change to one stage's ranges never reshuffles the others.
    first = _stage(np.random.default_rng([seed, 1]), FIRST)
    second = _stage(np.random.default_rng([seed, 2]), SECOND)
    rng = np.random.default_rng([seed, 3])
    final_mode = RESIZE_MODES[int(rng.integers(len(RESIZE_MODES)))]
    sinc = draw_sinc(rng, final=True) if rng.random() < FINAL_SINC_PROB else None
    return ChainDraw(
        first=first,
        second=second,
        final_mode=final_mode,
        final_sinc=sinc,
        jpeg_before_resize=bool(rng.random() < 0.5),
        final_jpeg_quality=int(rng.integers(FINAL_JPEG[0], FINAL_JPEG[1] + 1)),
    )


def add_noise(image: np.ndarray, noise: NoiseDraw) -> np.ndarray:
    """Noise on an HxWx3 float image in [0, 1]; grey: the same noise on every channel."""
    rng = np.random.default_rng(noise.seed)
    shape = image.shape[:2] + ((1,) if noise.grey else (3,))
    if noise.kind == "gaussian":
        delta = rng.standard_normal(shape, dtype=np.float32) * (noise.strength / 255.0)
    else:
        signal = image.mean(axis=2, keepdims=True) if noise.grey else image
        signal = np.clip(signal, 0.0, 1.0) * POISSON_PEAK
        delta = (rng.poisson(signal) - signal) / POISSON_PEAK * noise.strength
    return np.clip(image + delta.astype(np.float32), 0.0, 1.0)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    return jpeg_roundtrip(_to_uint8(image), quality).astype(np.float32) / 255.0


def _run_stage(image: np.ndarray, stage: StageDraw, size: tuple[int, int]) -> np.ndarray:
    if stage.blur is not None:
        image = convolve(image, make_kernel(stage.blur))
    out = (max(1, int(size[0] * stage.scale)), max(1, int(size[1] * stage.scale)))
    image = np.clip(resize(image, out, stage.resize_mode), 0.0, 1.0)
    return _jpeg(add_noise(image, stage.noise), stage.jpeg_quality)


def apply_chain(hr: np.ndarray, chain: ChainDraw, lr_size: tuple[int, int]) -> np.ndarray:
    """HxWx3 float HR in [0, 1] -> uint8 LR of exactly ``lr_size`` (height, width)."""
    image = _run_stage(np.asarray(hr, dtype=np.float32), chain.first, hr.shape[:2])
    image = _run_stage(image, chain.second, lr_size)

    def finish(x: np.ndarray) -> np.ndarray:
        x = np.clip(resize(x, lr_size, chain.final_mode), 0.0, 1.0)
        return x if chain.final_sinc is None else convolve(x, make_kernel(chain.final_sinc))

    if chain.jpeg_before_resize:
        return _to_uint8(finish(_jpeg(image, chain.final_jpeg_quality)))
    return _to_uint8(_jpeg(finish(image), chain.final_jpeg_quality))
