"""A photo just added (Open, Ctrl+O, Paste, drop) is the only one selected, so Upscale runs it
alone and not every photo selected before as well."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from tests.desktop_app.helpers import WAIT_MS, save_photo


@pytest.fixture
def page(qtbot, window, tmp_path: Path):
    """The Upscale page with auto-start off and one photo in the queue, selected."""
    window.options.update(auto_start=False)
    page = window.upscale
    first = save_photo(tmp_path / "first.png")
    window.open_paths([first])
    qtbot.waitUntil(lambda: page.queue.selected_paths() == [first], timeout=WAIT_MS)
    return page


def _choose_in_dialog(monkeypatch, files: list[Path]) -> None:
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        staticmethod(lambda *_a, **_k: ([str(f) for f in files], "")),
    )


def test_opened_photo_becomes_the_only_selection(qtbot, page, tmp_path: Path, monkeypatch) -> None:
    second = save_photo(tmp_path / "second.png", "coffee")
    _choose_in_dialog(monkeypatch, [second])
    page.open_button.click()
    qtbot.waitUntil(lambda: page.queue.count() == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.queue.selected_paths() == [second], timeout=WAIT_MS)
    assert page.queue.current_path() == second
    enqueued: list[list[Path]] = []
    page.work.enqueue = enqueued.append  # what Upscale would run
    page.upscale_button.click()
    assert enqueued == [[second]]


def test_ctrl_o_photo_becomes_the_only_selection(
    qtbot, window, page, tmp_path: Path, monkeypatch
) -> None:
    # The shortcut is handled while Ctrl is held: that modifier must not mean "add to the
    # selection" for the row selected by the program.
    second = save_photo(tmp_path / "second.png", "coffee")
    _choose_in_dialog(monkeypatch, [second])
    window.activateWindow()
    qtbot.keyClick(page.queue, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.queue.count() == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.queue.selected_paths() == [second], timeout=WAIT_MS)


def test_pasted_photo_becomes_the_only_selection(qtbot, window, page) -> None:
    image = QImage(32, 24, QImage.Format.Format_RGB888)
    image.fill(0x3366AA)
    QGuiApplication.clipboard().setImage(image)
    window.paste()
    qtbot.waitUntil(lambda: page.queue.count() == 2, timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: [p.name[:7] for p in page.queue.selected_paths()] == ["pasted-"], timeout=WAIT_MS
    )


def test_opening_a_queued_photo_again_selects_only_it(qtbot, window, page, tmp_path) -> None:
    second = save_photo(tmp_path / "second.png", "coffee")
    window.open_paths([second])
    qtbot.waitUntil(lambda: page.queue.selected_paths() == [second], timeout=WAIT_MS)
    first = tmp_path / "first.png"
    window.open_paths([first])
    qtbot.waitUntil(lambda: page.queue.selected_paths() == [first], timeout=WAIT_MS)
    assert page.queue.count() == 2


def test_rows_fit_the_list_of_a_1024_by_700_window(qtbot, window, tmp_path: Path) -> None:
    """The second line of a row is short enough to be read whole; its tooltip has the rest."""
    window.resize(1024, 700)
    page = window.upscale
    fake = tmp_path / "holiday.png"
    fake.write_text("this is not a picture")
    big = save_photo(tmp_path / "big.png", box=(300, 400))
    window.open_paths([fake, big])
    qtbot.waitUntil(
        lambda: fake in page.work.items and page.work.items[fake].state == "failed",
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(
        lambda: big in page.work.items and page.work.items[big].state == "done", timeout=WAIT_MS
    )
    metrics = page.queue.fontMetrics()
    for row in range(page.queue.count()):
        item = page.queue.item(row)
        room = page.queue.visualItemRect(item).width() - page.queue.iconSize().width() - 12
        second = item.text().split("\n")[1]
        assert metrics.horizontalAdvance(second) <= room, (second, room)
    failed = page.queue.item(0)
    assert failed.text().split("\n")[1].startswith("failed: not an image")
    assert "supported format" in failed.toolTip()  # the whole reason
