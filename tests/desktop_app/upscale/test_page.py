"""The Upscale page end to end: drop, paste, results, compare two results, save, cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage

from desktop_app import jobs
from desktop_app.staging import load_staged
from engine.events import CancelToken, Progress
from tests.desktop_app.helpers import WAIT_MS, assert_ready_after_stop, save_photo


def drop(window, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_dropped_image_is_upscaled_and_shown(qtbot, window, photo: Path) -> None:
    page = window.upscale
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS) as result:
        drop(window, [photo])
    outcome = result.args[0]
    assert outcome.source == photo
    view = page.compare.view
    assert (view.after.width(), view.after.height()) == (256, 192)
    qtbot.waitUntil(lambda: view.before is not None, timeout=WAIT_MS)
    assert (view.before.width(), view.before.height()) == (64, 48)
    assert view.labels == ("Original", "Plain enlarge (bicubic, no AI) x4")
    info = page.compare.info.text()
    assert "bicubic" in info and "64×48" in info and "256×192" in info
    # Plain words on the line (bicubic: no runtime worth naming); the runtime auto picked
    # on this computer and the tile size are named in its tooltip.
    assert "(auto)" not in info and "tile" not in info and "ran on" not in info
    assert "(auto)" in page.compare.info.toolTip() and "Tile size" in page.compare.info.toolTip()
    item = page.work.items[photo]
    assert item.state == "done" and "done" in item.status_text()
    assert page.queue.item(0).icon().isNull() is False
    # The full-quality result is staged, and nothing was written next to the photo.
    assert load_staged(outcome.staged).pixels.shape[1::-1] == (256, 192)
    assert sorted(p.name for p in photo.parent.iterdir()) == ["astronaut.png"]


def test_dropped_folder_queues_its_images(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    save_photo(folder / "a.png")
    save_photo(folder / "b.jpg", "coffee")
    (folder / "notes.txt").write_text("not an image")
    page = window.upscale
    drop(window, [folder])
    qtbot.waitUntil(
        lambda: (
            len(page.work.items) == 2 and all(i.state == "done" for i in page.work.items.values())
        ),
        timeout=WAIT_MS,
    )
    assert sorted(p.name for p in page.work.items) == ["a.png", "b.jpg"]


def test_pasted_image_is_upscaled(qtbot, window, tmp_path: Path) -> None:
    image = QImage(40, 30, QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.darkCyan)
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(window.upscale.work.resultReady, timeout=WAIT_MS) as result:
        window.paste()
    outcome = result.args[0]
    assert outcome.source.name.startswith("pasted-") and outcome.source.suffix == ".png"
    assert outcome.details["output_size"] == [160, 120]
    assert window.upscale.compare.view.after.pixelColor(80, 60).name() == "#008080"


def test_unreadable_file_is_marked_failed_with_the_reason(qtbot, window, tmp_path: Path) -> None:
    fake = tmp_path / "holiday.png"
    fake.write_text("this is not a picture")
    page = window.upscale
    drop(window, [fake])
    qtbot.waitUntil(
        lambda: fake in page.work.items and page.work.items[fake].state == "failed", timeout=WAIT_MS
    )
    item = page.work.items[fake]
    assert ("not" in item.message and "PNG" in item.message) or "image" in item.message
    assert "failed:" in page.queue.item(0).text()
    assert "Traceback" not in page.compare.info.text()


def test_save_writes_the_pattern_and_never_the_source(qtbot, window, photo: Path) -> None:
    page = window.upscale
    # A pattern that names the output exactly like the source, in the source's folder.
    window.options.update(name_pattern="{stem}", output_dir="", format="")
    original = photo.read_bytes()
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        drop(window, [photo])
    with qtbot.waitSignal(page.status, timeout=WAIT_MS, check_params_cb=lambda t: "saved" in t):
        page.save_button.click()
    saved = photo.with_name("astronaut-2.png")
    assert photo.read_bytes() == original
    assert Image.open(saved).size == (256, 192)
    # Saving the same result again does not pile up copies.
    with qtbot.waitSignal(page.status, timeout=WAIT_MS) as status:
        page.save_button.click()
    assert "already saved" in status.args[0]
    assert sorted(p.name for p in photo.parent.iterdir()) == ["astronaut-2.png", "astronaut.png"]


def test_save_uses_the_output_settings(qtbot, window, photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    window.options.update(output_dir=str(out), format="JPEG", quality=80)
    with qtbot.waitSignal(window.upscale.work.resultReady, timeout=WAIT_MS):
        drop(window, [photo])
    with qtbot.waitSignal(
        window.upscale.status, timeout=WAIT_MS, check_params_cb=lambda t: "saved" in t
    ):
        window.upscale.save_current()
    saved = out / "astronaut_bicubic_x4.jpg"
    with Image.open(saved) as image:
        assert image.format == "JPEG" and image.size == (256, 192)
    assert window.upscale.unsaved_count() == 0


def test_two_results_of_one_photo_can_be_compared(qtbot, window, photo: Path) -> None:
    page = window.upscale
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        drop(window, [photo])
    window.options.update(scale=2)
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        page.upscale_button.click()
    item = page.work.items[photo]
    assert sorted(item.results) == [
        "Plain enlarge (bicubic, no AI) x2",
        "Plain enlarge (bicubic, no AI) x4",
    ]
    choices = [
        page.compare.left_choice.itemText(i) for i in range(page.compare.left_choice.count())
    ]
    assert choices == ["Original", "Plain enlarge (bicubic, no AI) x4"]
    page.compare.left_choice.setCurrentText("Plain enlarge (bicubic, no AI) x4")
    view = page.compare.view
    assert view.labels == ("Plain enlarge (bicubic, no AI) x4", "Plain enlarge (bicubic, no AI) x2")
    assert view.before.width() == 256 and view.after.width() == 128


def slow_upscale(request: Any, pool: Any, cancel: CancelToken) -> Iterator[Any]:
    """Stands in for a model that takes minutes; checks its token like the engine does."""
    for tile in range(100_000):
        cancel.raise_if_cancelled()
        time.sleep(0.005)
        yield Progress(stage="upscale", done=tile, total=100_000)


def test_cancel_stops_the_image_and_the_rest_of_the_queue(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(jobs, "upscale_job", slow_upscale)
    first = save_photo(tmp_path / "a.png")
    second = save_photo(tmp_path / "b.png", "coffee")
    page = window.upscale
    drop(window, [first, second])
    qtbot.waitUntil(
        lambda: page.work.job is not None and page.progress.bar.value() > 2, timeout=WAIT_MS
    )
    assert page.progress.cancel.isEnabled()
    began = time.monotonic()
    page.progress.cancel.click()
    qtbot.waitUntil(lambda: page.work.job is None, timeout=WAIT_MS)
    assert time.monotonic() - began < 1.0
    assert {item.state for item in page.work.items.values()} == {"cancelled"}
    assert "Stopped" in page.progress.text.text()
    assert_ready_after_stop(page.progress)
    assert not page.save_button.isEnabled()
