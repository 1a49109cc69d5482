"""Every result we write names us as its Software, in the format's own field, replacing the
original's Software and keeping the rest of its metadata; ``is_our_result`` finds the mark
from the header alone (a new user's batch upscaled its own results again)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, TiffImagePlugin
from skimage import data as skdata

from engine.imageio import ImageData, read_image, write_image
from engine.imageio.marker import SOFTWARE_NAME, is_our_result
from engine.imageio.metadata import EXIF_IFD, SOFTWARE, srgb_profile

MARKED = [".png", ".jpg", ".webp", ".tif"]


def _photo(*, software: str | None = "Camera firmware 2.1") -> ImageData:
    pixels = skdata.astronaut()[100:124, 100:140].astype(np.float32) / 255
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # make
    if software is not None:
        exif[SOFTWARE] = software
    exif.get_ifd(EXIF_IFD)[0x9003] = "2024:05:06 07:08:09"  # taken at
    return ImageData(color=pixels, exif=exif.tobytes(), icc_profile=srgb_profile())


def _software_fields(path: Path) -> list[object]:
    """Every Software value another program would see in the file."""
    with Image.open(path) as opened:
        found = [opened.getexif().get(SOFTWARE)]
        found.append(opened.info.get("Software"))
    return [value for value in found if value is not None]


@pytest.mark.parametrize("suffix", MARKED)
def test_a_result_names_us_instead_of_the_original_s_software(tmp_path: Path, suffix) -> None:
    path = tmp_path / f"astronaut_mfagan_x4{suffix}"
    write_image(path, _photo())
    assert is_our_result(path)
    fields = _software_fields(path)
    assert fields and set(fields) == {SOFTWARE_NAME}  # replaced, never both
    assert b"Camera firmware" not in path.read_bytes()


@pytest.mark.parametrize("suffix", MARKED)
def test_the_original_s_other_metadata_is_kept(tmp_path: Path, suffix) -> None:
    path = tmp_path / f"kept{suffix}"
    write_image(path, _photo())
    with Image.open(path) as opened:
        exif = opened.getexif()
        assert exif[0x010F] == "TestCam"
        assert exif.get_ifd(EXIF_IFD)[0x9003] == "2024:05:06 07:08:09"
        assert opened.info["icc_profile"] == srgb_profile()
    back = read_image(path)
    assert back.icc_profile == srgb_profile()
    carried = Image.Exif()
    carried.load(back.exif)
    # Carried to the next output without any Software: that output names its own writer.
    assert carried[0x010F] == "TestCam" and SOFTWARE not in carried


@pytest.mark.parametrize("suffix", MARKED)
def test_a_result_without_kept_metadata_still_carries_the_mark_alone(tmp_path, suffix) -> None:
    path = tmp_path / f"bare{suffix}"
    write_image(path, _photo(), keep_metadata=False)
    assert is_our_result(path)
    assert b"TestCam" not in path.read_bytes()
    assert read_image(path).exif is None  # nothing of the original's EXIF to carry along


@pytest.mark.parametrize("suffix", MARKED)
def test_a_photo_without_exif_gets_the_mark(tmp_path: Path, suffix) -> None:
    path = tmp_path / f"plain{suffix}"
    write_image(path, ImageData(color=_photo().color))
    assert is_our_result(path)
    assert set(_software_fields(path)) == {SOFTWARE_NAME}


@pytest.mark.parametrize("suffix", [*MARKED, ".bmp"])
def test_other_programs_files_and_unmarked_writes_are_not_ours(tmp_path, suffix) -> None:
    other = tmp_path / f"other{suffix}"
    image = Image.fromarray(skdata.astronaut()[:32, :32])
    if suffix == ".bmp":
        image.save(other)
    else:
        exif = Image.Exif()
        exif[SOFTWARE] = "GIMP 2.10"
        image.save(other, exif=exif)
    assert not is_our_result(other)
    unmarked = tmp_path / f"pasted{suffix}"
    write_image(unmarked, _photo(software=None), mark_result=False)
    assert not is_our_result(unmarked)


def test_a_bmp_cannot_hold_the_mark(tmp_path: Path) -> None:
    path = tmp_path / "result.bmp"
    write_image(path, _photo())
    assert not is_our_result(path)  # batch_scan falls back on the exact result name


def test_a_tiff_s_software_is_the_only_one_in_its_first_directory(tmp_path: Path) -> None:
    path = tmp_path / "one.tif"
    write_image(path, _photo())
    with Image.open(path) as opened:
        assert isinstance(opened, TiffImagePlugin.TiffImageFile)
        assert opened.tag_v2[SOFTWARE] == SOFTWARE_NAME
    assert path.read_bytes().count(SOFTWARE_NAME.encode()) == 1


def test_the_check_reads_no_pixels_and_ignores_the_pixel_limit(tmp_path, monkeypatch) -> None:
    paths = [tmp_path / f"big{suffix}" for suffix in MARKED]
    for path in paths:
        write_image(path, _photo())
    # Above Pillow's decompression-bomb limit (as a 192-megapixel result is), and a decode
    # would fail: the check must still answer from the header.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    for loader in (Image.Image, ImageFile.ImageFile):
        monkeypatch.setattr(loader, "load", lambda self: pytest.fail("pixels decoded"))
    assert [is_our_result(path) for path in paths] == [True] * len(paths)


def test_a_png_with_a_large_colour_profile_is_recognised(tmp_path: Path) -> None:
    profile = srgb_profile()
    large = profile[:16] + b"RGB " + profile[20:] + bytes(3 << 20)  # Pillow refuses > 1 MiB
    path = tmp_path / "large profile.png"
    write_image(path, ImageData(color=_photo().color, icc_profile=large))
    assert is_our_result(path)


@pytest.mark.parametrize("content", [b"", b"not an image", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_damaged_or_empty_files_are_not_ours(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "damaged.png"
    path.write_bytes(content)
    assert not is_our_result(path)
    assert not is_our_result(tmp_path / "missing.png")
