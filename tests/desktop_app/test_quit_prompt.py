"""Quitting while a job runs: the question names each running job as its page shows it,
not "a job is still running"; short background work is stopped without asking."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from desktop_app import jobs
from engine.events import CancelToken, Progress
from tests.desktop_app.helpers import WAIT_MS, save_photo


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


def test_background_work_alone_asks_nothing(qtbot, window, dialogs: list[str], stop_jobs) -> None:
    background = waiting()
    window.runner.start(background, name="preview")
    qtbot.waitUntil(background.started.is_set, timeout=WAIT_MS)
    assert window.runner.busy
    assert quit_question(window, dialogs) == ""
