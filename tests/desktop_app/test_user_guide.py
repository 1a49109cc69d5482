"""Help ▸ User guide shows the guide for people using the app (docs/GUIDE.md), never the
developers' README; its pictures are in the text at the window's width; every link does
something visible; where the guide is missing, a message says so (issue 21.12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from desktop_app import user_guide


def _help_action(window, text: str):
    menu = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu()
    return next(a for a in menu.actions() if a.text() == text)


@pytest.fixture
def guide(qtbot, window):
    _help_action(window, "&User guide").trigger()
    shown = window.user_guide
    assert shown is not None
    qtbot.addWidget(shown)
    qtbot.waitUntil(shown.isVisible)
    return shown


@pytest.fixture
def no_programs(monkeypatch) -> list[str]:
    """A computer without a browser, file manager or image viewer: openUrl does nothing."""
    asked: list[str] = []
    monkeypatch.setattr(
        QDesktopServices,
        "openUrl",
        staticmethod(lambda url: asked.append(url.toString()) and False),
    )
    return asked


def test_the_guide_is_for_users_of_the_app(guide, window) -> None:
    text = guide.browser.toPlainText()
    for page in ("Upscale", "Batch", "Retrain on my photos", "Phone"):
        assert f"\n{page}" in text  # each page has its part
    for developer in ("make ", "--screenshot", "pip install", "Command line", "Set-up"):
        assert developer not in text
    assert not guide.back.isVisible()
    # Asked again, the open guide comes to the front instead of a second one.
    _help_action(window, "&User guide").trigger()
    assert window.user_guide is guide


def test_pictures_are_in_the_text_at_the_windows_width(qtbot, guide) -> None:
    browser = guide.browser
    assert "Picture" not in browser.toPlainText()  # no links or "missing" lines instead
    guide.resize(1600, 900)
    qtbot.waitUntil(lambda: browser.viewport().width() > 1000)
    wide = browser.picture_widths()
    assert len(wide) >= 4 and all(w > 0 for w in wide)
    guide.resize(500, 600)
    room = lambda: browser.viewport().width() - user_guide.PICTURE_MARGIN  # noqa: E731
    qtbot.waitUntil(lambda: browser.viewport().width() < 500)
    qtbot.waitUntil(lambda: all(w <= room() for w in browser.picture_widths()))
    assert browser.picture_widths() != wide  # scaled down, not cut


def test_every_link_of_the_guide_does_something_visible(
    guide, dialogs: list[str], no_programs: list[str]
) -> None:
    targets = user_guide.links(guide.browser.document())
    assert targets, "the guide links its own parts"
    for target in targets:
        guide.show_guide()
        guide.browser.verticalScrollBar().setValue(0)
        dialogs.clear()
        guide._open_link(QUrl(target))
        heading = guide.browser.textCursor().block()
        moved = heading.blockFormat().headingLevel() > 0 and target.endswith(
            user_guide._slug(heading.text())
        )
        assert moved or guide.back.isVisible() or dialogs, f"{target} does nothing"
        assert not no_programs, f"{target} relies on another program"


def test_a_link_nothing_here_opens_says_so_and_where(
    guide, dialogs: list[str], no_programs: list[str], tmp_path: Path
) -> None:
    guide._open_link(QUrl("#no-such-part"))
    guide._open_link(QUrl("https://example.org/page"))
    gone = tmp_path / "gone.md"
    guide._open_link(QUrl.fromLocalFile(str(gone)))
    other = tmp_path / "notes.txt"
    other.write_text("notes")
    guide._open_link(QUrl.fromLocalFile(str(other)))
    assert len(dialogs) == 4
    assert "no-such-part" in dialogs[0]
    assert "https://example.org/page" in dialogs[1]
    assert str(gone) in dialogs[2]
    assert str(other) in dialogs[3]


def test_a_picture_link_and_a_page_open_in_the_window(guide, tmp_path: Path) -> None:
    guide._open_link(QUrl("screenshots/batch.png"))
    assert guide.back.isVisible() and len(guide.browser.picture_widths()) == 1
    guide.back.click()
    page = tmp_path / "more.md"
    page.write_text("# More\n\nText.\n\n## The part\n\nHere.\n", encoding="utf-8")
    guide._open_link(QUrl.fromLocalFile(str(page)).resolved(QUrl("#the-part")))
    assert guide.browser.textCursor().block().text() == "The part"
    guide.back.click()
    assert "Batch" in guide.browser.toPlainText() and not guide.back.isVisible()


def test_a_missing_picture_is_a_line_not_a_broken_icon(qtbot, tmp_path: Path) -> None:
    text = "# Guide\n\n![The batch page](screenshots/none.png)\n"
    shown = user_guide.UserGuide(tmp_path / "GUIDE.md", text)
    qtbot.addWidget(shown)
    assert shown.browser.picture_widths() == []
    plain = shown.browser.toPlainText()
    assert "not part of this installation" in plain and str(tmp_path) in plain


def test_user_guide_says_so_when_the_guide_is_missing(
    window, dialogs: list[str], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(user_guide, "GUIDE", tmp_path / "GUIDE.md")
    _help_action(window, "&User guide").trigger()
    assert window.user_guide is None
    (text,) = dialogs
    assert "cannot be opened" in text and "not part of this installation" in text
