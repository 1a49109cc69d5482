"""Writing images: round trips for every format, metadata kept and stripped, atomic writes."""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import sys
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import tifffile
from PIL import Image, JpegImagePlugin, TiffImagePlugin
from skimage import data as skdata

from engine.errors import ImageError, UsageError
from engine.imageio import (
    SUPPORTED_SUFFIXES,
    ImageData,
    format_for_suffix,
    png,
    read_image,
    read_raster,
    write_image,
    writer,
)
from engine.imageio.formats import FORMATS
from engine.imageio.metadata import srgb_profile
from engine.imageio.raster import Raster, eight_bit, layout_for, rgbx_base

EXIF_IFD, GPS_IFD = 0x8769, 0x8825


@functools.cache
def _astronaut() -> np.ndarray:
    return skdata.astronaut()


def _photo(height: int = 48, width: int = 64) -> ImageData:
    """A crop of a real photo (public domain, bundled with scikit-image)."""
    pixels = _astronaut()[100 : 100 + height, 180 : 180 + width]
    return ImageData(color=(pixels / 255).astype(np.float32))


def _random(shape: tuple[int, ...], depth: int, seed: int = 0) -> np.ndarray:
    top = 65535 if depth == 16 else 255
    return (np.random.default_rng(seed).integers(0, top + 1, shape) / top).astype(np.float32)


def _as_uint(values: np.ndarray, depth: int = 8) -> np.ndarray:
    top = 65535 if depth == 16 else 255
    return np.rint(values * top).astype(np.uint16 if depth == 16 else np.uint8)


def _round_trip(path: Path, image: ImageData, **options: object) -> ImageData:
    write_image(path, image, **options)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp left
    return read_image(path)


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_lossless_round_trip(
    tmp_path: Path, suffix: str, depth: int, channels: int, with_alpha: bool
) -> None:
    color = _random((9, 7, channels), depth, seed=1)
    alpha = _random((9, 7, 1), depth, seed=2) if with_alpha else None
    image = ImageData(color=color, alpha=alpha, bit_depth=depth)
    back = _round_trip(tmp_path / f"out{suffix}", image)
    assert (back.bit_depth, back.color.shape) == (depth, color.shape)
    np.testing.assert_array_equal(back.color, color)
    if with_alpha:
        np.testing.assert_array_equal(back.alpha, alpha)
    else:
        assert back.alpha is None


def test_16_bit_png_and_tiff_checked_by_other_decoders(tmp_path: Path) -> None:
    color = _random((6, 5, 3), 16, seed=3)
    alpha = _random((6, 5, 1), 16, seed=4)
    expected = np.concatenate([_as_uint(color, 16), _as_uint(alpha, 16)], axis=2)
    assert np.count_nonzero(expected % 257) > 0.9 * expected.size  # low bytes matter
    image = ImageData(color=color, alpha=alpha, bit_depth=16)
    write_image(tmp_path / "deep.png", image)
    ihdr = (tmp_path / "deep.png").read_bytes()[12:26]
    assert (ihdr[:4], ihdr[12], ihdr[13]) == (b"IHDR", 16, 6)  # 16-bit RGBA
    write_image(tmp_path / "deep.tif", image)
    with tifffile.TiffFile(tmp_path / "deep.tif") as tif:
        np.testing.assert_array_equal(tif.pages[0].asarray(), expected)
        assert tif.pages[0].extrasamples == (2,)  # unassociated alpha
    grey = ImageData(color=color[:, :, :1], bit_depth=16)
    write_image(tmp_path / "grey.png", grey)
    with Image.open(tmp_path / "grey.png") as decoded:  # Pillow keeps 16-bit grey exactly
        assert decoded.mode == "I;16"
        np.testing.assert_array_equal(np.asarray(decoded), expected[:, :, 0])


@pytest.mark.parametrize("channels", [1, 3])
def test_bmp_round_trip(tmp_path: Path, channels: int) -> None:
    color = _random((9, 7, channels), 8)
    back = _round_trip(tmp_path / "out.bmp", ImageData(color=color))
    np.testing.assert_array_equal(back.color, color)


@pytest.mark.parametrize("with_alpha", [False, True])
def test_webp_quality_100_is_lossless(tmp_path: Path, with_alpha: bool) -> None:
    color = _random((9, 7, 3), 8)
    alpha = _random((9, 7, 1), 8, seed=5) if with_alpha else None
    back = _round_trip(tmp_path / "out.webp", ImageData(color=color, alpha=alpha), quality=100)
    np.testing.assert_array_equal(back.color, color)
    if with_alpha:
        np.testing.assert_array_equal(back.alpha, alpha)
    assert b"VP8L" in (tmp_path / "out.webp").read_bytes()


def test_webp_quality_is_honoured(tmp_path: Path) -> None:
    photo = _photo()
    sizes = {}
    for quality in (30, 90):
        path = tmp_path / f"q{quality}.webp"
        write_image(path, photo, quality=quality)
        sizes[quality] = path.stat().st_size
        assert b"VP8L" not in path.read_bytes()  # lossy
    assert sizes[30] < sizes[90]
    assert np.abs(read_image(tmp_path / "q90.webp").color - photo.color).mean() < 3 / 255


def test_jpeg_quality_and_chroma_subsampling(tmp_path: Path) -> None:
    photo = _photo()
    for quality, sampling in ((95, 0), (80, 2)):  # 4:4:4 at >= 90, 4:2:0 below
        path = tmp_path / f"q{quality}.jpg"
        write_image(path, photo, quality=quality)
        with Image.open(path) as written:
            assert JpegImagePlugin.get_sampling(written) == sampling
    assert (tmp_path / "q80.jpg").stat().st_size < (tmp_path / "q95.jpg").stat().st_size
    assert np.abs(read_image(tmp_path / "q95.jpg").color - photo.color).mean() < 3 / 255


def test_grey_stays_grey_in_jpeg_and_becomes_rgb_only_in_webp(tmp_path: Path) -> None:
    grey = ImageData(color=_random((8, 8, 1), 8))
    write_image(tmp_path / "g.jpg", grey)
    with Image.open(tmp_path / "g.jpg") as written:
        assert written.mode == "L"
    write_image(tmp_path / "g.webp", grey, quality=100)
    back = read_image(tmp_path / "g.webp")
    assert back.color.shape == (8, 8, 3)  # WebP has no grey mode
    for channel in range(3):
        np.testing.assert_array_equal(back.color[:, :, channel], grey.color[:, :, 0])


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_alpha_is_composited_over_white_where_it_cannot_be_kept(
    tmp_path: Path, suffix: str
) -> None:
    color = np.zeros((16, 16, 3), np.float32)
    color[..., 0] = 1.0  # red
    color[8:, :] = 0.0  # bottom half black
    alpha = np.ones((16, 16, 1), np.float32)
    alpha[:8, :8] = 0.0  # transparent red -> white
    alpha[8:, 8:] = 0.5  # half-transparent black -> mid grey
    back = _round_trip(tmp_path / f"flat{suffix}", ImageData(color=color, alpha=alpha))
    assert back.alpha is None
    tolerance = 0 if suffix == ".bmp" else 4
    got = _as_uint(back.color).astype(int)
    assert np.abs(got[3, 3] - [255, 255, 255]).max() <= tolerance
    assert np.abs(got[3, 12] - [255, 0, 0]).max() <= tolerance
    assert np.abs(got[12, 12] - [128, 128, 128]).max() <= tolerance


def test_eight_bit_output_rounds_and_clips(tmp_path: Path) -> None:
    color = np.array([[[0.5, -0.5, 1.5], [np.nan, 0.998, 0.002]]], np.float32)
    back = _round_trip(tmp_path / "r.bmp", ImageData(color=color, bit_depth=16))
    assert back.bit_depth == 8
    np.testing.assert_array_equal(_as_uint(back.color), [[[128, 0, 255], [0, 254, 1]]])


# --- metadata -----------------------------------------------------------------------------


def _exif_bytes(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0110] = "Model X"
    exif[0x0112] = orientation
    exif.get_ifd(EXIF_IFD)[0x829A] = TiffImagePlugin.IFDRational(1, 250)  # exposure time
    exif.get_ifd(EXIF_IFD)[0x9003] = "2024:05:06 07:08:09"  # taken at
    exif.get_ifd(EXIF_IFD)[0xA002] = 1  # pixel width: stale, must be updated
    exif.get_ifd(EXIF_IFD)[0xA003] = 1
    exif.get_ifd(GPS_IFD)[1] = "N"
    return exif.tobytes()


def _check_exif(exif: Image.Exif, *, width: int, height: int) -> None:
    assert (exif[0x010F], exif[0x0110]) == ("TestCam", "Model X")
    assert exif.get(0x0112, 1) == 1
    sub = exif.get_ifd(EXIF_IFD)
    assert (float(sub[0x829A]), sub[0x9003]) == (1 / 250, "2024:05:06 07:08:09")
    assert (sub[0xA002], sub[0xA003]) == (width, height)
    assert exif.get_ifd(GPS_IFD)[1] == "N"


CARRIERS = [(".png", 8), (".png", 16), (".jpg", 8), (".webp", 8), (".tif", 8), (".tif", 16)]


@pytest.mark.parametrize(("suffix", "depth"), CARRIERS)
def test_metadata_kept(tmp_path: Path, suffix: str, depth: int) -> None:
    image = ImageData(
        color=_random((6, 9, 3), depth), bit_depth=depth, exif=_exif_bytes(),
        icc_profile=srgb_profile(),
    )  # fmt: skip
    path = tmp_path / f"meta{suffix}"
    back = _round_trip(path, image)
    assert back.icc_profile == srgb_profile()
    ours = Image.Exif()
    ours.load(back.exif)
    _check_exif(ours, width=9, height=6)
    with Image.open(path) as independent:  # what other programs see
        assert independent.info["icc_profile"] == srgb_profile()
        _check_exif(independent.getexif(), width=9, height=6)


@pytest.mark.parametrize(("suffix", "depth"), [*CARRIERS, (".bmp", 8)])
def test_metadata_stripped(tmp_path: Path, suffix: str, depth: int) -> None:
    image = ImageData(
        color=_random((6, 9, 3), depth), bit_depth=depth, exif=_exif_bytes(),
        icc_profile=srgb_profile(),
    )  # fmt: skip
    path = tmp_path / f"bare{suffix}"
    back = _round_trip(path, image, keep_metadata=False)
    assert (back.exif, back.icc_profile) == (None, None)
    content = path.read_bytes()
    assert b"TestCam" not in content
    assert b"sRGB" not in content


def test_bmp_carries_no_metadata_even_when_kept(tmp_path: Path) -> None:
    image = ImageData(color=_random((4, 4, 3), 8), exif=_exif_bytes(), icc_profile=srgb_profile())
    back = _round_trip(tmp_path / "m.bmp", image)
    assert (back.exif, back.icc_profile) == (None, None)


def test_profile_of_the_wrong_colour_space_is_not_embedded(tmp_path: Path) -> None:
    grey = ImageData(color=_random((4, 4, 1), 8), icc_profile=srgb_profile())  # RGB profile
    assert _round_trip(tmp_path / "g.png", grey).icc_profile is None


def test_written_exif_is_upright(tmp_path: Path) -> None:
    color = _random((4, 6, 3), 8)
    image = ImageData(color=color, exif=_exif_bytes(orientation=6))
    back = _round_trip(tmp_path / "o.jpg", image, quality=100)
    exif = Image.Exif()
    exif.load(back.exif)
    assert exif[0x0112] == 1
    assert back.color.shape == (4, 6, 3)  # not turned again on reading


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_unreadable_exif_is_dropped_not_fatal(
    tmp_path: Path, suffix: str, recwarn: pytest.WarningsRecorder
) -> None:
    image = ImageData(color=_random((4, 4, 3), 8), exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05")
    assert _round_trip(tmp_path / f"x{suffix}", image).exif is None
    assert [str(w.message) for w in recwarn] == []


# --- formats, arguments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [(".png", "PNG"), ("JPG", "JPEG"), (".jpeg", "JPEG"), ("webp", "WEBP"), (".TIF", "TIFF"),
     ("tiff", "TIFF"), ("BMP", "BMP"), ("JPEG", "JPEG")],
)  # fmt: skip
def test_format_for_suffix(given: str, expected: str) -> None:
    assert format_for_suffix(given) == expected


def test_unknown_formats_and_bad_arguments(tmp_path: Path) -> None:
    assert SUPPORTED_SUFFIXES == (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
    expected = "unsupported image format '.gif' (use one of: bmp, jpeg, jpg, png, tif, tiff, webp)"
    with pytest.raises(UsageError) as info:
        format_for_suffix(".gif")
    assert str(info.value) == expected
    image = _photo(8, 8)
    with pytest.raises(UsageError):
        write_image(tmp_path / "x.gif", image)
    with pytest.raises(UsageError, match="no file suffix"):
        write_image(tmp_path / "noname", image)
    for quality in (0, 101, True):
        with pytest.raises(UsageError, match="quality must be a whole number from 1 to 100"):
            write_image(tmp_path / "x.jpg", image, quality=quality)
    assert list(tmp_path.iterdir()) == []


def test_a_format_contradicting_the_suffix_is_refused(tmp_path: Path) -> None:
    """Issue 22.8: JPEG bytes used to be written into photo.png."""
    with pytest.raises(UsageError, match="the name says PNG, the format asked for is JPEG"):
        write_image(tmp_path / "photo.png", _photo(8, 8), format="jpg")
    assert list(tmp_path.iterdir()) == []
    write_image(tmp_path / "photo.JPEG", _photo(8, 8), format="jpg")  # one format, two names
    write_image(tmp_path / "photo.out", _photo(8, 8), format="jpg")  # a suffix of no format
    assert (tmp_path / "photo.out").read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_cancelled_write_leaves_nothing(tmp_path: Path) -> None:
    from engine.events import Cancelled, CancelToken

    cancel = CancelToken()
    cancel.cancel()
    for name in ("out.png", "out.jpg", "out.tif"):
        with pytest.raises(Cancelled):
            write_image(tmp_path / name, _photo(8, 8), cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_a_png_stops_between_strips_once_cancelled() -> None:
    """A large PNG takes seconds to compress: Ctrl-C must not wait for all of it."""
    from engine.events import Cancelled, CancelToken

    class CancelOnSecondCheck(CancelToken):
        checks = 0

        def raise_if_cancelled(self) -> None:
            self.checks += 1
            if self.checks == 2:
                self.cancel()
            super().raise_if_cancelled()

    pixels = np.zeros((4 * png.STRIP_BYTES // 300, 100, 3), np.uint8)  # four strips
    cancel, handle = CancelOnSecondCheck(), io.BytesIO()
    with pytest.raises(Cancelled):
        png.write_png(handle, pixels, icc=None, exif=None, cancel=cancel)
    assert cancel.checks == 2 and b"IEND" not in handle.getvalue()


# --- atomic writes ------------------------------------------------------------------------


def test_write_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"old")
    write_image(path, _photo(8, 8))
    assert read_image(path).color.shape == (8, 8, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_failed_rename_leaves_nothing_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"old")

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ImageError) as info:
        write_image(path, _photo(8, 8))
    assert str(info.value) == f"{path}: could not write the file (No space left on device)"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    assert path.read_bytes() == b"old"


def test_interrupt_while_writing_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(tmp_path / "out.tif", _photo(8, 8))
    assert list(tmp_path.iterdir()) == []


def test_encoding_failure_creates_no_file(tmp_path: Path) -> None:
    wide = ImageData(color=np.zeros((1, 16384, 3), np.float32))
    path = tmp_path / "wide.webp"
    with pytest.raises(ImageError) as info:
        write_image(path, wide)
    assert info.value.reason == (
        "16384 x 1 is too large for WebP (at most 16383 pixels a side); use PNG or TIFF"
    )
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_folder_as_target(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        write_image(tmp_path / "nope" / "out.png", _photo(8, 8))
    assert info.value.reason == "output folder does not exist"
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(ImageError) as info:
        write_image(tmp_path / "taken.png", _photo(8, 8))
    assert info.value.reason == "is a folder; expected an output file name"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_file_permissions_follow_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_image(tmp_path / "out.png", _photo(8, 8))
    finally:
        os.umask(umask)
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o644


def test_encoded_png_is_what_pillow_reads(tmp_path: Path) -> None:
    photo = _photo(16, 16)
    write_image(tmp_path / "p.png", photo)
    with Image.open(io.BytesIO((tmp_path / "p.png").read_bytes())) as decoded:
        np.testing.assert_array_equal(np.asarray(decoded), _as_uint(photo.color))


# --- rasters (integer pixels, the upscaler's large results) --------------------------------


def _raster(channels: int, depth: int, *, alpha: bool, seed: int = 0) -> Raster:
    dtype = np.uint16 if depth == 16 else np.uint8
    pixels = np.random.default_rng(seed).integers(
        0, np.iinfo(dtype).max + 1, (37, 301, channels), dtype=dtype
    )
    return Raster(pixels=pixels, alpha=alpha, icc_profile=None, exif=None)


@pytest.mark.parametrize(("channels", "alpha"), [(1, False), (2, True), (3, False), (4, True)])
@pytest.mark.parametrize("depth", [8, 16])
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_rasters_are_written_exactly_in_strips(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
    depth: int,
    channels: int,
    alpha: bool,
) -> None:
    monkeypatch.setattr(png, "STRIP_BYTES", 3000)  # many strips and IDAT chunks
    monkeypatch.setattr(png, "IDAT_BYTES", 4096)
    raster = _raster(channels, depth, alpha=alpha)
    path = tmp_path / f"out{suffix}"
    write_image(path, raster)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    decoded = (
        imagecodecs.png_decode(path.read_bytes()) if suffix == ".png" else tifffile.imread(path)
    )
    np.testing.assert_array_equal(decoded.reshape(raster.pixels.shape), raster.pixels)


def test_a_raster_not_in_the_format_s_layout_is_converted(tmp_path: Path) -> None:
    raster = _raster(4, 16, alpha=True)
    write_image(tmp_path / "out.bmp", raster)
    values = raster.pixels.astype(np.float32) / 65535
    expected = ImageData(color=values[:, :, :3], alpha=values[:, :, 3:], bit_depth=16)
    write_image(tmp_path / "float.bmp", expected)
    assert (tmp_path / "out.bmp").read_bytes() == (tmp_path / "float.bmp").read_bytes()


def test_raster_metadata_is_kept(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "MFAGAN test camera"
    raster = dataclasses.replace(
        _raster(3, 16, alpha=False), icc_profile=srgb_profile(), exif=exif.tobytes()
    )
    for suffix in (".png", ".tif", ".jpg"):
        write_image(tmp_path / f"out{suffix}", raster)
        back = read_image(tmp_path / f"out{suffix}")
        assert back.icc_profile == srgb_profile()
        with Image.open(tmp_path / f"out{suffix}") as opened:
            assert opened.getexif().get(0x010F) == "MFAGAN test camera"


@pytest.mark.parametrize(("channels", "depth"), [(4, 16), (1, 8), (3, 8)])
def test_read_raster_gives_back_the_written_pixels(
    tmp_path: Path, channels: int, depth: int
) -> None:
    raster = _raster(channels, depth, alpha=channels == 4)
    write_image(tmp_path / "out.png", raster)
    back = read_raster(tmp_path / "out.png")
    assert (back.alpha, back.format, back.pixels.dtype) == (
        raster.alpha,
        "PNG",
        raster.pixels.dtype,
    )
    np.testing.assert_array_equal(back.pixels, raster.pixels)


def test_eight_bit_rounds_16_bit_levels_to_the_nearest() -> None:
    levels = np.arange(65536, dtype=np.uint16).reshape(256, 256, 1)
    expected = np.rint(levels / 257).astype(np.uint8)
    np.testing.assert_array_equal(eight_bit(levels, rows=7), expected)
    small = np.zeros((2, 2, 3), np.uint8)
    assert eight_bit(small) is small


@pytest.mark.parametrize("suffix", [".jpg", ".webp"])
def test_rgb_padded_for_pillow_writes_the_same_file(tmp_path: Path, suffix: str) -> None:
    plain = _raster(3, 8, alpha=False)
    layout = layout_for(FORMATS[format_for_suffix(suffix)], grey=False, alpha=False, bit_depth=8)
    assert layout.padded and layout.bytes_per_pixel == 4
    padded = layout.allocate(plain.height, plain.width)
    padded[...] = plain.pixels
    assert rgbx_base(padded) is not None and rgbx_base(plain.pixels) is None
    write_image(tmp_path / f"plain{suffix}", plain)
    write_image(tmp_path / f"padded{suffix}", Raster(pixels=padded, alpha=False))
    assert (tmp_path / f"plain{suffix}").read_bytes() == (tmp_path / f"padded{suffix}").read_bytes()
    assert rgbx_base(plain.pixels[:, 1:]) is None  # strides alone do not make a padded view


def test_large_jpegs_skip_huffman_optimisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = _photo(64, 64)
    write_image(tmp_path / "optimized.jpg", photo)
    monkeypatch.setattr(writer, "JPEG_OPTIMIZE_MAX_PIXELS", 64 * 64 - 1)
    write_image(tmp_path / "plain.jpg", photo)
    optimized, plain = (
        (tmp_path / "optimized.jpg").stat().st_size,
        (tmp_path / "plain.jpg").stat().st_size,
    )
    assert optimized < plain  # same pixels, default Huffman tables
    np.testing.assert_array_equal(
        read_image(tmp_path / "optimized.jpg").color, read_image(tmp_path / "plain.jpg").color
    )
