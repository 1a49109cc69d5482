"""Where the engine keeps its cache and data: a folder it cannot use is one line naming it."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest

from engine import paths
from engine.cli import main
from engine.errors import StorageError


def test_a_cache_folder_that_is_a_file_names_it_and_its_variable(tmp_path, monkeypatch):
    taken = tmp_path / "cache"
    taken.write_text("a file, not a folder")
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(taken))
    with pytest.raises(StorageError) as caught:
        paths.cache_dir()
    message = str(caught.value)
    assert message.startswith(f"{taken}: cannot be the cache folder")
    assert "it is a file, not a folder" in message and "MFAGAN_CACHE_DIR" in message
    assert taken.read_text() == "a file, not a folder"  # nothing of it touched


def test_a_file_above_the_data_folder_is_named(tmp_path, monkeypatch):
    taken = tmp_path / "home"
    taken.write_text("")
    monkeypatch.setenv("MFAGAN_DATA_DIR", str(taken / "data"))
    with pytest.raises(StorageError, match=f"{taken} is a file; MFAGAN_DATA_DIR sets it"):
        paths.data_dir()


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_* locate the folders on Linux only")
@pytest.mark.parametrize(
    ("xdg", "ours", "find", "kind"),
    [
        ("XDG_CACHE_HOME", "MFAGAN_CACHE_DIR", paths.cache_dir, "cache"),
        ("XDG_DATA_HOME", "MFAGAN_DATA_DIR", paths.data_dir, "data"),
    ],
)
def test_an_xdg_folder_that_is_a_file_is_named(tmp_path, monkeypatch, xdg, ours, find, kind):
    taken = tmp_path / "xdg"
    taken.write_text("")
    monkeypatch.delenv(ours)
    monkeypatch.setenv(xdg, str(taken))
    with pytest.raises(StorageError) as caught:
        find()
    assert str(caught.value) == (
        f"{taken / paths.APP_NAME}: cannot be the {kind} folder "
        f"({taken} is a file; {xdg} sets it; {ours} overrides it)"
    )


def test_a_read_only_file_system_is_named(tmp_path, monkeypatch):
    """What mkdir meets under a read-only mount (faked: root writes through chmod)."""
    folder = tmp_path / "ro" / "cache"
    real_mkdir = os.mkdir

    def read_only(path, *args, **kwargs):
        if Path(path).is_relative_to(tmp_path / "ro"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only)
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(folder))
    with pytest.raises(StorageError) as caught:
        paths.cache_dir()
    assert str(caught.value) == (
        f"{folder}: cannot be the cache folder (read-only file system; MFAGAN_CACHE_DIR sets it)"
    )


@pytest.mark.parametrize("variable", ["MFAGAN_CACHE_DIR", "MFAGAN_DATA_DIR"])
def test_the_cli_says_it_in_one_line_and_exits_1(
    astronaut_png, tmp_path, capsys, monkeypatch, variable
):
    taken = tmp_path / "taken"
    taken.write_text("")
    monkeypatch.setenv(variable, str(taken))
    out = tmp_path / "out.png"
    code = main(["upscale", str(astronaut_png), "-o", str(out), "--model", "bicubic", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith(f"error: {taken}: cannot be the ") and err.count("\n") == 1
    assert not out.exists() and taken.read_text() == ""
