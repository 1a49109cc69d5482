from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from support import file_hash

from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Finished, Notice, TileChoice
from engine.imageio import ImageData
from engine.inference.file_upscale import upscale_file
from engine.inference.upscale import (
    TargetSize,
    Upscaler,
    WriteOptions,
    passes_needed,
    upscale_image,
)


def _finish(events):
    collected = list(events)
    assert isinstance(collected[-1], Finished)
    return collected[-1].result, collected[:-1]


def _image(color: np.ndarray, alpha: np.ndarray | None = None, bit_depth: int = 8) -> ImageData:
    return ImageData(
        color=color.astype(np.float32),
        alpha=None if alpha is None else alpha.astype(np.float32),
        bit_depth=bit_depth,
        exif=None,
        icc_profile=None,
        format="PNG",
    )


def test_target_size_resolves_scale_width_height():
    assert TargetSize().resolve(100, 50, 4) == (400, 200)
    assert TargetSize(scale=2).resolve(100, 50, 4) == (200, 100)
    assert TargetSize(scale=3).resolve(101, 50, 4) == (303, 150)
    assert TargetSize(width=250).resolve(100, 50, 4) == (250, 125)
    assert TargetSize(height=75).resolve(100, 50, 4) == (150, 75)
    assert TargetSize(width=250).label(4) == "w250"
    assert TargetSize().label(4) == "x4"


def test_target_size_rejects_two_sizes_and_nonpositive():
    with pytest.raises(UsageError):
        TargetSize(scale=2, width=10)
    with pytest.raises(UsageError):
        TargetSize(width=0)


def test_passes_needed_runs_the_model_again_beyond_its_scale():
    assert passes_needed((100, 100), (200, 200), 4) == 1
    assert passes_needed((100, 100), (400, 400), 4) == 1
    assert passes_needed((100, 100), (401, 400), 4) == 2
    with pytest.raises(UsageError):
        passes_needed((10, 10), (1700, 1700), 4)
    assert passes_needed((100, 100), (100, 100), 1) == 1
    with pytest.raises(UsageError, match="does not enlarge"):
        passes_needed((100, 100), (200, 200), 1)


@pytest.mark.parametrize(("scale", "expected"), [(2, (40, 32)), (3, (60, 48)), (4, (80, 64))])
def test_output_sizes(nearest_descriptor, scale, expected):
    color = np.random.default_rng(0).random((16, 20, 3))
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    result, _ = _finish(
        upscale_image(upscaler, _image(color), TargetSize(scale=scale), CancelToken())
    )
    assert result.color.shape == (*expected[::-1], 3)


def test_native_scale_is_exactly_the_model_output(nearest_descriptor):
    color = np.random.default_rng(1).random((8, 8, 3))
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    result, _ = _finish(upscale_image(upscaler, _image(color), TargetSize(), CancelToken()))
    np.testing.assert_allclose(result.color, color.repeat(4, 0).repeat(4, 1), atol=1e-6)


def test_alpha_goes_through_the_model_not_a_stretch(nearest_descriptor):
    rng = np.random.default_rng(2)
    alpha = (rng.random((8, 8, 1)) > 0.5).astype(np.float32)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    image = _image(rng.random((8, 8, 3)), alpha)
    result, _ = _finish(upscale_image(upscaler, image, TargetSize(), CancelToken()))
    # A model that is nearest-neighbour keeps hard alpha edges exactly; a resize would blur them.
    np.testing.assert_allclose(result.alpha, alpha.repeat(4, 0).repeat(4, 1), atol=1e-6)


def test_grey_stays_grey_and_16_bit_is_kept(nearest_descriptor):
    grey = np.random.default_rng(3).random((8, 8, 1))
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    result, _ = _finish(
        upscale_image(upscaler, _image(grey, bit_depth=16), TargetSize(), CancelToken())
    )
    assert result.color.shape == (32, 32, 1)
    assert result.bit_depth == 16
    np.testing.assert_allclose(result.color, grey.repeat(4, 0).repeat(4, 1), atol=1e-6)


def test_auto_tile_is_reported(nearest_descriptor):
    upscaler = Upscaler(nearest_descriptor, backend="torch")
    image = _image(np.zeros((8, 8, 3)))
    _, events = _finish(upscale_image(upscaler, image, TargetSize(), CancelToken()))
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("tile size auto" in m for m in notices)
    assert upscaler.tile is not None and upscaler.tile >= 32
    (choice,) = [e for e in events if isinstance(e, TileChoice)]
    assert choice.tile == upscaler.tile and choice.budget_bytes > 0


def test_upscale_file_writes_and_leaves_the_original_alone(
    nearest_descriptor, astronaut_png, tmp_path
):
    before = file_hash(astronaut_png)
    output = tmp_path / "out" / "result.png"
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    details, _ = _finish(
        upscale_file(
            upscaler,
            astronaut_png,
            output,
            target=TargetSize(),
            write=WriteOptions(),
            cancel=CancelToken(),
        )
    )
    assert file_hash(astronaut_png) == before
    assert Image.open(output).size == (320, 256)
    assert details["output_size"] == [320, 256]
    assert details["model"] == "nearest"


def test_refuses_to_overwrite_the_input(nearest_descriptor, astronaut_png):
    before = file_hash(astronaut_png)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    with pytest.raises(UsageError, match="input"):
        list(
            upscale_file(
                upscaler,
                astronaut_png,
                astronaut_png.parent / "." / astronaut_png.name,
                target=TargetSize(),
                write=WriteOptions(),
                cancel=CancelToken(),
            )
        )
    assert file_hash(astronaut_png) == before


def test_cancel_leaves_no_file(nearest_descriptor, astronaut_png, tmp_path):
    cancel = CancelToken()
    cancel.cancel()
    output = tmp_path / "never.png"
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=32)
    with pytest.raises(Cancelled):
        list(
            upscale_file(
                upscaler,
                astronaut_png,
                output,
                target=TargetSize(),
                write=WriteOptions(),
                cancel=cancel,
            )
        )
    assert [p.name for p in tmp_path.iterdir()] == [astronaut_png.name]


def test_lanczos_downscale_keeps_16_bit_precision(nearest_descriptor):
    ramp = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64, 1).repeat(3, axis=2)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    result, _ = _finish(
        upscale_image(upscaler, _image(ramp, bit_depth=16), TargetSize(scale=2), CancelToken())
    )
    levels = np.unique(np.round(result.color[..., 0] * 65535))
    # An 8-bit detour would leave at most 256 distinct levels.
    assert len(levels) > 1000


def _upscale_to(upscaler, source, output, **write):
    return _finish(
        upscale_file(
            upscaler,
            source,
            output,
            target=TargetSize(scale=2),
            write=WriteOptions(**write),
            cancel=CancelToken(),
        )
    )[0]


def test_files_keep_alpha_16_bit_grey_and_metadata(nearest_descriptor, tmp_path):
    from PIL import ImageCms

    upscaler = Upscaler(nearest_descriptor, backend="onnx", tile=64)
    rng = np.random.default_rng(5)
    rgba = tmp_path / "rgba.png"
    Image.fromarray(rng.integers(0, 256, (10, 12, 4), dtype=np.uint8), "RGBA").save(rgba)
    _upscale_to(upscaler, rgba, tmp_path / "rgba_out.png")
    with Image.open(tmp_path / "rgba_out.png") as out:
        assert (out.mode, out.size) == ("RGBA", (24, 20))

    grey16 = tmp_path / "grey16.png"
    Image.fromarray(rng.integers(0, 65536, (10, 12), dtype=np.uint16)).save(grey16)
    _upscale_to(upscaler, grey16, tmp_path / "grey16_out.png")
    with Image.open(tmp_path / "grey16_out.png") as out:
        assert out.mode in ("I;16", "I") and out.size == (24, 20)
        assert np.asarray(out).max() > 255

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "MFAGAN test camera"
    photo = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)).save(
        photo, icc_profile=srgb, exif=exif.tobytes()
    )
    _upscale_to(upscaler, photo, tmp_path / "kept.jpg")
    _upscale_to(upscaler, photo, tmp_path / "stripped.jpg", keep_metadata=False)
    with Image.open(tmp_path / "kept.jpg") as kept, Image.open(tmp_path / "stripped.jpg") as bare:
        assert kept.info.get("icc_profile") == srgb
        assert kept.getexif().get(0x010F) == "MFAGAN test camera"
        assert not bare.info.get("icc_profile") and 0x010F not in bare.getexif()


def test_a_tile_size_that_ran_out_of_memory_is_not_tried_again(nearest_descriptor):
    from engine.inference.tiling import TileFallback

    class SmallTilesOnly:
        name = "torch"

        def __init__(self) -> None:
            self.sides: list[int] = []

        def run(self, x, *, cancel=None):
            self.sides.append(max(x.shape[2:]))
            if max(x.shape[2:]) > 40:
                raise MemoryError()
            return np.repeat(np.repeat(x, 4, axis=2), 4, axis=3)

    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    backend = SmallTilesOnly()
    upscaler._backend = backend
    image = _image(np.random.default_rng(6).random((64, 64, 3)))
    _, first = _finish(upscale_image(upscaler, image, TargetSize(), CancelToken()))
    assert any(isinstance(e, TileFallback) for e in first)
    assert upscaler.tile is not None and upscaler.tile <= 40
    backend.sides.clear()
    _, second = _finish(upscale_image(upscaler, image, TargetSize(), CancelToken()))
    assert not any(isinstance(e, TileFallback) for e in second)
    assert max(backend.sides) <= 40
    assert upscaler.details()["tile"] == upscaler.tile


def test_a_requested_tile_memory_cannot_hold_is_reduced_with_a_notice(
    nearest_descriptor, monkeypatch
):
    import types

    from engine.inference import tile_memory

    small = types.SimpleNamespace(available=64 * 2**20)
    monkeypatch.setattr(tile_memory.psutil, "virtual_memory", lambda: small)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=4096)
    image = _image(np.random.default_rng(7).random((40, 40, 3)))
    result, events = _finish(upscale_image(upscaler, image, TargetSize(), CancelToken()))
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and notices[0].startswith("--tile 4096 needs about ")
    assert upscaler.tile is not None and upscaler.tile < 4096
    assert notices[0].endswith(f"; using {upscaler.tile} px tiles")
    np.testing.assert_allclose(result.color, image.color.repeat(4, 0).repeat(4, 1), atol=1e-6)
