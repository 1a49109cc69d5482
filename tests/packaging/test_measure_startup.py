"""Helpers of the start-up measurement (packaging/measure_startup.py)."""

from __future__ import annotations

import os

import pytest


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is Linux/Unix only")
def test_evict_advises_each_regular_file_once(packaging_module, tmp_path):
    measure = packaging_module("measure_startup.py")
    (tmp_path / "a").write_bytes(b"x" * 4096)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert measure.evict(tmp_path) == 2
    assert (tmp_path / "a").read_bytes() == b"x" * 4096  # advice only: contents untouched


def test_render_quotes_median_min_max(packaging_module):
    measure = packaging_module("measure_startup.py")
    text = measure.render([("mfagan --version", "cold", [3.0, 1.0, 2.0])])
    assert "| mfagan --version | cold | 2.00 | 1.00 | 3.00 |" in text
