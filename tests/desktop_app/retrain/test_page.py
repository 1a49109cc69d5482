"""Retrain page: a tiny real distillation run completes and its model is usable; cancel,
resume, and the measured estimate.

A 2-block teacher and a 2-block student on 32 px crops: the same trainer code as a real run,
in seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from desktop_app.retrain.plan import Measurement
from desktop_app.staging import load_staged
from engine.distill.config import DataConfig
from tests.desktop_app.helpers import (
    WAIT_MS,
    assert_ready_after_stop,
    fill_retrain_form,
    save_photo,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_tiny_run_completes_and_its_model_is_selectable(qtbot, window, tmp_path: Path) -> None:
    page = fill_retrain_form(qtbot, window, tmp_path, name="gui-tiny", steps=8)
    assert page.form.start_button.isEnabled()
    with qtbot.waitSignal(page.runEnded, timeout=WAIT_MS) as ended:
        page.form.start_button.click()
    assert ended.args == ["finished"]
    assert page.plot.steps == 8
    assert {"l_td_real", "l_g_distill", "l_g_gan"} <= set(page.plot.series)
    assert [stage for _, stage in page.plot.stages] == ["teacher_d", "warmup", "gan"]
    qtbot.waitUntil(lambda: "dB" in page.validation.text(), timeout=WAIT_MS)
    assert page.picture.pixmap() is not None and not page.picture.pixmap().isNull()
    assert page.try_button.isVisible()
    # The name is taken now: no new run under it, but its own run may go on with more steps.
    qtbot.waitUntil(lambda: "resume it" in page.form.name_hint.text(), timeout=WAIT_MS)
    assert not page.form.start_button.isEnabled() and page.form.resume_button.isEnabled()

    # The new model is in the list, selectable, and upscales a photo.
    entry = window.options.entry("gui-tiny")
    assert entry is not None and entry.enabled
    page.try_button.click()
    assert window.tabs.currentWidget() is window.upscale
    combo = window.upscale.settings.model
    assert combo.currentData() == "gui-tiny"
    photo = save_photo(tmp_path / "mine.png")
    with qtbot.waitSignal(window.upscale.work.resultReady, timeout=WAIT_MS) as result:
        window.upscale.add_paths([photo])
    outcome = result.args[0]
    assert outcome.model_name == "gui-tiny"
    assert load_staged(outcome.staged).pixels.shape[1::-1] == (256, 192)


def test_cancel_then_resume_continues_the_same_run(qtbot, window, tmp_path: Path) -> None:
    page = fill_retrain_form(qtbot, window, tmp_path, name="gui-resume", steps=60)
    page.form.start_button.click()
    qtbot.waitUntil(lambda: page.plot.steps >= 3, timeout=WAIT_MS)
    with qtbot.waitSignal(page.runEnded, timeout=WAIT_MS) as ended:
        page.progress.cancel.click()
    assert ended.args == ["cancelled"]
    assert "Resume continues" in page.progress.text.text()
    assert_ready_after_stop(page.progress)
    qtbot.waitUntil(lambda: page.form.resume_button.isEnabled(), timeout=WAIT_MS)
    stopped = page.form.run_view.checkpoint_step
    assert 0 < stopped < 60
    assert page.form.resume_button.text() == f"Resume (step {stopped} of 60)"
    assert not page.form.start_button.isEnabled()  # the name is taken by the stopped run

    with qtbot.waitSignal(page.runEnded, timeout=WAIT_MS) as ended:
        page.form.resume_button.click()
    assert ended.args == ["finished"]
    steps = [s for s, _ in page.plot.series["l_g_distill"]]
    # The curve goes on from the checkpoint: history read back, then the new steps.
    assert steps[-1] == 60 and steps == sorted(set(steps))
    assert window.options.entry("gui-resume") is not None


def test_measuring_gives_an_estimate_and_a_time_budget(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    page = fill_retrain_form(qtbot, window, tmp_path, name="gui-measure", steps=40)
    assert "Not measured" in page.form.estimate.text()
    shown: list[str] = []
    original = page.progress.progress

    def progress(stage, done, total, text):
        shown.append(text)
        original(stage, done, total, text)

    monkeypatch.setattr(page.progress, "progress", progress)
    with qtbot.waitSignal(page.measured, timeout=WAIT_MS):
        page.form.measure_button.click()
    # "Measuring (timing a gan step)": the trainer's stage names are not the user's words.
    assert "Measuring (timing a training step)" in shown
    assert not [line for line in shown if "gan" in line.split() or "teacher" in line], shown
    measured = Measurement.from_settings(page.form.settings.measured)
    assert measured is not None and measured.teacher_crop > 0
    assert set(measured.steps) == {"teacher_d", "warmup", "gan"}
    text, details = page.form.estimate.text(), page.form.estimate.toolTip()
    assert "40 steps ≈" in text and "40 steps ×" in details and "teacher pass" in details
    # Nothing knows whether the computer was busy while it was measured: no "when it is
    # not busy", but when it was measured and which way a busy computer moves the estimate.
    assert "not busy" not in text + details and "(measured " in text
    assert "longer while other programs keep the computer busy" in details
    page.form.by_time.setChecked(True)
    page.form.minutes.setValue(1)
    planned = page.form.planned_steps()
    assert planned is not None and planned >= 1
    assert f"{planned} steps ≈" in page.form.estimate.text()
    # Nothing was registered or left behind by the measurement.
    assert window.options.entry("gui-measure") is None


def test_damaged_files_are_not_counted_as_photos(qtbot, window, tmp_path: Path) -> None:
    page = fill_retrain_form(qtbot, window, tmp_path, name="gui-count", steps=10)
    folder = Path(page.form.folder_paths()[0])
    jpeg = tmp_path / "whole.jpg"
    Image.open(next(folder.glob("*.png"))).save(jpeg, quality=90)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("not a picture")
    data = jpeg.read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])  # a truncated JPEG
    with qtbot.waitSignal(page.form.photosCounted, timeout=WAIT_MS) as counted:
        page.form.refresh_photos()
    assert counted.args == [4]
    assert page.form.photos == 4
    assert page.form.photo_count.text() == "4 photos, 3 skipped"
    tooltip = page.form.photo_count.toolTip()
    assert "empty.jpg" in tooltip and "notes.png" in tooltip and "cut.jpg" in tooltip


def test_each_skipped_photo_is_named_with_the_reason(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    for name in ("astronaut", "coffee"):
        save_photo(folder / f"{name}.png", name, box=(300, 300))
    save_photo(folder / "tiny.png", "chelsea", box=(119, 114))  # 114 wide, 119 high
    form = window.retrain.form
    window.show_page("retrain")
    with qtbot.waitSignal(form.photosCounted, timeout=WAIT_MS):
        form.set_folders([folder])
    side = DataConfig().hr_crop
    assert form.photo_count.text() == "2 photos, 1 skipped"
    assert form.skipped.isVisible()
    assert form.skipped.text() == (
        f"Not trained on:\ntiny.png: 114×119 px is too small "
        f"(training needs at least {side}×{side} px)"
    )
    with qtbot.waitSignal(form.photosCounted, timeout=WAIT_MS):
        (folder / "tiny.png").unlink()
        form.refresh_photos()
    assert not form.skipped.isVisible() and form.photo_count.text() == "2 photos"
