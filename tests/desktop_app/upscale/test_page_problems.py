"""What goes wrong is said on the page and never locks a photo for good: an upscale that
failed on its settings runs again once they are fixed, a failed save stays on show (the
photo's row, the line under the images, the page's message line) until the next save, and
Paste with no picture in the clipboard says so on the page."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication

from tests.desktop_app.helpers import WAIT_MS, save_photo


def _failed_on_a_too_large_width(qtbot, window, photo: Path):
    """The 64 px wide photo asked to become 4096 px wide: 64x, more than the 16x allowed."""
    page = window.upscale
    window.options.update(size_mode="width", width=4096)
    window.open_paths([photo])
    qtbot.waitUntil(
        lambda: photo in page.work.items and page.work.items[photo].state == "failed",
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: page.work.job is None, timeout=WAIT_MS)
    return page, page.work.items[photo]


def test_a_photo_failed_on_its_size_upscales_once_the_size_is_fixed(
    qtbot, window, photo: Path
) -> None:
    page, item = _failed_on_a_too_large_width(qtbot, window, photo)
    assert "smaller size" in item.message and not item.unreadable
    assert "failed:" in page.queue.item(0).text()
    assert page.upscale_button.isEnabled()  # not locked
    assert "press Upscale again" in page.compare.info.text()
    window.options.update(width=256)
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS) as result:
        page.upscale_button.click()
    assert result.args[0].details["output_size"] == [256, 192]
    qtbot.waitUntil(lambda: item.state == "done", timeout=WAIT_MS)
    assert "failed" not in page.queue.item(0).text()
    assert "Upscale again" not in page.compare.info.text()


def test_upscale_all_runs_a_failed_photo_again_but_not_an_unreadable_file(
    qtbot, window, photo: Path, tmp_path: Path
) -> None:
    page, item = _failed_on_a_too_large_width(qtbot, window, photo)
    fake = tmp_path / "holiday.png"
    fake.write_text("this is not a picture")
    window.options.update(width=128)
    window.open_paths([fake])
    qtbot.waitUntil(
        lambda: fake in page.work.items and page.work.items[fake].unreadable, timeout=WAIT_MS
    )
    qtbot.waitUntil(lambda: page.work.job is None, timeout=WAIT_MS)
    page.queue.select(fake)
    assert not page.upscale_button.isEnabled()  # the file itself cannot be read
    started: list[Path] = []
    page.work.started.connect(lambda queued: started.append(queued.source))
    page.upscale_all_button.click()
    qtbot.waitUntil(lambda: item.state == "done", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.work.job is None, timeout=WAIT_MS)
    assert started == [photo]
    assert item.result is not None and item.result.details["output_size"] == [128, 96]
    assert page.work.items[fake].state == "failed"


def test_a_failed_save_stays_on_show_until_the_next_save(
    qtbot, window, photo: Path, tmp_path: Path
) -> None:
    page = window.upscale
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
    qtbot.waitUntil(lambda: page.work.items[photo].state == "done", timeout=WAIT_MS)
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")  # the output "folder" is a file
    window.options.update(output_dir=str(blocker))
    with qtbot.waitSignal(page.saver.problem, timeout=WAIT_MS, check_params_cb=bool):
        page.save_button.click()
    line = page.message.text()
    assert page.message.isVisibleTo(page) and "\n" not in line
    assert "astronaut_bicubic_x4.png" in line and f"{blocker} is a file" in line
    row = page.queue.item(0)
    assert "not saved" in row.text() and f"{blocker} is a file" in row.toolTip()
    # Said once: the message line has it, the line under the images does not repeat it.
    assert f"{blocker} is a file" not in page.compare.info.text()
    # Other work does not hide it: another photo added and upscaled meanwhile.
    other = save_photo(tmp_path / "photos" / "coffee.png", "coffee")
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        window.open_paths([other])
    assert page.message.isVisibleTo(page) and f"{blocker} is a file" in page.message.text()
    # The next save clears it; this one works.
    page.queue.select(photo)
    window.options.update(output_dir=str(tmp_path / "good"))
    with qtbot.waitSignal(page.saver.saved, timeout=WAIT_MS):
        page.save_button.click()
    qtbot.waitUntil(lambda: not page.message.isVisibleTo(page), timeout=WAIT_MS)
    assert "not saved" not in page.queue.item(0).text() and "done" in page.queue.item(0).text()
    assert "is a file" not in page.compare.info.text()
    assert (tmp_path / "good" / "astronaut_bicubic_x4.png").exists()


def test_pasting_no_picture_says_so_on_the_page(qtbot, window, photo: Path) -> None:
    page = window.upscale
    QGuiApplication.clipboard().setText("only words, no picture")
    window.paste()
    assert page.message.isVisibleTo(page)
    assert "clipboard holds no picture" in page.message.text()
    window.open_paths([photo])  # an image added: the note has done its job
    qtbot.waitUntil(lambda: not page.message.isVisibleTo(page), timeout=WAIT_MS)


def test_show_folder_without_a_file_manager_gives_the_path(
    qtbot, window, photo: Path, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    page = window.upscale
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
    window.options.update(output_dir=str(tmp_path / "good"))
    with qtbot.waitSignal(page.saver.saved, timeout=WAIT_MS):
        page.save_button.click()
    qtbot.waitUntil(page.open_folder_button.isEnabled, timeout=WAIT_MS)
    page.open_folder_button.click()
    assert page.message.isVisibleTo(page)
    assert str(tmp_path / "good") in page.message.text() and "file manager" in page.message.text()
