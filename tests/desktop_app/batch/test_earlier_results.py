"""The Batch page says how many earlier results of the app it left out of the folder (a new
user saw "12 of 12 images" and 20 minutes for 3 photos and 9 of its own results)."""

from __future__ import annotations

from pathlib import Path

from engine.imageio import read_image, write_image
from tests.desktop_app.helpers import WAIT_MS, save_photo, start_batch


def test_the_summary_counts_the_results_left_out(qtbot, window, tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    photo = save_photo(source / "astronaut.png")
    for name in ("astronaut_bicubic_x4.png", "astronaut_mfagan_x4.jpg"):
        write_image(source / name, read_image(photo))  # as saving a result wrote them
    page = window.batch
    with qtbot.waitSignal(page.batchEnded, timeout=WAIT_MS) as ended:
        start_batch(window, source, output)
    assert ended.args == ["finished"]
    assert sorted(p.name for p in output.iterdir()) == ["astronaut_bicubic_x4.png"]
    assert page.counts.text() == "1 done · 0 skipped · 0 failed"
    summary = page.overall.text.text()
    assert "1 upscaled, 0 skipped, 0 failed" in summary
    assert "2 earlier results of MFAGAN Studio left out" in summary
