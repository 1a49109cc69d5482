"""Retrain page: the photo count follows the folders. It said "12 photos" after a 13th file
was copied in; it counts again when the page or the window is come back to, and a recount
of files unchanged since the last count decodes nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop_app.retrain import jobs as rj
from engine.events import CancelToken, Finished, Progress
from tests.desktop_app.helpers import WAIT_MS, save_photo

BOX = (300, 300)  # above the crop training needs


def two_photos(folder: Path) -> Path:
    for name in ("astronaut", "coffee"):
        save_photo(folder / f"{name}.png", name, box=BOX)
    return folder


def counted_on_the_page(qtbot, window, folder: Path):
    form = window.retrain.form
    window.show_page("retrain")
    with qtbot.waitSignal(form.photosCounted, timeout=WAIT_MS):
        form.set_folders([folder])
    assert form.photo_count.text() == "2 photos"
    return form


def test_coming_back_to_the_page_counts_a_new_photo(qtbot, window, tmp_path: Path) -> None:
    form = counted_on_the_page(qtbot, window, two_photos(tmp_path / "mine"))
    window.show_page("batch")
    save_photo(tmp_path / "mine" / "chelsea.png", "chelsea", box=BOX)
    window.show_page("retrain")
    qtbot.waitUntil(lambda: form.photo_count.text() == "3 photos", timeout=WAIT_MS)
    assert form.photos == 3


def test_coming_back_to_the_window_counts_a_new_photo(qtbot, window, tmp_path: Path) -> None:
    form = counted_on_the_page(qtbot, window, two_photos(tmp_path / "mine"))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    file_manager = QWidget()  # where the user copied the photo
    qtbot.addWidget(file_manager)
    file_manager.show()
    file_manager.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    (tmp_path / "mine" / "coffee.png").unlink()
    window.activateWindow()
    qtbot.waitUntil(lambda: form.photo_count.text().startswith("1 photo "), timeout=WAIT_MS)
    assert form.photos == 1


def events(job) -> list[object]:
    return list(job)


def test_a_recount_of_unchanged_files_decodes_nothing(tmp_path: Path) -> None:
    folder = two_photos(tmp_path / "mine")
    first = events(rj.count_job([folder], 96, CancelToken()))
    counted = first[-1].result
    assert any(isinstance(event, Progress) for event in first) and counted.good == 2
    again = events(rj.count_job([folder], 96, CancelToken(), previous=counted))
    assert again == [Finished(result=counted)]  # no scan's progress: nothing decoded
    # Another crop size changes what counts: a real count again.
    bigger = events(rj.count_job([folder], 400, CancelToken(), previous=counted))
    assert bigger[-1].result.good == 0 and any(isinstance(e, Progress) for e in bigger)
    save_photo(folder / "sub" / "chelsea.png", "chelsea", box=BOX)  # subfolders count too
    added = events(rj.count_job([folder], 96, CancelToken(), previous=counted))
    assert added[-1].result.good == 3
