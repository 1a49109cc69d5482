"""An input is a regular file, links followed: anything else is refused unopened, with the
real reason (issue 22 items 4 and 12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from special_files import forbid_opening, special_files

from engine.errors import ImageError
from engine.imageio import read_image
from engine.imageio.reader import input_format
from engine.imageio.source import input_problem, read_input

EXPECTED = {
    "fifo": "is a FIFO (named pipe), not a regular file",
    "zero": "is a link to a character device (/dev/zero), not a regular file",
    "urandom": "is a link to a character device (/dev/urandom), not a regular file",
    "loop": "is a symbolic link loop (it leads back to itself)",
    "broken": "is a broken link (it points to something missing)",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_what_is_not_a_regular_file_is_refused_unopened(tmp_path, monkeypatch, name):
    path = special_files(tmp_path)[name]
    forbid_opening(monkeypatch, [path])
    assert input_problem(path) == EXPECTED[name]
    for read in (read_image, read_input, input_format):
        with pytest.raises(ImageError) as info:
            read(path)
        assert str(info.value) == f"{path}: {EXPECTED[name]}"


def test_a_folder_and_a_missing_file_say_so(tmp_path):
    folder = tmp_path / "photos.png"
    folder.mkdir()
    assert input_problem(folder) == "is a folder, not an image file"
    assert input_problem(tmp_path / "nowhere.png") == "file not found"
    assert input_problem(tmp_path / "nowhere" / "a.png") == "file not found"


def test_a_link_to_a_regular_file_is_an_input(tmp_path):
    target = tmp_path / "real.png"
    target.write_bytes(b"\x89PNG\r\n\x1a\nrest")
    link = tmp_path / "link.png"
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError) as exc:
        pytest.skip(f"no symbolic links here ({exc})")
    assert input_problem(link) is None
    assert read_input(link) == target.read_bytes()
    assert input_format(link) == "PNG"


def test_input_format_refuses_what_we_cannot_read(tmp_path: Path):
    gif = tmp_path / "anim.png"  # the content decides, not the suffix
    gif.write_bytes(b"GIF89a" + bytes(32))
    with pytest.raises(ImageError, match=r"GIF images are not supported"):
        input_format(gif)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert input_format(text) is None


def test_a_file_swapped_for_a_device_after_the_check_is_refused_once_opened(tmp_path, monkeypatch):
    # The check passed (a regular file); by the open it is a link to /dev/null: the opened
    # file is checked again. /dev/null, not /dev/zero: a regression reads 0 bytes, not all.
    if not os.path.exists("/dev/null") or not hasattr(os, "mkfifo"):
        pytest.skip("needs /dev/null (POSIX)")
    link = tmp_path / "swapped.png"
    os.symlink("/dev/null", link)
    monkeypatch.setattr("engine.imageio.source.input_problem", lambda path: None)
    with pytest.raises(ImageError, match=r"character device \(/dev/null\), not a regular"):
        read_input(link)
