"""Opening a folder or file with the desktop's program: where none opens it, the words to
show name the path, so the click is never answered by nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices

from desktop_app.widgets.desktop_open import open_on_desktop

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
