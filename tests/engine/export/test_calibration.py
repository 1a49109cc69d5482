from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import UsageError
from engine.export import calibration


def test_bundled_crops_have_exactly_the_export_shape_and_are_reproducible() -> None:
    crops = calibration.calibration_crops(None, side=48, count=6)
    again = calibration.calibration_crops(None, side=48, count=6)
    batch = calibration.as_batch(crops)
    assert batch.shape == (6, 3, 48, 48) and batch.dtype == np.float32
    assert batch.min() >= 0.0 and batch.max() <= 1.0
    assert np.array_equal(batch, calibration.as_batch(again))
    # Spread over the bundled photos in turn, not all from the first one.
    assert len({c.name.split("@")[0] for c in crops}) == 4


def test_small_user_photos_are_enlarged_to_the_side(tmp_path: Path) -> None:
    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(tmp_path / "small.png")
    (tmp_path / "notes.txt").write_text("not a photo")
    crops = calibration.calibration_crops(tmp_path, side=64, count=2)
    assert calibration.as_batch(crops).shape == (2, 3, 64, 64)


def test_unreadable_files_are_skipped_but_a_folder_of_them_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UsageError, match="none of its 1 files could be read"):
        calibration.calibration_crops(tmp_path, side=32, count=2)
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "ok.png")
    assert len(calibration.calibration_crops(tmp_path, side=32, count=3)) == 3


def test_empty_or_missing_calibration_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no photos to calibrate on"):
        calibration.calibration_crops(tmp_path, side=32)
    with pytest.raises(UsageError, match="not found"):
        calibration.calibration_crops(tmp_path / "missing", side=32)


def test_validation_never_sees_calibration_pixels() -> None:
    """Held-out boxes are the sample photos' bottom halves; the bundled crops their tops."""
    for name, (_left, top, _right, _bottom) in calibration.HELD_OUT:
        stem = Path(name).stem
        for crop in calibration.BUNDLED_DIR.glob(f"{stem}-*.png"):
            assert Image.open(crop).height <= top
    crops = calibration.validation_crops(side=32)
    assert len(crops) == 8 and all(c.pixels.shape == (32, 32, 3) for c in crops)


def test_folder_digest_names_content_not_path(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for folder in (a, b):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "x.png")
    digest = calibration.folder_digest
    assert digest([a / "x.png"]) == digest([b / "x.png"])
    Image.fromarray(np.ones((8, 8, 3), np.uint8)).save(b / "x.png")
    assert digest([a / "x.png"]) != digest([b / "x.png"])
