"""What a new user met on the Upscale page in a real window: images opened from another tab
were upscaled out of sight, Paste with nothing to paste spoke twice, a damaged file showed the
empty "Drop images here" area, a result of the previous model looked like the chosen one's,
"Before:" was greyed with no reason, and the time left counted only the photo at work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog

from desktop_app import jobs
from desktop_app.widgets.compare_panel import NOTHING_TO_COMPARE_TIP
from desktop_app.widgets.compare_view import DROP_HINT
from engine.events import CancelToken, Progress
from tests.desktop_app.helpers import WAIT_MS, save_photo


def _action(window, text: str) -> QAction:
    (action,) = [a for a in window.findChildren(QAction) if a.text() == text]
    return action


def test_open_images_from_the_batch_tab_shows_the_upscale_page(
    qtbot, window, photo: Path, monkeypatch
) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *_a, **_k: ([str(photo)], ""))
    )
    window.show_page("batch")
    page = window.upscale
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        _action(window, "&Open images…").trigger()
    assert window.tabs.currentWidget() is page
    # Save, too, answers on the Upscale page: it is shown for it.
    window.show_page("batch")
    _action(window, "&Save result").trigger()
    assert window.tabs.currentWidget() is page


def test_paste_with_nothing_to_paste_says_it_once(qtbot, window) -> None:
    QGuiApplication.clipboard().setText("only words, no picture")
    window.show_page("batch")
    window.paste()
    page = window.upscale
    assert window.tabs.currentWidget() is page
    assert page.message.isVisibleTo(page) and "clipboard" in page.message.text()
    assert window.status_line.text() == ""  # not a second time, in other words


def test_a_damaged_file_shows_why_in_place_of_the_picture(qtbot, window, tmp_path: Path) -> None:
    whole = save_photo(tmp_path / "good.jpg", box=(200, 200)).read_bytes()
    damaged = tmp_path / "holiday.jpg"
    damaged.write_bytes(whole[: len(whole) // 2])
    page = window.upscale
    window.open_paths([damaged])
    qtbot.waitUntil(
        lambda: damaged in page.work.items and page.work.items[damaged].unreadable,
        timeout=WAIT_MS,
    )
    item = page.work.items[damaged]
    reason = item.message
    assert len(reason) > 30  # longer than the row shows
    row = page.queue.item(0)
    assert "…" in row.text() and reason in row.toolTip()
    page.queue.select(damaged)
    view = page.compare.view
    qtbot.waitUntil(lambda: view.placeholder != DROP_HINT, timeout=WAIT_MS)
    assert "holiday.jpg" in view.placeholder and reason.rstrip(".") in view.placeholder
    # One message line: the reason is in the picture area, not again under it.
    assert not page.compare.info.isVisibleTo(page)
    assert not page.message.isVisibleTo(page)
    # A readable photo brings the picture (and the drop hint for an empty view) back.
    photo = save_photo(tmp_path / "photos" / "astronaut.png")
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
    qtbot.waitUntil(lambda: view.placeholder == DROP_HINT, timeout=WAIT_MS)
    assert page.compare.info.isVisibleTo(page)


def test_the_result_on_show_says_which_model_made_it(qtbot, window, photo: Path) -> None:
    page = window.upscale
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
    qtbot.waitUntil(lambda: "bicubic" in page.compare.info.text(), timeout=WAIT_MS)
    assert "made with" not in page.compare.info.text()
    other = next(e for e in window.options.models if e.label.startswith("Best quality"))
    window.options.update(model=other.spec)
    info = page.compare.info.text()
    assert "This result was made with Plain enlarge (bicubic, no AI)" in info
    assert "Upscale to make one with Best quality" in info
    # Save saves the result on show and names it.
    said: list[str] = []
    page.status.connect(said.append)
    window.options.update(output_dir=str(photo.parent / "out"))
    with qtbot.waitSignal(page.saver.saved, timeout=WAIT_MS):
        page.save_button.click()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    page.save_button.click()
    assert "Plain enlarge (bicubic, no AI) x4 is already saved" in said[-1]
    window.options.update(model="bicubic")  # back to the model of the result: no note
    assert "made with" not in page.compare.info.text()


def test_before_is_greyed_with_a_reason_until_there_is_something_to_compare(
    qtbot, make_window, store, photo: Path
) -> None:
    window = make_window(store)
    compare = window.upscale.compare
    assert not compare.left_choice.isEnabled()
    assert compare.left_choice.toolTip() == NOTHING_TO_COMPARE_TIP
    with qtbot.waitSignal(window.upscale.work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
    window.options.update(scale=2)
    with qtbot.waitSignal(window.upscale.work.resultReady, timeout=WAIT_MS):
        window.upscale.upscale_button.click()
    qtbot.waitUntil(compare.left_choice.isEnabled, timeout=WAIT_MS)
    assert compare.left_choice.toolTip() != NOTHING_TO_COMPARE_TIP
    window.close()
    # A second start, no photo loaded: greyed again.
    again = make_window(store)
    assert not again.upscale.compare.left_choice.isEnabled()


def test_view_menu_ticks_the_compare_mode(qtbot, make_window, store) -> None:
    window = make_window(store)
    split, side = window.split_action, window.side_action
    assert split.isCheckable() and side.isCheckable()
    assert split.actionGroup() is side.actionGroup() and split.actionGroup().isExclusive()
    assert split.isChecked() and not side.isChecked()
    window.upscale.compare.side_button.click()  # the page's own button
    assert side.isChecked() and not split.isChecked()
    split.trigger()
    assert window.upscale.compare.view.mode == "split" and not side.isChecked()
    side.trigger()
    window.close()
    again = make_window(store)  # the mode remembered, and ticked
    assert again.upscale.compare.view.mode == "side" and again.side_action.isChecked()


def steady_upscale(request: Any, pool: Any, cancel: CancelToken) -> Iterator[Any]:
    """A model that takes seconds per photo at an even pace, until cancelled."""
    for tile in range(100_000):
        cancel.raise_if_cancelled()
        time.sleep(0.02)
        yield Progress(stage="upscale", done=tile, total=400)


def test_time_left_counts_the_whole_queue(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(jobs, "upscale_job", steady_upscale)
    photos = [save_photo(tmp_path / f"{name}.png", name) for name in ("astronaut", "coffee")]
    photos.append(save_photo(tmp_path / "chelsea.png", "chelsea"))
    page = window.upscale
    window.open_paths(photos)
    # Nothing measured before on this computer: the waiting photos are estimated from the
    # pace of the one at work, once it has one.
    qtbot.waitUntil(lambda: "for all 3" in page.progress.text.text(), timeout=WAIT_MS)
    assert "about" in page.progress.left.text()
    page.progress.cancel.click()
    qtbot.waitUntil(lambda: page.work.job is None, timeout=WAIT_MS)
