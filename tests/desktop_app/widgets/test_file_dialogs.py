"""File dialogs open in Pictures (else home), never the working folder, and each opens
again where it was left, also after a restart (issue 21.16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from desktop_app.widgets.file_dialogs import first_folder
from tests.desktop_app.helpers import WAIT_MS, save_photo


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home folder with a Pictures folder (no XDG user-dirs file: the default name)."""
    home = tmp_path / "home"
    (home / "Pictures").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


@pytest.fixture
def opened_in(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[object]]:
    """(where each dialog opened, the answers queued for the next dialogs)."""
    started: list[str] = []
    answers: list[object] = []

    def files(_parent, _caption, start="", *_rest, **_kw):
        started.append(start)
        return answers.pop(0), ""

    def folder(_parent, _caption, start="", *_rest, **_kw):
        started.append(start)
        return answers.pop(0)

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(files))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(files))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(folder))
    return started, answers


def test_first_folder_is_pictures_else_home(home: Path) -> None:
    assert first_folder("photos") == home / "Pictures"
    assert first_folder("files") == home
    (home / "Pictures").rmdir()
    assert first_folder("photos") == home


def test_open_images_starts_in_pictures_then_where_it_was_left(
    qtbot, make_window, store, home: Path, opened_in, tmp_path: Path
) -> None:
    started, answers = opened_in
    window = make_window(store)
    photo = save_photo(tmp_path / "holiday" / "beach.png")
    answers.append([str(photo)])
    with qtbot.waitSignal(window.upscale.work.added, timeout=WAIT_MS):
        window.upscale.open_button.click()
    assert started == [str(home / "Pictures")] and Path(started[0]) != Path.cwd()
    answers.append([])
    window.upscale.open_button.click()
    assert started[-1] == str(photo.parent)
    # Remembered in the settings: a new window (the app started again) opens there too.
    again = make_window(store)
    answers.append([])
    again.upscale.open_button.click()
    assert started[-1] == str(photo.parent)
    # Each dialog has its own folder: the model file dialog starts at home.
    answers.append("")
    again.add_model_file()
    assert started[-1] == str(home)


def test_retrain_folder_picker_never_starts_in_the_working_folder(
    qtbot, window, home: Path, opened_in, tmp_path: Path
) -> None:
    started, answers = opened_in
    form = window.retrain.form
    photos = tmp_path / "my photos"
    photos.mkdir()
    answers.append(str(photos))
    with qtbot.waitSignal(form.photosCounted, timeout=WAIT_MS):
        form.add_folder.click()
    assert started == [str(home / "Pictures")]
    assert form.folder_paths() == [photos]
    answers.append("")
    form.add_folder.click()
    assert started[-1] == str(photos)


def test_open_folder_starts_where_photos_were_last_opened(
    qtbot, make_window, store, home: Path, opened_in, tmp_path: Path
) -> None:
    """A new user's Open folder started at home after Open images had been used elsewhere."""
    started, answers = opened_in
    window = make_window(store)
    photo = save_photo(tmp_path / "holiday" / "beach.png")
    answers.append([str(photo)])
    with qtbot.waitSignal(window.upscale.work.added, timeout=WAIT_MS):
        window.upscale.open_button.click()
    answers.append("")
    window._open_folder()  # File ▸ Open folder, not used before
    assert started[-1] == str(photo.parent)
    # Its own folder, once it has one, is where it opens; also after a restart.
    album = tmp_path / "album"
    album.mkdir()
    answers.append(str(album))
    window._open_folder()
    answers.append("")
    make_window(store)._open_folder()
    assert started[-1] == str(album)
    # Files that are not photos keep their own start (home).
    answers.append("")
    window.add_model_file()
    assert started[-1] == str(home)
