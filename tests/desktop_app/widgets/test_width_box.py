"""The greyed width box tells the width the chosen scale gives the photo on show."""

from __future__ import annotations

from pathlib import Path

from tests.desktop_app.helpers import WAIT_MS, save_photo


def test_width_box_follows_the_photo_and_the_scale(qtbot, window, tmp_path: Path) -> None:
    window.options.update(auto_start=False, size_mode="scale", scale=4)
    page = window.upscale
    box = page.settings.width
    assert not box.isEnabled() and box.text() == "each photo ×4"
    wide = save_photo(tmp_path / "wide.png", box=(48, 64))
    tall = save_photo(tmp_path / "tall.png", "coffee", box=(90, 30))
    window.open_paths([wide, tall])
    qtbot.waitUntil(lambda: box.text() == "256 px", timeout=WAIT_MS)  # 64 px wide ×4
    assert not box.isEnabled()
    page.queue.select(tall)
    qtbot.waitUntil(lambda: box.text() == "120 px", timeout=WAIT_MS)  # 30 px wide ×4
    page.settings.size.setCurrentIndex(page.settings.size.findData(2))
    page.settings.size.activated.emit(page.settings.size.currentIndex())
    assert box.text() == "60 px"
    assert window.options.value.width == 2048  # showing a width never changes the setting
    # By width: the box is the setting, editable.
    page.settings.size.setCurrentIndex(page.settings.size.findData(0))
    page.settings.size.activated.emit(page.settings.size.currentIndex())
    assert box.isEnabled() and box.value() == 2048
    box.setValue(1000)
    assert window.options.value.width == 1000
    # The Batch page has no photo on show: its box says the width depends on each photo.
    window.options.update(size_mode="scale", scale=3)
    assert window.batch.settings.width.text() == "each photo ×3"
