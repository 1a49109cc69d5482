"""Batch page: a bad file is listed with its reason and the rest is done; cancel is prompt."""

from __future__ import annotations

import time
from pathlib import Path

from PIL import Image

from tests.desktop_app.helpers import WAIT_MS, assert_ready_after_stop, save_photo, start_batch


def test_bad_file_is_listed_and_the_rest_is_done(qtbot, window, tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    save_photo(source / "astronaut.png")
    save_photo(source / "coffee.jpg", "coffee")
    (source / "broken.png").write_text("this is a text file, not a picture")
    page = window.batch
    with qtbot.waitSignal(page.batchEnded, timeout=WAIT_MS) as ended:
        start_batch(window, source, output)
    assert ended.args == ["finished"]
    assert sorted(p.name for p in output.iterdir()) == [
        "astronaut_bicubic_x4.png",
        "coffee_bicubic_x4.jpg",
    ]
    assert Image.open(output / "coffee_bicubic_x4.jpg").size == (256, 192)
    assert page.errors_box.isVisible() and page.errors.topLevelItemCount() == 1
    row = page.errors.topLevelItem(0)
    assert row.text(0) == "broken.png"
    assert row.text(1) and "Traceback" not in row.text(1)
    assert page.counts.text() == "2 done · 0 skipped · 1 failed"
    assert page.files.topLevelItemCount() == 3
    assert "2 upscaled, 0 skipped, 1 failed" in page.overall.text.text()
    assert page.overall.bar.value() == page.overall.bar.maximum()


def test_skip_existing_resumes(qtbot, window, tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    save_photo(source / "a.png")
    save_photo(source / "b.png", "coffee")
    output.mkdir()
    (output / "a_bicubic_x4.png").write_bytes(b"kept as it is")
    window.batch.skip_existing.setChecked(True)
    with qtbot.waitSignal(window.batch.batchEnded, timeout=WAIT_MS):
        start_batch(window, source, output)
    assert (output / "a_bicubic_x4.png").read_bytes() == b"kept as it is"
    assert Image.open(output / "b_bicubic_x4.png").size == (256, 192)
    assert window.batch.counts.text() == "1 done · 1 skipped · 0 failed"


def test_cancel_stops_within_a_second_and_leaves_no_partial_file(
    qtbot, window, tmp_path: Path
) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    for index in range(12):
        save_photo(source / f"photo{index:02d}.png", box=(400, 400))
    window.options.update(tile=64)  # many tiles per photo: the cancel lands inside one
    page = window.batch
    start_batch(window, source, output)
    qtbot.waitUntil(lambda: page.counts.text().startswith("1 done"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.current_bar.value() > 0, timeout=WAIT_MS)
    began = time.monotonic()
    with qtbot.waitSignal(page.batchEnded, timeout=WAIT_MS) as ended:
        page.overall.cancel.click()
    assert time.monotonic() - began < 1.0
    assert ended.args == ["cancelled"]
    written = sorted(output.rglob("*"))
    assert 1 <= len(written) < 12
    for path in written:  # only complete images, no temp files
        assert path.name.endswith("_bicubic_x4.png")
        with Image.open(path) as image:
            image.load()
            assert image.size == (1600, 1600)
    assert "nothing partial" in page.overall.text.text()
    assert_ready_after_stop(page.overall)
    qtbot.waitUntil(page.start_button.isEnabled, timeout=WAIT_MS)


def test_missing_folders_are_refused_before_starting(qtbot, window, tmp_path: Path) -> None:
    page = window.batch
    page.input_dir.setText(str(tmp_path / "does-not-exist"))
    page.output_dir.setText(str(tmp_path / "out"))
    page.start_button.click()
    assert page.job is None
    assert "not a folder" in page.overall.text.text()
