"""``mfagan-studio --screenshot``: each page rendered with the sample photo, then exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.__main__ import main
from desktop_app.qt_app import SCREENSHOT_SIZE
from desktop_app.settings import default_settings_path


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.size == (SCREENSHOT_SIZE.width(), SCREENSHOT_SIZE.height())
        return np.asarray(image.convert("RGB"), dtype=np.float32)


@pytest.mark.parametrize("page", ["main", "batch"])
def test_screenshot_renders_the_page_with_the_sample(qapp, tmp_path: Path, page: str) -> None:
    out = tmp_path / f"{page}.png"
    assert main(["--screenshot", str(out), "--page", page, "--model", "bicubic"]) == 0
    shot = pixels(out)
    if page == "main":
        # The compare view holds the photo: a busy picture, not the empty drop placeholder.
        view = shot[120:700, 300:950]
        assert view.std() > 40
    else:
        # The error list (shown only when a file failed) sits at the bottom left.
        errors = shot[620:780, 20:900]
        assert errors.std() > 5
    assert not default_settings_path().exists()  # the user's settings were not touched


def test_entry_point_runs_in_its_own_process(tmp_path: Path) -> None:
    out = tmp_path / "retrain.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--screenshot", str(out), "--page", "retrain"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert pixels(out).std() > 5
