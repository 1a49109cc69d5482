"""Help ▸ User guide shows the README's part for people using the app, or says why it
cannot (issue 21.12)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl

from desktop_app import user_guide


def _help_action(window, text: str):
    menu = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu()
    return next(a for a in menu.actions() if a.text() == text)


def test_user_guide_shows_the_readme_for_users(qtbot, window) -> None:
    _help_action(window, "&User guide").trigger()
    guide = window.user_guide
    assert guide is not None
    qtbot.addWidget(guide)
    qtbot.waitUntil(guide.isVisible)
    text = guide.browser.toPlainText()
    assert "Using the app" in text and "Install without Python" in text
    assert "mfagan-studio/mfagan-studio" in text  # how to start the bundle stays
    assert "Exit codes" not in text  # the command line's part is left out
    assert "Picture: Upscale" in text  # pictures are links, not full-size images
    assert not guide.back.isVisible()
    # The README's own anchors lead to its headings...
    guide._open_link(QUrl("#using-the-app"))
    assert guide.browser.textCursor().block().text() == "Using the app"
    # ... and the pages it links to open in the guide, at the heading linked.
    guide._open_link(QUrl("docs/PHONES.md#the-phone-tab-step-by-step"))
    assert guide.browser.textCursor().block().text() == "The Phone tab, step by step"
    assert guide.back.isVisible()
    guide.back.click()
    assert "Using the app" in guide.browser.toPlainText() and not guide.back.isVisible()
    # Asked again, the open guide comes to the front instead of a second one.
    _help_action(window, "&User guide").trigger()
    assert window.user_guide is guide


def test_user_guide_says_so_when_the_readme_is_missing(
    window, dialogs: list[str], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(user_guide, "README", tmp_path / "README.md")
    _help_action(window, "&User guide").trigger()
    assert window.user_guide is None
    (text,) = dialogs
    assert "cannot be opened" in text and "not part of this installation" in text
