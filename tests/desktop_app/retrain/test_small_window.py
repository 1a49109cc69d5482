"""The Retrain form at a 1024 x 700 window: the estimate after Measure and the box of photos
left out keep the window at its size and are shown whole (wrapped, or short names with the
whole list in the tooltip), in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from desktop_app.retrain.form import NAME_SHOWN, short_name
from engine.events import TrainingSetup
from tests.desktop_app.helpers import WAIT_MS, fill_retrain_form, save_photo

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = (1024, 700)


def _settle(window) -> None:
    for _ in range(3):
        QApplication.processEvents()
    window.resize(*SMALL)
    for _ in range(3):
        QApplication.processEvents()


def _shown_whole(label) -> bool:
    return label.wordWrap() and label.height() + 1 >= label.heightForWidth(label.width())


def test_the_estimate_after_measuring_keeps_the_window_at_1024_by_700(
    qtbot, window, tmp_path: Path
) -> None:
    page = fill_retrain_form(qtbot, window, tmp_path, name="gui-small", steps=40)
    window.show()
    _settle(window)
    with qtbot.waitSignal(page.measured, timeout=WAIT_MS):
        page.form.measure_button.click()
    estimate = page.form.estimate
    qtbot.waitUntil(lambda: "40 steps ≈" in estimate.text(), timeout=WAIT_MS)
    _settle(window)
    hint = window.minimumSizeHint()
    assert hint.width() <= SMALL[0] and hint.height() <= SMALL[1], hint
    assert (window.width(), window.height()) == SMALL
    # The estimate is a line or two; the sum behind it, with its terms, in the tooltip.
    qtbot.waitUntil(lambda: _shown_whole(estimate), timeout=WAIT_MS)
    assert "teacher" not in estimate.text() and "crop" not in estimate.text()
    assert "40 steps ×" in estimate.toolTip() and "teacher pass" in estimate.toolTip()


def test_photos_left_out_with_long_names_are_listed_whole_in_a_small_window(
    qtbot, window, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    for name in ("astronaut", "coffee"):
        save_photo(folder / f"{name}.png", name, box=(300, 300))
    long_name = "holiday-2024-summer-beach-sunset-with-the-whole-family-0042.png"
    save_photo(folder / long_name, "chelsea", box=(119, 114))
    form = window.retrain.form
    window.show_page("retrain")
    window.show()
    with qtbot.waitSignal(form.photosCounted, timeout=WAIT_MS):
        form.set_folders([folder])
    _settle(window)
    assert (window.width(), window.height()) == SMALL
    box = form.skipped
    qtbot.waitUntil(lambda: box.isVisible() and _shown_whole(box), timeout=WAIT_MS)
    assert long_name not in box.text() and long_name in box.toolTip()
    metrics = box.fontMetrics()
    for word in box.text().split():
        assert metrics.horizontalAdvance(word) <= box.width(), word  # every word wraps


def test_a_long_file_name_is_shortened_in_the_middle() -> None:
    line = "a" * 40 + ".png: too small"
    short = short_name(line)
    assert short.endswith("aa.png: too small") and "…" in short
    assert len(short.partition(": ")[0]) == NAME_SHOWN
    assert short_name("photo.png: too small") == "photo.png: too small"


def test_training_notices_and_stages_are_in_plain_words(qtbot, window) -> None:
    page = window.retrain
    setup = TrainingSetup(
        train_images=5, val_images=1, train_crops=40, val_crops=1, crop_px=128,
        device="cpu", processes=1,
    )  # fmt: skip
    with qtbot.waitSignal(page.status) as said:
        page._on_event(setup)
    assert said.args == ["Learning from 5 photos, 1 kept aside to check progress, on the processor"]
    for jargon in ("validation", "crops", "device", "process(es)"):
        assert jargon not in said.args[0]
    from desktop_app.retrain.page import STAGE_TEXT

    assert not any("Teacher" in text or "teacher" in text for text in STAGE_TEXT.values())


def test_an_unusable_model_file_says_what_to_do(qtbot, window) -> None:
    page = window.retrain
    reason = (
        "/x/model.pth: not a readable model file (corrupt pickle data, or pickle opcodes "
        "outside the safe subset)"
    )
    with qtbot.waitSignal(page.runEnded):
        page._failed(reason)
    text = page.progress.text.text()
    assert "pickle opcodes" in text and "use a .safetensors or .pth file" in text
    with qtbot.waitSignal(page.runEnded):
        page._failed("/x/a.pth: unsupported model architecture")
    assert "ESRGAN-family" in page.progress.text.text()
    with qtbot.waitSignal(page.runEnded):
        page._failed("the disk is full")
    assert "safetensors" not in page.progress.text.text()  # only for model files
