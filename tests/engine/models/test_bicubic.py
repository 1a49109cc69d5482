"""Bicubic baseline: exact scale, clamped range, a constant stays constant."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from engine.models.bicubic import BicubicUpsampler


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_size_and_range(scale: int) -> None:
    x = torch.zeros(1, 3, 7, 9)
    x[..., 3:, :] = 1.0  # a hard edge: unclamped bicubic overshoots both ways here
    raw = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
    out = BicubicUpsampler(scale)(x)
    assert out.shape == (1, 3, 7 * scale, 9 * scale)
    assert raw.min() < 0 and raw.max() > 1
    assert out.min() == 0 and out.max() == 1
    inside = (raw >= 0) & (raw <= 1)
    assert torch.equal(out[inside], raw[inside])


def test_constant_image_stays_constant() -> None:
    out = BicubicUpsampler(4)(torch.full((1, 3, 5, 5), 0.25))
    assert torch.allclose(out, torch.full_like(out, 0.25), atol=1e-6)


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError):
        BicubicUpsampler(0)
