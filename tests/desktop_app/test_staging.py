"""The app keeps a result as raw 8/16-bit pixels, shows it from them strip by strip, and
saves it from them: no full-size float copy, and 16-bit, alpha and metadata survive."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app import jobs
from desktop_app.staging import load_staged, stage
from desktop_app.widgets.images import STRIP_ROWS, raster_to_qimage
from engine.errors import ImageError
from engine.events import CancelToken, Finished, Progress
from engine.imageio import read_image
from engine.imageio.raster import Raster
from engine.inference.upscale import TargetSize, WriteOptions
from tests.desktop_app.helpers import FAST_MODEL, save_photo


def test_raster_previews_round_16_bit_and_keep_alpha() -> None:
    height = STRIP_ROWS + 7  # more than one strip
    pixels = np.zeros((height, 5, 4), np.uint16)
    pixels[..., 0] = 65535
    pixels[..., 1] = 32896  # 128 * 257: exactly level 128
    pixels[..., 2] = 129  # 129 / 257 = 0.502 -> level 1
    pixels[..., 3] = 65535 // 2
    shown = raster_to_qimage(Raster(pixels=pixels, alpha=True))
    assert (shown.width(), shown.height()) == (5, height) and shown.hasAlphaChannel()
    colour = shown.pixelColor(4, height - 1)
    assert (colour.red(), colour.green(), colour.blue(), colour.alpha()) == (255, 128, 1, 127)
    grey = np.full((3, 4, 2), 200, np.uint8)
    grey[..., 1] = 10
    shown = raster_to_qimage(Raster(pixels=grey, alpha=True))
    colour = shown.pixelColor(3, 2)
    assert (colour.red(), colour.green(), colour.blue(), colour.alpha()) == (200, 200, 200, 10)


def test_staged_result_round_trips_with_metadata(tmp_path: Path) -> None:
    pixels = np.arange(2 * 3 * 3, dtype=np.uint16).reshape(2, 3, 3) * 1000
    raster = Raster(pixels=pixels, alpha=False, exif=b"Exif\x00\x00MM", icc_profile=b"icc")
    path = stage(raster, tmp_path / "result")
    back = load_staged(path)
    assert np.array_equal(back.pixels, pixels) and back.pixels.dtype == np.uint16
    assert (back.exif, back.icc_profile, back.alpha) == (raster.exif, b"icc", False)
    path.with_suffix(".json").write_text("{")
    with pytest.raises(ImageError, match="cannot be read"):
        load_staged(path)


def test_16_bit_photo_is_staged_and_saved_in_16_bit(tmp_path: Path) -> None:
    source = tmp_path / "deep.png"
    ramp = (np.arange(24 * 32, dtype=np.uint32).reshape(24, 32) * 85).astype(np.uint16)
    Image.fromarray(ramp).save(source)  # 16-bit grey
    pool = jobs.UpscalerPool()
    request = jobs.UpscaleRequest(
        source=source,
        model=jobs.ModelChoice(spec=FAST_MODEL),
        target=TargetSize(scale=4),
        stage_dir=tmp_path / "stage",
    )
    outcome = _result(jobs.upscale_job(request, pool, CancelToken()))
    staged = load_staged(outcome.staged)
    assert staged.pixels.dtype == np.uint16 and staged.pixels.shape == (96, 128, 1)
    output = tmp_path / "out" / "deep_x4.png"
    save = jobs.SaveRequest(
        staged=outcome.staged, source=source, output=output, write=WriteOptions(format="PNG")
    )
    assert _result(jobs.save_job(save, CancelToken())) == output
    saved = read_image(output)
    assert saved.bit_depth == 16 and saved.color.shape == (96, 128, 1)


def _result(events) -> object:
    return next(e.result for e in events if isinstance(e, Finished))


def test_upscale_job_holds_no_full_size_float_copy(tmp_path: Path) -> None:
    """Python-side allocations of a 400 px photo to 1600 px. The old path held the float
    result (29 MiB) plus three more float copies to make the preview; now the whole job
    stays under one float copy (the 8-bit result is 7 MiB, the rest is the engine's tiles),
    and keeping the result and making its preview add only strips."""
    photo = save_photo(tmp_path / "big.png", box=(400, 400))
    pool = jobs.UpscalerPool()
    choice = jobs.ModelChoice(spec=FAST_MODEL, tile=128)
    for _ in pool.prepared(choice):
        pass
    request = jobs.UpscaleRequest(
        source=photo, model=choice, target=TargetSize(scale=4), stage_dir=tmp_path / "stage"
    )
    tracemalloc.start()
    try:
        for event in jobs.upscale_job(request, pool, CancelToken()):
            if isinstance(event, Progress) and event.stage == "finishing":
                upscaled, peak = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
            elif isinstance(event, Finished):
                outcome = event.result
        keeping = tracemalloc.get_traced_memory()[1] - upscaled
    finally:
        tracemalloc.stop()
    assert outcome.preview.width() == 1600
    float_copy = 1600 * 1600 * 3 * 4
    assert peak < float_copy, f"peak {peak / 2**20:.1f} MiB"
    assert keeping < 0.1 * float_copy, f"keeping the result took {keeping / 2**20:.1f} MiB"
