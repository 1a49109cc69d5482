"""Retrain page: a data or cache folder that cannot be written (a file where the folder
should be, a name too long, a read-only file system) ends the start in one plain line in
the progress strip, the page stays usable, and nothing is left half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.desktop_app.helpers import WAIT_MS, fill_retrain_form

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RAW = ("Traceback", "Errno", "Error(", "NotADirectoryError", "FileExistsError", "unexpected")


def fill_form(qtbot, window, tmp_path: Path, *, name: str = "gui-storage"):
    page = fill_retrain_form(qtbot, window, tmp_path, name=name, steps=8)
    assert page.form.start_button.isEnabled()
    return page


def a_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a file, not a folder")
    return path


def started(qtbot, page) -> str:
    """Start, wait until the page is idle again; the strip's line."""
    page.form.start_button.click()
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    return page.progress.text.text()


def assert_plain(text: str, folder: Path, dialogs: list[str]) -> None:
    assert str(folder) in text, text
    assert "\n" not in text and not any(raw in text for raw in RAW), text
    assert "--" not in text and dialogs == []


def assert_usable(qtbot, page) -> None:
    """The form is enabled again: a new name, new folders, Start once the fault is fixed."""
    assert not page.form.running
    for widget in (page.form.name, page.form.add_folder, page.form.config_file):
        assert widget.isEnabled()


def test_a_file_in_place_of_the_data_folder(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialogs: list[str]
) -> None:
    page = fill_form(qtbot, window, tmp_path)
    data = a_file(tmp_path / "blocked-data")
    monkeypatch.setenv("MFAGAN_DATA_DIR", str(data))
    text = started(qtbot, page)
    assert text.startswith("Cannot start") and "it is a file, not a folder" in text
    assert_plain(text, data, dialogs)
    assert_usable(qtbot, page)
    # Renaming the run refreshes the form: the fault is said there too, not raised.
    page.form.name.setText("gui-storage-2")
    page.form.name_edited()
    assert str(data) in page.form.name_hint.text()
    assert not page.form.start_button.isEnabled()
    assert data.read_text() == "a file, not a folder"
    # The file moved away, the same page trains.
    monkeypatch.setenv("MFAGAN_DATA_DIR", str(tmp_path / "data-now"))
    page.form.name_edited()
    assert page.form.start_button.isEnabled()
    with qtbot.waitSignal(page.runEnded, timeout=WAIT_MS) as ended:
        page.form.start_button.click()
    assert ended.args == ["finished"]


@pytest.mark.parametrize("where", ["distill", "models"])  # the runs, the registered models
def test_a_file_in_place_of_the_runs_or_models_folder(
    qtbot, window, tmp_path: Path, dialogs: list[str], where: str
) -> None:
    page = fill_form(qtbot, window, tmp_path)
    runs = a_file(Path(os.environ["MFAGAN_DATA_DIR"]) / where)
    text = started(qtbot, page)
    assert text.startswith("Cannot start") and f"{runs} is a file" in text
    assert_plain(text, runs, dialogs)
    assert_usable(qtbot, page)
    assert runs.read_text() == "a file, not a folder"


def test_a_data_folder_name_too_long(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialogs: list[str]
) -> None:
    page = fill_form(qtbot, window, tmp_path)
    data = tmp_path / ("d" * 300)
    monkeypatch.setenv("MFAGAN_DATA_DIR", str(data))
    text = started(qtbot, page)
    assert_plain(text, data, dialogs)
    assert "too long" in text
    assert_usable(qtbot, page)
    assert not os.path.lexists(data)


def test_a_read_only_data_folder(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialogs: list[str]
) -> None:
    import engine.files

    page = fill_form(qtbot, window, tmp_path)
    data = Path(os.environ["MFAGAN_DATA_DIR"])
    monkeypatch.setattr(engine.files, "_read_only", lambda folder: Path(folder) == data)
    text = started(qtbot, page)
    assert_plain(text, data, dialogs)
    assert text.startswith("Cannot start") and "read-only" in text
    assert_usable(qtbot, page)
    assert not (data / "distill" / "gui-storage").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_a_read_only_data_folder_by_permissions(
    qtbot, window, tmp_path: Path, dialogs: list[str]
) -> None:
    page = fill_form(qtbot, window, tmp_path)
    data = Path(os.environ["MFAGAN_DATA_DIR"])
    data.chmod(0o555)
    try:
        text = started(qtbot, page)
    finally:
        data.chmod(0o755)
    assert_plain(text, data, dialogs)
    assert "permission denied" in text


def test_a_file_in_place_of_the_cache(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialogs: list[str]
) -> None:
    page = fill_form(qtbot, window, tmp_path)
    cache = a_file(tmp_path / "blocked-cache")
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(cache))
    text = started(qtbot, page)
    assert_plain(text, cache, dialogs)
    assert "it is a file, not a folder" in text
    assert_usable(qtbot, page)
    assert not (Path(os.environ["MFAGAN_DATA_DIR"]) / "models" / "gui-storage.json").exists()


def test_a_file_in_place_of_the_teacher_cache(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialogs: list[str]
) -> None:
    page = fill_form(qtbot, window, tmp_path)
    cache = tmp_path / "own-cache"
    blocked = a_file(cache / "distill")
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(cache))
    text = started(qtbot, page)
    # The engine's own run data folder under the cache: met mid-job, still one line.
    assert text.startswith("Stopped by an error") and f"{blocked} is a file" in text
    assert_plain(text, blocked, dialogs)
    assert_usable(qtbot, page)


def test_measuring_with_a_file_in_place_of_the_cache(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dialogs: list[str]
) -> None:
    page = fill_form(qtbot, window, tmp_path)
    cache = a_file(tmp_path / "blocked-cache")
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(cache))
    page.form.measure_button.click()
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    text = page.progress.text.text()
    assert_plain(text, cache, dialogs)
    assert_usable(qtbot, page)
