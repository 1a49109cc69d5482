"""Blur kernels: drawn within the chain's ranges, normalised, and they do blur."""

from __future__ import annotations

import math

import numpy as np

from engine.distill.kernels import KINDS, SIZES, KernelDraw, draw_kernel, draw_sinc, make_kernel


def test_drawn_kernels_stay_in_range_and_sum_to_one():
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(600):
        drawn = draw_kernel(rng, (0.2, 3.0))
        kinds.add(drawn.kind)
        assert drawn.size in SIZES
        kernel = make_kernel(drawn)
        assert kernel.shape == (drawn.size, drawn.size)
        assert abs(float(kernel.sum()) - 1.0) < 1e-5
        if drawn.kind == "sinc":
            assert math.pi / 5 <= drawn.cutoff <= math.pi
        else:
            assert 0.2 <= drawn.sigma_x <= 3.0 and 0.2 <= drawn.sigma_y <= 3.0
            if drawn.kind.startswith("generalized"):
                assert 0.5 <= drawn.beta <= 4.0
            if drawn.kind.startswith("plateau"):
                assert 1.0 <= drawn.beta <= 2.0
            if not drawn.kind.endswith("aniso"):
                assert drawn.sigma_x == drawn.sigma_y and drawn.rotation == 0.0
    assert kinds == {*KINDS, "sinc"}


def test_final_sinc_cutoff_is_at_least_a_third_of_the_band():
    rng = np.random.default_rng(1)
    assert all(draw_sinc(rng, final=True).cutoff >= math.pi / 3 for _ in range(200))


def test_wider_sigma_spreads_the_kernel():
    rng = np.random.default_rng(2)
    narrow = draw_kernel(rng, (0.5, 0.5))
    while narrow.kind != "iso":
        narrow = draw_kernel(rng, (0.5, 0.5))
    wide = make_kernel(KernelDraw(kind="iso", size=narrow.size, sigma_x=2.5, sigma_y=2.5))
    assert make_kernel(narrow).max() > 2 * wide.max()


def test_anisotropic_kernel_follows_its_rotation():
    common = {"kind": "aniso", "size": 15, "sigma_x": 3.0, "sigma_y": 0.5}
    flat = make_kernel(KernelDraw(rotation=0.0, **common))
    # Long along x at rotation 0: the centre row holds more than the centre column.
    assert flat[7].sum() > 3 * flat[:, 7].sum()
    turned = make_kernel(KernelDraw(rotation=math.pi / 2, **common))
    assert np.allclose(turned, flat.T, atol=1e-6)
