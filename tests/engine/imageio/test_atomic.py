"""Publishing a finished output: never over a file that appeared meanwhile, never over a
device or FIFO (issue 22 items 2 and 3)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine.errors import ImageError
from engine.imageio import atomic
from engine.imageio.atomic import atomic_output, atomic_write_bytes, publish_no_replace


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_a_file_that_appears_during_the_write_is_kept(tmp_path):
    out = tmp_path / "x.png"
    with (
        pytest.raises(ImageError, match="already exists") as caught,
        atomic_output(out, overwrite=False) as handle,
    ):
        handle.write(b"our result")
        out.write_bytes(b"the user's file")  # copied there while we worked
    assert str(caught.value) == f"{out}: already exists"
    assert out.read_bytes() == b"the user's file"
    assert _leftovers(tmp_path) == []


def test_without_overwrite_a_new_file_is_published(tmp_path):
    out = tmp_path / "x.png"
    atomic_write_bytes(out, b"data", overwrite=False)
    assert out.read_bytes() == b"data" and _leftovers(tmp_path) == []


@pytest.mark.parametrize("way", ["renameat2", "link", "copy"])
def test_every_way_of_publishing_refuses_an_existing_name(tmp_path, monkeypatch, way):
    if way != "renameat2":
        monkeypatch.setattr(atomic, "_libc_renameat2", lambda: None)
    if way == "copy":  # a file system without hard links

        def no_links(src, dst):
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(atomic.os, "link", no_links)
    temp, out = tmp_path / "t.part", tmp_path / "x.png"
    temp.write_bytes(b"new")
    out.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        publish_no_replace(temp, out)
    assert out.read_bytes() == b"old"
    out.unlink()
    publish_no_replace(temp, out)
    assert out.read_bytes() == b"new"


def test_a_fifo_is_never_replaced_even_with_overwrite(tmp_path):
    fifo = tmp_path / "f.png"
    os.mkfifo(fifo)
    for overwrite in (True, False):
        with pytest.raises(ImageError, match="FIFO"):
            atomic_write_bytes(fifo, b"png", overwrite=overwrite)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _leftovers(tmp_path) == []


def test_a_link_to_a_device_is_never_replaced_even_with_overwrite(tmp_path):
    link = tmp_path / "x.png"
    link.symlink_to(os.devnull)
    with pytest.raises(ImageError, match="character device"):
        atomic_write_bytes(link, b"png", overwrite=True)
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_device_that_appears_during_the_write_is_not_replaced(tmp_path):
    out = tmp_path / "x.png"
    with (
        pytest.raises(ImageError, match="character device"),
        atomic_output(out, overwrite=True) as handle,
    ):
        handle.write(b"png")
        out.symlink_to(os.devnull)
    assert out.is_symlink() and _leftovers(tmp_path) == []
