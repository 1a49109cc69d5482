from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest
import torch
from support import make_descriptor
from torch import nn

from engine.errors import ImageError
from engine.events import CancelToken, Finished, Progress
from engine.imageio import ImageData
from engine.imageio.formats import FORMATS
from engine.imageio.raster import layout_for
from engine.imageio.writer import fit_raster
from engine.inference import preflight
from engine.inference.file_upscale import upscale_file
from engine.inference.render import upscale_to_raster
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TinyNet(nn.Module):
    """A seeded conv + pixel shuffle: neighbours matter (so do tiles), values overshoot
    [0, 1] (so does clipping)."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Conv2d(channels, channels * 16, 3, padding=1))
        self.shuffle = nn.PixelShuffle(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.body(x)) * 2.0 + 0.3


@pytest.fixture
def tiny() -> Upscaler:
    return Upscaler(make_descriptor(TinyNet(), name="tiny"), backend="torch", tile=32)


def _image(rng, height, width, *, channels=3, alpha=False, bit_depth=8) -> ImageData:
    color = rng.random((height, width, channels), dtype=np.float32)
    mask = None
    if alpha:
        mask = (rng.random((height, width, 1)) > 0.4).astype(np.float32)
    return ImageData(color=color, alpha=mask, bit_depth=bit_depth, format="PNG")


def _result(events):
    collected = list(events)
    assert isinstance(collected[-1], Finished)
    return collected[-1].result


def _float_path(upscaler, image, target, fmt):
    """The full-size float result of upscale_image, as the writer turns it into pixels."""
    from engine.inference.upscale import upscale_image

    result = _result(upscale_image(upscaler, image, target, CancelToken()))
    return fit_raster(result, FORMATS[fmt]).pixels


def _raster_path(upscaler, image, target, fmt):
    layout = layout_for(
        FORMATS[fmt], grey=image.is_grey, alpha=image.alpha is not None, bit_depth=image.bit_depth
    )
    raster = _result(upscale_to_raster(upscaler, image, target, layout, CancelToken()))
    assert raster.layout == layout
    return raster.pixels


@pytest.mark.parametrize(
    ("channels", "alpha", "bit_depth", "fmt"),
    [(3, False, 8, "PNG"), (3, True, 16, "PNG"), (1, False, 16, "TIFF"), (1, True, 8, "WEBP")],
)
def test_the_8_16_bit_result_is_exactly_the_float_path_at_the_model_scale(
    tiny, channels, alpha, bit_depth, fmt
):
    image = _image(
        np.random.default_rng(1), 50, 70, channels=channels, alpha=alpha, bit_depth=bit_depth
    )
    expected = _float_path(tiny, image, TargetSize(), fmt)
    got = _raster_path(tiny, image, TargetSize(), fmt)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("target", "fmt", "bit_depth"),
    [
        (TargetSize(scale=2), "PNG", 16),
        (TargetSize(width=173), "PNG", 8),
        (TargetSize(scale=3), "TIFF", 16),
    ],
)
def test_resized_sizes_match_the_float_path_within_a_rounding_step(tiny, target, fmt, bit_depth):
    image = _image(np.random.default_rng(2), 60, 52, alpha=True, bit_depth=bit_depth)
    expected = _float_path(tiny, image, target, fmt).astype(np.int64)
    got = _raster_path(tiny, image, target, fmt).astype(np.int64)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1
    assert np.mean(got != expected) < 0.05


def test_alpha_is_composited_over_white_for_formats_without_it(tiny):
    image = _image(np.random.default_rng(3), 40, 36, alpha=True)
    expected = _float_path(tiny, image, TargetSize(), "JPEG").astype(np.int64)
    got = _raster_path(tiny, image, TargetSize(), "JPEG").astype(np.int64)
    assert got.shape == (160, 144, 3)
    # The alpha waits as 16 bits for the colour instead of as float: a rounding step at most.
    assert np.abs(got - expected).max() <= 1


def test_a_constant_alpha_skips_the_model(tiny):
    image = dataclasses.replace(
        _image(np.random.default_rng(4), 20, 20),
        alpha=np.full((20, 20, 1), 0.5, np.float32),
    )
    events = list(
        upscale_to_raster(
            tiny,
            image,
            TargetSize(),
            layout_for(FORMATS["PNG"], grey=False, alpha=True, bit_depth=8),
            CancelToken(),
        )
    )
    stages = {e.stage for e in events if isinstance(e, Progress)}
    assert "upscale alpha" not in stages
    assert np.all(events[-1].result.pixels[:, :, 3] == 128)


def _memory(available: int):
    return lambda: types.SimpleNamespace(available=available)


def test_an_output_too_large_for_memory_is_refused_before_any_model_work(
    tiny, astronaut_png, tmp_path, monkeypatch
):
    monkeypatch.setattr(preflight.psutil, "virtual_memory", _memory(100 * 2**10))
    output = tmp_path / "big.png"
    events = upscale_file(
        tiny,
        astronaut_png,
        output,
        target=TargetSize(),
        write=WriteOptions(),
        cancel=CancelToken(),
    )
    with pytest.raises(ImageError) as caught:
        next(events)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{output}: a 320 x 256 PNG needs about ")
    assert "of memory, only 100 KiB is available" in message
    assert tiny._backend is None  # the model was never loaded
    assert not output.exists()


def test_an_output_too_large_for_the_disk_is_refused_before_any_model_work(
    tiny, astronaut_png, tmp_path, monkeypatch
):
    usage = types.SimpleNamespace(total=10**12, used=10**12, free=1000)
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda folder: usage)
    output = tmp_path / "new" / "big.bmp"
    events = upscale_file(
        tiny,
        astronaut_png,
        output,
        target=TargetSize(),
        write=WriteOptions(),
        cancel=CancelToken(),
    )
    with pytest.raises(ImageError) as caught:
        next(events)
    assert str(caught.value) == (
        f"{output}: a 320 x 256 BMP needs at least 240 KiB of disk space, only 1 KiB is free "
        f"in {tmp_path}"
    )
    assert tiny._backend is None


def test_a_size_the_format_cannot_hold_is_refused_before_any_model_work(tiny, tmp_path):
    from PIL import Image

    strip = tmp_path / "strip.png"
    Image.new("RGB", (1100, 8), "grey").save(strip)
    events = upscale_file(
        tiny,
        strip,
        tmp_path / "wide.webp",
        target=TargetSize(width=17600),
        write=WriteOptions(),
        cancel=CancelToken(),
    )
    with pytest.raises(ImageError, match=r"17600 x 128 is too large for WebP"):
        next(events)
    assert tiny._backend is None


def test_a_lossy_webp_libwebp_cannot_encode_is_refused_up_front(tmp_path, monkeypatch):
    from engine.imageio.raster import layout_for

    monkeypatch.setattr(preflight.psutil, "virtual_memory", _memory(2**40))
    output = tmp_path / "huge.webp"
    layout = layout_for(FORMATS["WEBP"], grey=False, alpha=False, bit_depth=8)
    common = dict(layout=layout, info=FORMATS["WEBP"], composite=False, model_scale=4)
    check = preflight.check_output_fits
    with pytest.raises(ImageError, match="lossy WebP cannot hold 16000 x 12000"):
        check(output, size=(16000, 12000), quality=95, source_width=4000, **common)
    # Lossless WebP has no such partition; 144 MP lossy is within what libwebp encodes.
    check(output, size=(16000, 12000), quality=100, source_width=4000, **common)
    check(output, size=(13856, 10392), quality=95, source_width=3464, **common)
