"""Y-channel PSNR/SSIM: known values, inf-safe, and the reference convention."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage import data as skdata
from skimage.metrics import structural_similarity

from engine.measure.metrics import bicubic_down, modcrop, psnr, rgb_to_y, ssim, y_scores


def test_psnr_of_an_image_with_itself_is_inf_without_warnings():
    image = skdata.astronaut()[:32, :32]
    with np.errstate(all="raise"):
        assert y_scores(image, image.copy(), border=4) == (math.inf, 1.0)


def test_psnr_of_a_shifted_copy_matches_the_hand_computed_value():
    ramp = np.tile(np.arange(8, dtype=np.float64) * 10, (8, 1))  # columns 0, 10, ..., 70
    shifted = np.roll(ramp, 1, axis=1)
    # Seven columns differ by 10, the wrapped one by 70: MSE = (7 * 100 + 4900) / 8 = 700.
    assert psnr(ramp, shifted) == pytest.approx(10 * math.log10(255**2 / 700), abs=1e-12)
    assert psnr(ramp, shifted) == pytest.approx(19.6798, abs=1e-4)


def test_bt601_luma_of_known_colours():
    colours = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0]]], np.uint8)
    assert rgb_to_y(colours)[0] == pytest.approx([16.0, 235.0, 81.481, 144.553])
    assert rgb_to_y(np.full((1, 1, 1), 255, np.uint8))[0, 0] == pytest.approx(235.0)


def test_ssim_matches_scikit_image_default_convention():
    a = rgb_to_y(skdata.astronaut()[100:180, 150:230])
    b = rgb_to_y(skdata.astronaut()[102:182, 151:231])
    assert ssim(a, b) == pytest.approx(structural_similarity(a, b, data_range=255), abs=1e-12)
    assert ssim(a, a) == 1.0


def test_modcrop_and_bicubic_down():
    image = np.zeros((70, 67, 3), np.uint8)
    assert modcrop(image, 4).shape == (68, 64, 3)
    assert bicubic_down(modcrop(image, 4), 4).shape == (17, 16, 3)
    with pytest.raises(ValueError, match="modcrop"):
        bicubic_down(image, 4)
