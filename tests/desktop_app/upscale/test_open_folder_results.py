"""File ▸ Open folder queues the photos of a folder, not the app's earlier results beside
them (a new user's Open folder started upscaling every *_x4.png again); a result opened by
name is still queued."""

from __future__ import annotations

from PySide6.QtGui import QAction

from engine.imageio import read_image, write_image
from engine.imageio.marker import is_our_result
from tests.desktop_app.helpers import WAIT_MS, save_photo


def _open_folder_action(window) -> QAction:
    (action,) = [a for a in window.findChildren(QAction) if a.text() == "Open &folder…"]
    return action


def test_open_folder_leaves_earlier_results_out(qtbot, window, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "photos"
    photo = save_photo(folder / "astronaut.png")
    save_photo(folder / "coffee.jpg", "coffee")
    earlier = folder / "astronaut_bicubic_x4.png"
    write_image(earlier, read_image(photo))  # what saving a result wrote, by the real writer
    renamed = folder / "for the album.jpg"
    write_image(renamed, read_image(photo))
    assert is_our_result(earlier) and is_our_result(renamed)
    monkeypatch.setattr(window.folders, "folder", lambda *args, **kwargs: folder)
    page = window.upscale
    _open_folder_action(window).trigger()
    qtbot.waitUntil(
        lambda: (
            len(page.work.items) > 0 and all(i.state == "done" for i in page.work.items.values())
        ),
        timeout=WAIT_MS,
    )
    assert sorted(p.name for p in page.work.items) == ["astronaut.png", "coffee.jpg"]
    said = []
    page.work.status.connect(said.append)
    page.work.add_paths([folder])  # again, to hear what it says
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT_MS)
    assert said == ["2 earlier results of MFAGAN Studio left out (not upscaled again)"]
    # Chosen by name, a result is the user's decision: queued like any file.
    window.open_paths([earlier])
    qtbot.waitUntil(
        lambda: earlier in page.work.items and page.work.items[earlier].state == "done",
        timeout=WAIT_MS,
    )
    assert sorted(p.name for p in page.work.items) == [
        "astronaut.png",
        "astronaut_bicubic_x4.png",
        "coffee.jpg",
    ]
