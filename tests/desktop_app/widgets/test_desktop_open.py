"""Opening a folder or file with the desktop's program: where none opens it, the words to
show name the path, so the click is never answered by nothing; and that path, wherever it is
shown, can be selected and copied."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel

from desktop_app.widgets.desktop_open import open_on_desktop, selectable
from tests.desktop_app.helpers import WAIT_MS

UNOPENED = "No file manager opens it. It is at:\n{path}"


class Desktop:
    """openUrl's stand-in: what it was asked to open, and whether a program answers."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.opens = True

    def open_url(self, url) -> bool:
        self.asked.append(url.toLocalFile())
        return self.opens


@pytest.fixture
def desktop(monkeypatch) -> Desktop:
    fake = Desktop()
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(fake.open_url))
    return fake


def test_opened_says_nothing(desktop: Desktop, tmp_path: Path) -> None:
    folder = tmp_path / "results {1}"
    folder.mkdir()
    assert open_on_desktop(folder, UNOPENED) == ""
    assert desktop.asked == [str(folder)]  # the folder itself, as a local file, not a web address


def test_not_opened_gives_the_words_with_the_path(desktop: Desktop, tmp_path: Path) -> None:
    desktop.opens = False
    folder = tmp_path / "results {1}"  # braces in the name stay as they are
    assert open_on_desktop(folder, UNOPENED) == f"No file manager opens it. It is at:\n{folder}"
    assert desktop.asked == [str(folder)]
    # Words that point elsewhere for the path (a label above) are shown as they are.
    assert open_on_desktop(folder, "Copy its path from above.") == "Copy its path from above."


def is_selectable(label: QLabel) -> bool:
    flags = label.textInteractionFlags()
    mouse = bool(flags & Qt.TextInteractionFlag.TextSelectableByMouse)
    return mouse and bool(flags & Qt.TextInteractionFlag.TextSelectableByKeyboard)


def test_selectable_lets_mouse_and_keyboard_select(qtbot) -> None:
    label = QLabel("No file manager opens it. It is at:\n/home/me/results")
    qtbot.addWidget(label)
    assert not is_selectable(label)  # a QLabel's own default: nothing to select
    assert selectable(label) is label and is_selectable(label)


def test_every_label_with_a_path_to_copy_is_selectable(window) -> None:
    """Where each page puts the words (or the path they point to) when no file manager opens
    the folder: batch's note, the Upscale page's message line, the phone bundle's path."""
    phone = window.phone
    labels = {
        "batch": window.batch.output_note,
        "upscale": window.upscale.message,
        "phone wizard": phone.wizard.export.where,
        "phone advanced": phone.export_page.where,
    }
    assert [name for name, label in labels.items() if not is_selectable(label)] == []


def test_upscale_shows_all_of_the_folder_path_to_select(
    qtbot, window, photo: Path, tmp_path: Path, desktop: Desktop
) -> None:
    desktop.opens = False
    page = window.upscale
    folder = tmp_path / ("a-long-folder-name-" * 8) / "results"
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
    window.options.update(output_dir=str(folder))
    with qtbot.waitSignal(page.saver.saved, timeout=WAIT_MS):
        page.save_button.click()
    qtbot.waitUntil(page.open_folder_button.isEnabled, timeout=WAIT_MS)
    page.open_folder_button.click()
    qtbot.waitUntil(lambda: page.message.isVisibleTo(page), timeout=WAIT_MS)
    assert desktop.asked == [str(folder)]
    assert page.message.text().endswith(str(folder)) and is_selectable(page.message)
    # Drawn whole on as many lines as it needs: a line cut short with "…" hides the path's
    # end and draws no selection.
    assert page.message.wordWrap()
    page.message.setFocus()
    page.message.setSelection(0, len(page.message.text()))
    assert page.message.selectedText() == page.message.text()
