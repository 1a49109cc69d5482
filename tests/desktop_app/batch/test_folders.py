"""Batch page, its folders: "Show output folder" where no file manager opens it says so, with
the folder's full path to copy; a "Cannot start" line follows the fields as they change."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices

from tests.desktop_app.helpers import save_photo


def test_no_file_manager_shows_the_output_folder_path(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    page = window.batch
    window.show_page("batch")
    output = tmp_path / "results"
    output.mkdir()
    page.output_dir.setText(str(output))
    page.output_dir.editingFinished.emit()
    assert not page.output_note.isVisible()
    page.show_output.click()
    qtbot.waitUntil(page.output_note.isVisible)
    note = page.output_note.text()
    assert "No file manager" in note and note.endswith(str(output))
    flags = page.output_note.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
    assert flags & Qt.TextInteractionFlag.TextSelectableByKeyboard
    page.output_dir.setText(str(tmp_path))  # another folder: the old path is not left up
    qtbot.waitUntil(lambda: not page.output_note.isVisible())


def test_cannot_start_follows_the_fields(qtbot, window, tmp_path: Path) -> None:
    page = window.batch
    window.show_page("batch")
    page.input_dir.setText("")
    page.output_dir.setText("")
    page.start_button.click()
    line = page.overall.text
    assert line.text().startswith("Cannot start: choose an input folder")
    source = save_photo(tmp_path / "in" / "a.png").parent
    page.input_dir.setText(str(source))
    # Half filled in: still refused, for the reason that is left.
    assert line.text().startswith("Cannot start: choose an input folder and an output")
    page.output_dir.setText(str(tmp_path / "missing" / "deep"))
    qtbot.waitUntil(lambda: not line.text().startswith("Cannot start"))
    assert line.text() == "Ready: press Start batch."
    page.input_dir.setText(str(tmp_path / "no-such-folder"))  # a new problem is said at once
    qtbot.waitUntil(lambda: "not a folder" in line.text())
    assert line.text().startswith("Cannot start")
    assert page.job is None  # changing fields never starts a batch


def test_the_status_bar_follows_the_fields_after_a_refused_start(qtbot, window, tmp_path) -> None:
    """It said "choose an input folder and an output folder first" beside the page's
    "Ready: press Start batch." once both were chosen."""
    page = window.batch
    window.show_page("batch")
    page.input_dir.setText("")
    page.output_dir.setText("")
    page.start_button.click()
    status = window.status_line
    assert status.text() == "choose an input folder and an output folder first"
    page.input_dir.setText(str(save_photo(tmp_path / "in" / "a.png").parent))
    assert status.text().startswith("choose an input folder")  # still true: no output yet
    said: list[str] = []
    page.status.connect(said.append)
    output = str(tmp_path / "out")
    for typed in range(1, len(output) + 1):  # one line for the change of state, not a key
        page.output_dir.setText(output[:typed])
    qtbot.waitUntil(lambda: status.text() == "Ready: press Start batch.")
    assert page.overall.text.text() == "Ready: press Start batch."
    assert said == ["Ready: press Start batch."]
    page.input_dir.setText(str(tmp_path / "no-such-folder"))
    qtbot.waitUntil(lambda: "not a folder" in status.text())
    assert "choose an input folder" not in status.text()
