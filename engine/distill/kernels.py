"""Blur kernels of the real-world chain: Gaussian (iso/aniso), generalized Gaussian,
plateau, each isotropic or anisotropic, and the circular sinc (ringing, overshoot)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

KINDS = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
)
KIND_PROBS = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
SINC_PROB = 0.1
SIZES = tuple(range(7, 22, 2))
GENERALIZED_BETA = (0.5, 4.0)
PLATEAU_BETA = (1.0, 2.0)


@dataclass(frozen=True, kw_only=True)
class KernelDraw:
    """One kernel: ``kind`` one of KINDS or "sinc" (then only ``cutoff`` matters)."""

    kind: str
    size: int
    sigma_x: float = 0.0
    sigma_y: float = 0.0
    rotation: float = 0.0
    beta: float = 2.0  # 1: the shape of a Gaussian in the generalized / plateau formulas
    cutoff: float = 0.0  # sinc: radians per pixel


def _beta(rng: np.random.Generator, low: float, high: float) -> float:
    # Half the draws below 1 (heavier tails), half above (flatter tops), as the chain's source.
    return float(rng.uniform(low, 1.0) if rng.random() < 0.5 else rng.uniform(1.0, high))


def draw_sinc(rng: np.random.Generator, *, final: bool = False) -> KernelDraw:
    size = int(rng.choice(SIZES))
    # Small kernels cannot hold a low cut-off without truncating it badly.
    low = math.pi / 3 if final or size < 13 else math.pi / 5
    return KernelDraw(kind="sinc", size=size, cutoff=float(rng.uniform(low, math.pi)))


def draw_kernel(rng: np.random.Generator, sigma: tuple[float, float]) -> KernelDraw:
    if rng.random() < SINC_PROB:
        return draw_sinc(rng)
    kind = KINDS[int(rng.choice(len(KINDS), p=KIND_PROBS))]
    size = int(rng.choice(SIZES))
    sigma_x = float(rng.uniform(*sigma))
    iso = kind.endswith("iso") and not kind.endswith("aniso")
    sigma_y = sigma_x if iso else float(rng.uniform(*sigma))
    rotation = 0.0 if iso else float(rng.uniform(-math.pi, math.pi))
    beta = 2.0
    if kind.startswith("generalized"):
        beta = _beta(rng, *GENERALIZED_BETA)
    elif kind.startswith("plateau"):
        beta = _beta(rng, *PLATEAU_BETA)
    return KernelDraw(
        kind=kind, size=size, sigma_x=sigma_x, sigma_y=sigma_y, rotation=rotation, beta=beta
    )


def make_kernel(draw: KernelDraw) -> np.ndarray:
    """The kernel as a size x size float32 array that sums to 1."""
    half = draw.size // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    if draw.kind == "sinc":
        radius = np.hypot(x, y)
        safe = np.where(radius == 0, 1.0, radius)
        bessel = torch.special.bessel_j1(torch.from_numpy(draw.cutoff * safe)).numpy()
        kernel = draw.cutoff * bessel / (2 * math.pi * safe)
        kernel[half, half] = draw.cutoff**2 / (4 * math.pi)
    else:
        cos, sin = math.cos(draw.rotation), math.sin(draw.rotation)
        u, v = cos * x + sin * y, -sin * x + cos * y
        quad = (u / draw.sigma_x) ** 2 + (v / draw.sigma_y) ** 2  # x^T Sigma^-1 x
        if draw.kind.startswith("plateau"):
            kernel = 1.0 / (1.0 + quad**draw.beta)
        else:
            beta = 1.0 if draw.kind in ("iso", "aniso") else draw.beta
            kernel = np.exp(-0.5 * quad**beta)
    return (kernel / kernel.sum()).astype(np.float32)
