"""The degradation pipeline is a pure function of (HR, config, seed)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as skdata

from engine.distill.config import DegradationConfig
from engine.distill.degradation import bicubic_down_float, degrade, draw, gaussian_blur

ALWAYS = DegradationConfig(blur_prob=1.0, noise_prob=1.0, jpeg_prob=1.0)
NEVER = DegradationConfig(blur_prob=0.0, noise_prob=0.0, jpeg_prob=0.0)


@pytest.fixture(scope="module")
def hr() -> np.ndarray:
    return skdata.astronaut()[100:164, 160:224].astype(np.float32) / 255.0


def test_same_seed_same_bytes_other_seed_other_bytes(hr: np.ndarray):
    first = degrade(hr, ALWAYS, seed=7)
    assert first.dtype == np.uint8 and first.shape == (16, 16, 3)
    assert np.array_equal(first, degrade(hr, ALWAYS, seed=7))
    assert not np.array_equal(first, degrade(hr, ALWAYS, seed=8))


def test_no_degradation_is_plain_bicubic(hr: np.ndarray):
    expected = np.clip(np.rint(bicubic_down_float(hr, 4) * 255), 0, 255).astype(np.uint8)
    assert np.array_equal(degrade(hr, NEVER, seed=1), expected)


def test_probabilities_do_not_reshuffle_the_other_draws():
    with_jpeg = draw(ALWAYS, seed=3)
    without = draw(DegradationConfig(blur_prob=1.0, noise_prob=1.0, jpeg_prob=0.0), seed=3)
    assert without.jpeg_quality is None and with_jpeg.jpeg_quality is not None
    assert (without.blur_sigma, without.noise_sigma) == (
        with_jpeg.blur_sigma,
        with_jpeg.noise_sigma,
    )


def test_each_step_changes_the_image(hr: np.ndarray):
    plain = degrade(hr, NEVER, seed=1).astype(int)
    for config in (
        DegradationConfig(blur_prob=1.0, noise_prob=0.0, jpeg_prob=0.0),
        DegradationConfig(blur_prob=0.0, noise_prob=1.0, jpeg_prob=0.0),
        DegradationConfig(blur_prob=0.0, noise_prob=0.0, jpeg_prob=1.0),
    ):
        assert np.abs(degrade(hr, config, seed=1).astype(int) - plain).mean() > 0.2


def test_blur_keeps_flat_images_flat_and_sums_to_one():
    flat = np.full((20, 20, 3), 0.25, np.float32)
    assert np.allclose(gaussian_blur(flat, 1.0), 0.25, atol=1e-6)


def test_refuses_sizes_that_are_not_a_multiple_of_four(hr: np.ndarray):
    with pytest.raises(ValueError, match="multiple of 4"):
        degrade(hr[:30], NEVER, seed=0)
