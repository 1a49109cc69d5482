"""Help ▸ About names the version, each model's licence and where settings live; the Batch
page opens its output folder, and only one that exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QMessageBox

import engine
from desktop_app.crash_log import log_path
from tests.desktop_app.helpers import WAIT_MS, save_photo


def _shown_about(window, monkeypatch) -> QMessageBox:
    """Help ▸ About, with the dialog caught instead of run (exec would wait for a click)."""
    shown: list[QMessageBox] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box) or 0)
    help_menu = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu()
    next(a for a in help_menu.actions() if a.text() == "&About MFAGAN Studio").trigger()
    (box,) = shown
    return box


def test_about_names_version_licences_and_folders(window, monkeypatch) -> None:
    box = _shown_about(window, monkeypatch)
    assert box.windowTitle() == "About MFAGAN Studio"
    text = box.text()
    assert f"MFAGAN Studio {engine.__version__}" in text
    assert "BSD-3-Clause" in text and "Real-ESRGAN" in text  # the teacher's weights
    assert "Best quality (Real-ESRGAN)" in text and "Fast (MFAGAN)" in text
    assert str(window.store.path) in text  # where the settings live
    assert str(log_path()) in text  # where a crash leaves its trace


def test_about_text_can_be_selected_and_copied(qtbot, window, monkeypatch) -> None:
    box = _shown_about(window, monkeypatch)
    flags = Qt.TextInteractionFlag
    wanted = (
        flags.TextSelectableByMouse
        | flags.TextSelectableByKeyboard
        | flags.LinksAccessibleByMouse
        | flags.LinksAccessibleByKeyboard
    )
    label = box.findChild(QLabel, "qt_msgbox_label")  # the label QMessageBox shows its text in
    assert box.textInteractionFlags() & wanted == wanted
    assert label.textInteractionFlags() & wanted == wanted
    assert label.openExternalLinks()
    assert box.textFormat() == Qt.TextFormat.RichText
    label.setFocus()
    qtbot.keyClick(label, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # select all
    selected = label.selectedText()
    assert str(log_path()) in selected and engine.__version__ in selected
    assert box.standardButtons() == QMessageBox.StandardButton.Ok  # as QMessageBox.about


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(
        QDesktopServices,
        "openUrl",
        staticmethod(lambda url: urls.append(url.toLocalFile()) or True),  # a file manager
    )
    return urls


def test_batch_show_output_folder(qtbot, window, tmp_path: Path, opened) -> None:
    page = window.batch
    source, output = tmp_path / "in", tmp_path / "out"
    save_photo(source / "a.png")
    page.input_dir.setText(str(source))
    page.output_dir.setText(str(output))
    page.output_dir.editingFinished.emit()
    assert not page.show_output.isEnabled()  # not made yet: nothing to show
    with qtbot.waitSignal(page.batchEnded, timeout=WAIT_MS):
        page.start_button.click()
    assert page.show_output.isEnabled()
    page.show_output.click()
    assert opened == [str(output)]
    assert not page.output_note.isVisible()  # the file manager showed it


def test_about_names_the_phone_wizards_folder(window, monkeypatch) -> None:
    """The wizard keeps its searches and fine-tuning runs in a folder of its own, made at
    first start: About listed every other folder of the app, not that one."""
    from desktop_app.phone.state import wizard_dir

    folder = wizard_dir()
    assert folder.is_dir()
    text = _shown_about(window, monkeypatch).text()
    what = "Phone wizard (your choices, searches, fine-tuning runs, phone bundles)"
    assert f"{what}: <code>{folder}</code>" in text
