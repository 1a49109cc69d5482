"""The real-world chain on a real photo: ranges, reproducibility, and each step's effect."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.distill.config import DegradationConfig
from engine.distill.degradation import degrade, draw_mixed
from engine.distill.image_ops import RESIZE_MODES, convolve, jpeg_roundtrip, resize
from engine.distill.kernels import KernelDraw, make_kernel
from engine.distill.realworld import (
    FIRST,
    SECOND,
    NoiseDraw,
    add_noise,
    apply_chain,
    draw_chain,
)

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "samples" / "astronaut.png"
REAL = DegradationConfig(model="real")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    with Image.open(SAMPLE) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)[:256, :256] / 255.0


def _stage_in_range(stage, spec) -> None:
    assert spec.resize_down[0] <= stage.scale <= spec.resize_up[1]
    assert stage.resize_mode in RESIZE_MODES
    assert spec.jpeg_quality[0] <= stage.jpeg_quality <= spec.jpeg_quality[1]
    low, high = spec.noise_sigma if stage.noise.kind == "gaussian" else spec.poisson_scale
    assert low <= stage.noise.strength <= high
    if stage.blur is not None and stage.blur.kind != "sinc":
        assert spec.blur_sigma[0] <= stage.blur.sigma_x <= spec.blur_sigma[1]


def test_drawn_parameters_stay_in_range_over_many_seeds():
    chains = [draw_chain(seed) for seed in range(400)]
    for chain in chains:
        _stage_in_range(chain.first, FIRST)
        _stage_in_range(chain.second, SECOND)
        assert chain.first.blur is not None
        assert 30 <= chain.final_jpeg_quality <= 95
    second_blur = np.mean([c.second.blur is not None for c in chains])
    final_sinc = np.mean([c.final_sinc is not None for c in chains])
    gaussian = np.mean([c.first.noise.kind == "gaussian" for c in chains])
    grey = np.mean([c.first.noise.grey for c in chains])
    assert 0.72 < second_blur < 0.88 and 0.72 < final_sinc < 0.88
    assert 0.42 < gaussian < 0.58 and 0.32 < grey < 0.48
    assert {c.jpeg_before_resize for c in chains} == {True, False}


def test_shares_of_clean_mild_and_real_draws():
    kinds = [draw_mixed(REAL, seed).kind for seed in range(1000)]
    assert 0.11 < kinds.count("clean") / 1000 < 0.19
    assert 0.11 < kinds.count("mild") / 1000 < 0.19
    only_real = replace(REAL, clean_share=0.0, mild_share=0.0)
    assert {draw_mixed(only_real, seed).kind for seed in range(50)} == {"real"}


def test_same_seed_same_bytes_any_size(photo: np.ndarray):
    for size in ((256, 256), (132, 200)):
        hr = photo[: size[0], : size[1]]
        first = degrade(hr, REAL, seed=11)
        assert first.dtype == np.uint8 and first.shape == (size[0] // 4, size[1] // 4, 3)
        assert np.array_equal(first, degrade(hr, REAL, seed=11))
    outputs = {degrade(photo, REAL, seed=s).tobytes() for s in range(6)}
    assert len(outputs) == 6


def test_every_chain_gives_the_lr_size(photo: np.ndarray):
    for seed in range(25):
        lr = apply_chain(photo[:96, :160], draw_chain(seed), (24, 40))
        assert lr.shape == (24, 40, 3) and lr.dtype == np.uint8


def test_mild_model_is_unchanged_by_the_new_fields():
    assert set(DegradationConfig().identity()) == {
        "blur_prob",
        "blur_sigma",
        "noise_prob",
        "noise_sigma",
        "jpeg_prob",
        "jpeg_quality",
    }
    assert REAL.identity()["model"] == "real"


def test_lower_jpeg_quality_gives_smaller_files(photo: np.ndarray):
    image = np.clip(np.rint(photo * 255), 0, 255).astype(np.uint8)

    def size(quality: int) -> int:
        buffer = io.BytesIO()
        Image.fromarray(jpeg_roundtrip(image, quality)).save(buffer, format="PNG")
        return len(buffer.getvalue())

    # A harder JPEG leaves less detail: the decoded image compresses better losslessly.
    assert size(30) < size(60) < size(95)
    assert np.abs(jpeg_roundtrip(image, 30).astype(int) - image).mean() > 1.0


@pytest.mark.parametrize("grey", [False, True])
def test_gaussian_noise_sigma_is_measured_back(photo: np.ndarray, grey: bool):
    flat = np.full((200, 200, 3), 0.5, np.float32)
    noisy = add_noise(flat, NoiseDraw(kind="gaussian", strength=12.0, grey=grey, seed=3))
    delta = (noisy - flat) * 255
    assert abs(delta.std() - 12.0) < 0.3
    assert np.allclose(delta[..., 0], delta[..., 2]) == grey
    on_photo = add_noise(photo, NoiseDraw(kind="gaussian", strength=8.0, grey=grey, seed=4))
    assert (on_photo - photo).std() * 255 > 6.0


def test_poisson_noise_grows_with_scale_and_signal():
    bright, dark = np.full((200, 200, 3), 0.8, np.float32), np.full((200, 200, 3), 0.2, np.float32)

    def sigma(image: np.ndarray, scale: float) -> float:
        noise = NoiseDraw(kind="poisson", strength=scale, grey=False, seed=5)
        return float((add_noise(image, noise) - image).std() * 255)

    # Shot noise: std = scale * sqrt(signal / peak).
    expected = 2.0 * np.sqrt(0.8 / 4096) * 255
    assert abs(sigma(bright, 2.0) - expected) < 0.05 * expected
    assert sigma(bright, 2.0) > 1.8 * sigma(bright, 1.0)
    assert sigma(bright, 2.0) > 1.8 * sigma(dark, 2.0)


def _high_frequency_energy(image: np.ndarray) -> float:
    grey = image.mean(axis=2)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def test_blur_lowers_high_frequency_energy(photo: np.ndarray):
    for kernel in (
        KernelDraw(kind="iso", size=11, sigma_x=1.5, sigma_y=1.5),
        KernelDraw(kind="plateau_aniso", size=15, sigma_x=2.0, sigma_y=0.8, rotation=0.7),
        KernelDraw(kind="sinc", size=13, cutoff=1.2),
    ):
        blurred = convolve(photo, make_kernel(kernel))
        assert blurred.shape == photo.shape
        assert _high_frequency_energy(blurred) < 0.8 * _high_frequency_energy(photo)
    flat = np.full((40, 40, 3), 0.3, np.float32)
    assert np.allclose(
        convolve(flat, make_kernel(KernelDraw(kind="sinc", size=21, cutoff=1.0))), 0.3, atol=1e-5
    )


def test_resize_modes_keep_the_mean_and_the_size(photo: np.ndarray):
    for mode in RESIZE_MODES:
        for size in ((64, 64), (300, 250)):
            out = resize(photo, size, mode)
            assert out.shape == (*size, 3)
            assert abs(out.mean() - photo.mean()) < 0.01
    with pytest.raises(ValueError, match="resize mode"):
        resize(photo, (10, 10), "nearest")


def test_the_chain_damages_more_than_bicubic(photo: np.ndarray):
    clean = degrade(photo, DegradationConfig(model="real", clean_share=1.0, mild_share=0.0), 0)
    errors = [
        np.abs(
            degrade(photo, replace(REAL, clean_share=0, mild_share=0), s).astype(int) - clean
        ).mean()
        for s in range(8)
    ]
    assert np.median(errors) > 3.0


def test_model_and_shares_are_checked():
    from engine.errors import UsageError

    with pytest.raises(UsageError, match="model"):
        DegradationConfig(model="heavy")
    with pytest.raises(UsageError, match="share"):
        DegradationConfig(model="real", clean_share=0.7, mild_share=0.5)
