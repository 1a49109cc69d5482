"""Quitting while a job runs: the question names each running job as its page shows it,
not "a job is still running"; short background work is stopped without asking."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app import jobs
from desktop_app.main_window import QUIT_TITLE
from engine.events import CancelToken, Progress
from tests.desktop_app.helpers import WAIT_MS, save_photo

# Taken at import, before the ``dialogs`` fixture records message boxes instead of showing
# them: the test of a question that changes while open needs the real, open one.
REAL_QUESTION = QMessageBox.question


def waiting(*first: object):
    """A job factory that reports ``first`` and then runs until cancelled."""

    def make(cancel: CancelToken) -> Iterator[object]:
        yield from first
        started.set()
        while not cancel.cancelled:
            threading.Event().wait(0.01)
        cancel.raise_if_cancelled()

    started = threading.Event()
    make.started = started  # type: ignore[attr-defined]
    return make


def quit_question(window, dialogs: list[str]) -> str:
    """What quitting asks now ("" when it asks nothing); the recorded answer is Yes."""
    dialogs.clear()
    assert window._confirm_close()
    return dialogs[0] if dialogs else ""


@pytest.fixture
def stop_jobs(window, qtbot) -> Iterator[None]:
    yield
    window.runner.cancel_all()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)


def test_a_running_batch_is_named_with_its_photo_count(
    qtbot, window, tmp_path, dialogs: list[str], monkeypatch, stop_jobs
) -> None:
    source = tmp_path / "in"
    for index in range(12):
        save_photo(source / f"p{index}.png")
    make = waiting(Progress(stage="batch", done=3, total=12))
    monkeypatch.setattr(jobs, "batch_job", lambda request, choice, pool, cancel: make(cancel))
    page = window.batch
    page.input_dir.setText(str(source))
    page.output_dir.setText(str(tmp_path / "out"))
    page.start_button.click()
    qtbot.waitUntil(lambda: page._total == 12, timeout=WAIT_MS)
    text = quit_question(window, dialogs)
    assert text.startswith("Batch upscale of 12 photos is running (9 still to do).")
    assert "Quitting stops it." in text and "A job is still running" not in text


def test_fine_tuning_and_a_phone_step_are_named(
    qtbot, window, dialogs: list[str], stop_jobs
) -> None:
    retrain = waiting()
    window.runner.start(retrain, name="retrain")
    search = window.phone.wizard.search.panel
    search.run(waiting(), "Preparing the search…", on_finished=lambda _result: None)
    qtbot.waitUntil(retrain.started.is_set, timeout=WAIT_MS)
    text = quit_question(window, dialogs)
    assert "Fine-tuning on your photos (Retrain on my photos) is running." in text
    assert "Phone tab, step 3 “Search”, is running." in text
    assert "Quitting stops them." in text


def test_the_phone_tabs_automatic_work_alone_asks_nothing(
    qtbot, window, dialogs: list[str], stop_jobs
) -> None:
    # Placing the known networks (step 2) runs by itself at start-up and is redone on the
    # next: a person quitting a second after opening the app loses nothing by it.
    goal = window.phone.wizard.goal.panel
    qtbot.waitUntil(lambda: not goal.running, timeout=WAIT_MS)  # the real start-up placing
    placing = waiting()
    goal.run(placing, "Placing the known networks…", on_finished=lambda _result: None, done_text="")
    qtbot.waitUntil(placing.started.is_set, timeout=WAIT_MS)
    assert goal.quiet and "phone wizard" in window.runner.running_names()
    assert quit_question(window, dialogs) == ""


def test_background_work_alone_asks_nothing(qtbot, window, dialogs: list[str], stop_jobs) -> None:
    background = waiting()
    window.runner.start(background, name="preview")
    qtbot.waitUntil(background.started.is_set, timeout=WAIT_MS)
    assert window.runner.busy
    assert quit_question(window, dialogs) == ""


def test_the_open_question_follows_the_jobs_and_quits_when_the_last_ends(
    qtbot, window, monkeypatch, stop_jobs
) -> None:
    monkeypatch.setattr(QMessageBox, "question", REAL_QUESTION)
    upscale, retrain = waiting(), waiting()
    jobs_by_name = {
        name: window.runner.start(make, name=name)
        for name, make in (("upscale", upscale), ("retrain", retrain))
    }
    qtbot.waitUntil(lambda: upscale.started.is_set() and retrain.started.is_set(), timeout=WAIT_MS)
    seen: list[str] = []

    def drive() -> None:
        """While the question is open: end the retrain, then (once it has left the question)
        the upscale; a question still open at the deadline is answered No (a failure)."""
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.windowTitle() != QUIT_TITLE:
            return
        if not seen:
            seen.append(box.text())
            jobs_by_name["retrain"].cancel()
        elif len(seen) == 1 and "Fine-tuning" not in box.text():
            seen.append(box.text())
            jobs_by_name["upscale"].cancel()
        if time.monotonic() > deadline:
            box.button(QMessageBox.StandardButton.No).click()

    deadline = time.monotonic() + WAIT_MS / 1000
    driver = QTimer()
    driver.setInterval(20)
    driver.timeout.connect(drive)
    driver.start()
    try:
        assert window._confirm_close()  # Yes: nothing was left to lose
    finally:
        driver.stop()
    assert QApplication.activeModalWidget() is None
    first, second = seen
    assert "Fine-tuning on your photos" in first and "Upscaling on the Upscale page" in first
    assert "Quitting stops them." in first
    assert second.startswith("Upscaling on the Upscale page is running.\nQuitting stops it.")
