"""Reading images: the bad-input suite, every colour model, 16-bit precision, orientation.

Writing (round trips, metadata, atomic writes) is in test_imageio_write.py.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps
from skimage import data as skdata
from support import rgb_noise

from engine.errors import ImageError
from engine.imageio import ImageData, read_image
from engine.imageio.metadata import srgb_profile

SUPPORTED = "PNG, JPEG, WebP, TIFF, BMP"
NOT_AN_IMAGE = f"not an image file (or not a supported format: {SUPPORTED})"
LABELS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "TIFF": "TIFF", "BMP": "BMP"}


@functools.cache
def _astronaut() -> np.ndarray:
    return skdata.astronaut()


def _photo(height: int = 48, width: int = 64) -> np.ndarray:
    """A crop of a real photo (public domain, bundled with scikit-image), uint8 HxWx3."""
    return _astronaut()[100 : 100 + height, 180 : 180 + width].copy()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(pixels: np.ndarray, *, bit_depth: int, color_type: int, extra: bytes = b"") -> bytes:
    """A PNG encoded by hand (filter 0, one IDAT): independent of every library under test."""
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1).astype(">u2" if bit_depth == 16 else "u1")
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _encoded(array: np.ndarray, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _expect_error(path: Path, reason: str) -> None:
    with pytest.raises(ImageError) as info:
        read_image(path)
    assert info.value.path == path
    assert info.value.reason == reason
    assert str(info.value) == f"{path}: {reason}"


def _as_uint(values: np.ndarray, depth: int = 8) -> np.ndarray:
    top = 65535 if depth == 16 else 255
    return np.rint(values * top).astype(np.uint16 if depth == 16 else np.uint8)


# --- the bad-input suite ------------------------------------------------------------------


def test_zero_byte_file(tmp_path: Path) -> None:
    _expect_error(_write(tmp_path / "empty.png", b""), "file is empty (0 bytes)")


def test_missing_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nowhere.png", "file not found")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "photos.png"
    folder.mkdir()
    _expect_error(folder, "is a folder, not an image file")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "secret.png", _encoded(_photo(), "PNG"))

    real_open = os.open

    def refuse(name: str | Path, *args: object) -> int:
        if Path(name) == path:
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args)

    monkeypatch.setattr(os, "open", refuse)
    _expect_error(path, "permission denied (cannot read the file)")


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root (and Windows) ignore chmod 000"
)
def test_unreadable_file_for_real(tmp_path: Path) -> None:
    path = _write(tmp_path / "secret.png", _encoded(_photo(), "PNG"))
    path.chmod(0)
    try:
        _expect_error(path, "permission denied (cannot read the file)")
    finally:
        path.chmod(0o644)


def test_text_file_renamed_png(tmp_path: Path) -> None:
    path = _write(tmp_path / "notes.png", b"shopping list: milk, eggs\n" * 10)
    _expect_error(path, NOT_AN_IMAGE)


def test_unsupported_format_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "anim.png", _encoded(_photo(), "GIF"))
    _expect_error(path, f"GIF images are not supported (supported: {SUPPORTED})")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF", "BMP"])
@pytest.mark.parametrize("keep", ["half", "header"])
def test_truncated_file(tmp_path: Path, fmt: str, keep: str) -> None:
    whole = _encoded(_photo(), fmt)
    cut = len(whole) // 2 if keep == "half" else 20
    path = _write(tmp_path / "cut.img", whole[:cut])
    _expect_error(path, f"{LABELS[fmt]} data is truncated or corrupt")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF", "BMP"])
def test_damaged_bytes_give_image_error_or_image(tmp_path: Path, fmt: str) -> None:
    whole = bytearray(_encoded(_photo(16, 16), fmt))
    outcomes = set()
    spread = np.linspace(32, len(whole) - 1, 12).astype(int)
    for position in [*range(1, 32, 3), *spread]:  # header fields, then the image data
        damaged = whole.copy()
        damaged[position] ^= 0xA5
        path = _write(tmp_path / f"damaged{position}", bytes(damaged))
        try:
            image = read_image(path)
        except ImageError as exc:
            assert "\n" not in str(exc)
            outcomes.add("error")
        else:
            assert image.color.dtype == np.float32
            outcomes.add("image")
    assert "error" in outcomes  # some damage is detected, none escapes as another exception


@pytest.mark.parametrize("side", [20000, 10000])  # above 2x the limit (error) / 1x-2x (warning)
def test_decompression_bomb_refused(tmp_path: Path, side: int) -> None:
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's default limit is still on
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IEND", b"")
    path = _write(tmp_path / "bomb.png", bomb)
    pixels = f"{side * side:,}"
    _expect_error(
        path,
        f"image too large ({pixels} pixels > limit of 89,478,485; possible decompression bomb)",
    )


def test_decompression_limit_on_a_real_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "photo.png", _encoded(_photo(48, 64), "PNG"))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 48 * 64)
    assert read_image(path).color.shape == (48, 64, 3)  # exactly at the limit: fine
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    _expect_error(
        path, "image too large (3,072 pixels > limit of 1,000; possible decompression bomb)"
    )


def test_decompression_limit_holds_when_warnings_are_silenced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Warning filters are process-wide: another thread may silence Pillow's bomb warning.
    path = _write(tmp_path / "photo.png", _encoded(_photo(48, 64), "PNG"))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # 3,072 pixels: only a warning
    monkeypatch.setattr(warnings, "simplefilter", lambda *args, **kwargs: None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
        _expect_error(
            path, "image too large (3,072 pixels > limit of 2,000; possible decompression bomb)"
        )


def test_decompression_limit_on_a_tiff_only_tifffile_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "grey_alpha16.tif"  # Pillow cannot open 16-bit grey+alpha TIFF
    tifffile.imwrite(path, np.zeros((30, 40, 2), np.uint16), extrasamples=["unassalpha"])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    _expect_error(
        path, "image too large (1,200 pixels > limit of 1,000; possible decompression bomb)"
    )


def test_damaged_exif_is_dropped_quietly(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    content = _encoded(_photo(), "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7fgarbage")
    image = read_image(_write(tmp_path / "odd.jpg", content))
    assert image.exif is None
    assert image.color.shape == (48, 64, 3)
    assert [str(w.message) for w in recwarn] == []


# --- colour models ------------------------------------------------------------------------


def test_cmyk_jpeg_without_profile(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (255, 0, 0, 0)).save(path, quality=95)
    image = read_image(path)
    assert (image.format, image.bit_depth, image.icc_profile) == ("JPEG", 8, None)
    np.testing.assert_allclose(image.color[8, 8], [0.0, 1.0, 1.0], atol=2 / 255)  # cyan


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _cmyk_profile() -> bytes:
    """A tiny ICC v2 CMYK profile that ignores C, M and Y: K=0 -> Lab(94, 0, 0), K=1 ->
    Lab(12, 0, 0). Pillow's plain conversion would keep cyan cyan, so grey proves the
    embedded profile was used."""
    lab = [(240, 128, 128), (30, 128, 128)]  # lut8 Lab encoding
    clut = b"".join(bytes(lab[index & 1]) for index in range(16))  # K varies fastest
    matrix = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    lut = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + matrix
    lut += bytes(range(256)) * 4 + clut + bytes(range(256)) * 3
    white = _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    tags = [(b"A2B0", lut), (b"wtpt", b"XYZ " + bytes(4) + white)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, tag in tags:
        table += signature + struct.pack(">II", offset + len(body), len(tag))
        body += tag + bytes(-len(tag) % 4)
    header = struct.pack(">I", offset + len(body)) + b"lcms" + bytes([2, 0x10, 0, 0])
    header += b"prtrCMYKLab " + bytes(12) + b"acsp" + bytes(28) + white + bytes(48)
    return header + struct.pack(">I", len(tags)) + table + body


def test_cmyk_jpeg_converted_through_its_profile(tmp_path: Path) -> None:
    profile = _cmyk_profile()
    assert ImageCms.ImageCmsProfile(io.BytesIO(profile)).profile.xcolor_space == "CMYK"
    cmyk = Image.new("CMYK", (32, 16), (255, 0, 0, 0))
    cmyk.paste((0, 0, 0, 255), (16, 0, 32, 16))
    path = tmp_path / "cmyk_profiled.jpg"
    cmyk.save(path, quality=95, icc_profile=profile)
    image = read_image(path)
    np.testing.assert_allclose(image.color[8, 4], [238 / 255] * 3, atol=3 / 255)
    np.testing.assert_allclose(image.color[8, 28], [0.0] * 3, atol=3 / 255)
    assert image.icc_profile == srgb_profile()


@pytest.mark.parametrize(("channels", "color_type"), [(1, 0), (2, 4), (3, 2), (4, 6)])
def test_16_bit_png_keeps_the_low_byte(tmp_path: Path, channels: int, color_type: int) -> None:
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 65536, (12, 10, channels), dtype=np.uint16)
    assert np.count_nonzero(pixels % 257) > 0.9 * pixels.size  # not representable in 8 bits
    path = _write(tmp_path / "deep.png", _png(pixels, bit_depth=16, color_type=color_type))
    image = read_image(path)
    base = 3 if channels >= 3 else 1
    assert (image.bit_depth, image.format, image.color.shape[2]) == (16, "PNG", base)
    np.testing.assert_array_equal(_as_uint(image.color, 16), pixels[:, :, :base])
    if channels in (2, 4):
        np.testing.assert_array_equal(_as_uint(image.alpha, 16), pixels[:, :, -1:])
    else:
        assert image.alpha is None


def test_16_bit_png_with_a_transparent_colour(tmp_path: Path) -> None:
    pixels = np.full((4, 5, 3), 0x1234, np.uint16)
    pixels[1, 2] = (0x0102, 0x0304, 0x0506)
    key = _chunk(b"tRNS", struct.pack(">HHH", 0x0102, 0x0304, 0x0506))
    image = read_image(
        _write(tmp_path / "key.png", _png(pixels, bit_depth=16, color_type=2, extra=key))
    )
    expected = np.ones((4, 5, 1), np.float32)
    expected[1, 2] = 0.0
    np.testing.assert_array_equal(image.alpha, expected)
    np.testing.assert_array_equal(_as_uint(image.color, 16), pixels)


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255]
    indices = np.array([[0, 1, 2, 1], [2, 2, 0, 0]], np.uint8)
    im = Image.fromarray(indices, "L").convert("P")
    im.putpalette(palette)
    im.frombytes(indices.tobytes())
    path = tmp_path / "palette.png"
    im.save(path, transparency=bytes([255, 128, 0]))
    image = read_image(path)
    colours = np.array(palette, np.uint8).reshape(3, 3)[indices]
    np.testing.assert_array_equal(_as_uint(image.color), colours)
    np.testing.assert_array_equal(_as_uint(image.alpha)[:, :, 0], np.array([255, 128, 0])[indices])

    im.save(path)  # same palette, no transparency: RGB without alpha
    opaque = read_image(path)
    assert opaque.alpha is None
    np.testing.assert_array_equal(_as_uint(opaque.color), colours)


def test_grey_alpha_png(tmp_path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (6, 7, 2), dtype=np.uint8)
    image = read_image(_write(tmp_path / "la.png", _png(pixels, bit_depth=8, color_type=4)))
    assert (image.color.shape, image.alpha.shape, image.bit_depth) == ((6, 7, 1), (6, 7, 1), 8)
    np.testing.assert_array_equal(_as_uint(image.color), pixels[:, :, :1])
    np.testing.assert_array_equal(_as_uint(image.alpha), pixels[:, :, 1:])


def test_rgba_png(tmp_path: Path) -> None:
    pixels = np.random.default_rng(2).integers(0, 256, (6, 7, 4), dtype=np.uint8)
    image = read_image(_write(tmp_path / "rgba.png", _png(pixels, bit_depth=8, color_type=6)))
    np.testing.assert_array_equal(_as_uint(image.color), pixels[:, :, :3])
    np.testing.assert_array_equal(_as_uint(image.alpha), pixels[:, :, 3:])
    assert image.color.dtype == image.alpha.dtype == np.float32
    assert image.color[0, 0, 0] == np.float32(pixels[0, 0, 0]) / np.float32(255)


def test_grey_png_with_a_transparent_level(tmp_path: Path) -> None:
    pixels = np.array([[10, 20], [20, 30]], np.uint8)
    key = _chunk(b"tRNS", struct.pack(">H", 20))
    image = read_image(
        _write(tmp_path / "g.png", _png(pixels, bit_depth=8, color_type=0, extra=key))
    )
    assert image.color.shape == (2, 2, 1)
    np.testing.assert_array_equal(image.alpha[:, :, 0], [[1, 0], [0, 1]])


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP"])
def test_greyscale_stays_greyscale(tmp_path: Path, fmt: str) -> None:
    grey = skdata.camera()[200:232, 200:248]
    content = _encoded(grey, fmt)
    image = read_image(_write(tmp_path / "grey.img", content))
    assert (image.color.shape, image.alpha, image.format) == ((32, 48, 1), None, fmt)
    with Image.open(io.BytesIO(content)) as decoded:
        assert decoded.mode == "L"
        np.testing.assert_array_equal(_as_uint(image.color)[:, :, 0], np.asarray(decoded))
    if fmt != "JPEG":
        np.testing.assert_array_equal(_as_uint(image.color)[:, :, 0], grey)


def test_one_bit_png_is_grey(tmp_path: Path) -> None:
    path = tmp_path / "bits.png"
    Image.fromarray(np.eye(8, dtype=bool)).save(path)
    image = read_image(path)
    np.testing.assert_array_equal(image.color[:, :, 0], np.eye(8, dtype=np.float32))


@pytest.mark.parametrize(
    ("channels", "options"),
    [
        (1, {}),
        (2, {"extrasamples": ["unassalpha"]}),  # Pillow refuses this one: tifffile only
        (3, {"photometric": "rgb"}),
        (4, {"photometric": "rgb", "extrasamples": ["unassalpha"]}),
        (3, {"photometric": "rgb", "planarconfig": "separate"}),
    ],
)
def test_16_bit_tiff(tmp_path: Path, channels: int, options: dict) -> None:
    pixels = np.random.default_rng(channels).integers(0, 65536, (9, 11, channels), dtype=np.uint16)
    path = tmp_path / "deep.tif"
    stored = np.moveaxis(pixels, -1, 0) if options.get("planarconfig") else pixels
    tifffile.imwrite(path, stored[..., 0] if channels == 1 else stored, **options)
    image = read_image(path)
    base = 3 if channels >= 3 else 1
    assert (image.bit_depth, image.format) == (16, "TIFF")
    np.testing.assert_array_equal(_as_uint(image.color, 16), pixels[:, :, :base])
    if channels in (2, 4):
        np.testing.assert_array_equal(_as_uint(image.alpha, 16), pixels[:, :, -1:])


def test_16_bit_tiff_premultiplied_alpha_and_min_is_white(tmp_path: Path) -> None:
    straight = np.array([[[40000, 20000, 0, 32768], [1000, 2000, 3000, 0]]], np.uint16)
    alpha = straight[..., 3:].astype(np.float64) / 65535
    premultiplied = straight.copy()
    premultiplied[..., :3] = np.rint(straight[..., :3] * alpha).astype(np.uint16)
    path = tmp_path / "assoc.tif"
    tifffile.imwrite(path, premultiplied, photometric="rgb", extrasamples=["assocalpha"])
    image = read_image(path)
    assert np.abs(_as_uint(image.color[0, 0], 16).astype(int) - straight[0, 0, :3]).max() <= 2
    np.testing.assert_array_equal(image.color[0, 1], [0, 0, 0])  # fully transparent

    inverted = tmp_path / "white.tif"
    tifffile.imwrite(inverted, np.array([[0, 65535, 1000]], np.uint16), photometric="miniswhite")
    np.testing.assert_array_equal(
        _as_uint(read_image(inverted).color, 16)[0, :, 0], [65535, 0, 64535]
    )


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    return exif


def test_exif_rotated_jpeg_with_icc_profile(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    Image.fromarray(_photo(24, 40)).save(
        path, quality=95, exif=_exif(6), icc_profile=srgb_profile()
    )
    image = read_image(path)
    with Image.open(path) as original:
        upright = np.asarray(ImageOps.exif_transpose(original))
    assert image.color.shape == (40, 24, 3)  # turned a quarter clockwise
    np.testing.assert_array_equal(_as_uint(image.color), upright)
    exif = Image.Exif()
    exif.load(image.exif)
    assert (exif[0x0112], exif[0x010F]) == (1, "TestCam")
    assert image.icc_profile == srgb_profile()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    rgba = np.random.default_rng(orientation).integers(0, 256, (5, 8, 4), dtype=np.uint8)
    path = tmp_path / "o.png"
    Image.fromarray(rgba).save(path, exif=_exif(orientation))
    image = read_image(path)
    with Image.open(path) as original:
        upright = np.asarray(ImageOps.exif_transpose(original))
    np.testing.assert_array_equal(_as_uint(image.color), upright[:, :, :3])
    np.testing.assert_array_equal(_as_uint(image.alpha), upright[:, :, 3:])
    assert image.color.flags.c_contiguous


def test_tiff_structure_tags_are_not_carried_as_exif(tmp_path: Path) -> None:
    path = tmp_path / "tagged.tif"
    tifffile.imwrite(
        path, _photo(8, 8), photometric="rgb", extratags=[(271, "s", 0, "TestCam", True)]
    )
    exif = Image.Exif()
    exif.load(read_image(path).exif)
    assert exif[0x010F] == "TestCam"
    assert not {256, 257, 258, 273, 277, 279} & set(exif)


def test_first_frame_of_mpo_and_multi_page_tiff(tmp_path: Path) -> None:
    first, second = _photo(16, 16), 255 - _photo(16, 16)
    mpo = tmp_path / "phone.jpg"
    Image.fromarray(first).save(mpo, "MPO", save_all=True, append_images=[Image.fromarray(second)])
    image = read_image(mpo)
    assert image.format == "JPEG"
    with Image.open(mpo) as decoded:
        assert decoded.format == "MPO"
        np.testing.assert_array_equal(_as_uint(image.color), np.asarray(decoded.convert("RGB")))

    pages = tmp_path / "pages.tif"
    tifffile.imwrite(pages, np.stack([first, second]), photometric="rgb")
    np.testing.assert_array_equal(_as_uint(read_image(pages).color), first)


def test_format_comes_from_content_not_suffix(tmp_path: Path) -> None:
    image = read_image(_write(tmp_path / "really_a_jpeg.png", _encoded(_photo(), "JPEG")))
    assert image.format == "JPEG"


def test_image_data_validation() -> None:
    good = np.zeros((4, 5, 3), np.float32)
    with pytest.raises(TypeError):
        ImageData(color=good.astype(np.float64))
    with pytest.raises(ValueError, match="HxWx3 or HxWx1"):
        ImageData(color=np.zeros((4, 5, 2), np.float32))
    with pytest.raises(ValueError, match="alpha must be"):
        ImageData(color=good, alpha=np.zeros((4, 5, 3), np.float32))
    with pytest.raises(ValueError, match="bit_depth"):
        ImageData(color=good, bit_depth=12)
    image = ImageData(color=good, alpha=np.ones((4, 5, 1), np.float32), bit_depth=16)
    assert (image.width, image.height, image.is_grey, image.format) == (5, 4, False, "")


def _cut_profile() -> bytes:
    profile = srgb_profile()
    return profile[: len(profile) // 2]


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_truncated_icc_profile_is_dropped_and_said(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"cut{suffix}"
    Image.fromarray(rgb_noise(8, 8)).save(path, icc_profile=_cut_profile())
    image = read_image(path)
    assert image.icc_profile is None
    assert len(image.notes) == 1 and "truncated" in image.notes[0]


def test_a_full_length_but_damaged_icc_profile_is_dropped(tmp_path: Path) -> None:
    profile = bytearray(srgb_profile())
    profile[132:] = bytes(len(profile) - 132)  # the tag table and tags zeroed
    path = tmp_path / "zeroed.png"
    Image.fromarray(rgb_noise(8, 8)).save(path, icc_profile=bytes(profile))
    image = read_image(path)
    assert image.icc_profile is None and "damaged" in image.notes[0]
    good = tmp_path / "good.png"
    Image.fromarray(rgb_noise(8, 8)).save(good, icc_profile=srgb_profile())
    assert read_image(good).icc_profile == srgb_profile() and read_image(good).notes == ()


def test_upscale_says_once_that_it_left_a_damaged_profile_out(tmp_path: Path, capsys) -> None:
    from engine.cli import main

    source, output = tmp_path / "cut.png", tmp_path / "out.png"
    Image.fromarray(rgb_noise(8, 8)).save(source, icc_profile=_cut_profile())
    assert main(["upscale", str(source), "-o", str(output), "-m", "bicubic"]) == 0
    err = capsys.readouterr().err
    assert err.count("ICC colour profile is truncated") == 1 and str(source) in err
    with Image.open(output) as written:
        assert "icc_profile" not in written.info


def test_a_png_with_a_profile_over_pillows_limit_says_the_profile_is_too_large(
    tmp_path: Path,
) -> None:
    # Pillow refuses an iCCP chunk over PngImagePlugin.MAX_TEXT_CHUNK (1 MiB) decompressed.
    profile = srgb_profile() + bytes(10 << 20)  # 10 MB
    path = _write(
        tmp_path / "big-icc.png",
        _png(_photo(8, 8), bit_depth=8, color_type=2, extra=_icc_chunk(profile)),
    )
    _expect_error(
        path,
        "its ICC colour profile is too large (over 1 MiB decompressed, the most Pillow accepts)",
    )
    small = _write(
        tmp_path / "icc.png",
        _png(_photo(8, 8), bit_depth=8, color_type=2, extra=_icc_chunk(srgb_profile())),
    )
    assert read_image(small).icc_profile == srgb_profile()


def test_a_png_with_too_much_text_says_so_not_corrupt(tmp_path: Path) -> None:
    text = _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(2 << 20)))
    path = _write(tmp_path / "text.png", _png(_photo(8, 8), bit_depth=8, color_type=2, extra=text))
    _expect_error(path, "its text metadata is too large (over 1 MiB, the most Pillow accepts)")


def _icc_chunk(profile: bytes) -> bytes:
    return _chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(profile))


@pytest.mark.parametrize(
    ("suffix", "note"),
    [
        (".png", "is animated (3 frames); only the first frame is used"),
        (".webp", "is animated (3 frames); only the first frame is used"),
        (".tiff", "holds 3 pages; only the first page is used"),
    ],
)
def test_frames_after_the_first_are_noted(tmp_path: Path, suffix: str, note: str) -> None:
    """Issue 22.13: an animation or a multi-page TIFF silently became its first frame."""
    frames = [Image.fromarray(np.full((8, 8, 3), 60 * i, np.uint8)) for i in range(3)]
    path = tmp_path / f"many{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:], lossless=True)
    image = read_image(path)
    assert image.notes == (note,)
    assert np.all(image.color == 0)  # the first frame
    frames[0].save(path)
    assert read_image(path).notes == ()
