"""Workers: engine generators run off the UI thread; events, results and errors come back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, QThreadPool

from desktop_app.workers import JobRunner, describe_error
from engine.errors import ImageError
from engine.events import CancelToken, Finished, Notice, Progress


class Recorder(QObject):
    """Slots on a UI-thread object, recording what arrived and on which thread."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Any] = []
        self.outcome: tuple[str, Any] | None = None
        self.threads: set[QThread] = set()

    def on_event(self, event: Any) -> None:
        self.threads.add(QThread.currentThread())
        self.events.append(event)

    def on_finished(self, result: Any) -> None:
        self.outcome = ("finished", result)

    def on_failed(self, reason: str) -> None:
        self.outcome = ("failed", reason)

    def on_cancelled(self, message: str) -> None:
        self.outcome = ("cancelled", message)


def start(runner: JobRunner, recorder: Recorder, make: Any):
    return runner.start(
        make,
        name="test",
        on_event=recorder.on_event,
        on_finished=recorder.on_finished,
        on_failed=recorder.on_failed,
        on_cancelled=recorder.on_cancelled,
    )


def test_events_arrive_on_the_ui_thread_and_the_result_last(qtbot) -> None:
    job_threads: list[int] = []

    def make(cancel: CancelToken) -> Iterator[Any]:
        job_threads.append(threading.get_ident())
        for done in range(3):
            yield Progress(stage="work", done=done, total=3)
        yield Notice(message="tile size auto: 64")
        yield Finished(result={"answer": 42})

    runner, recorder = JobRunner(QThreadPool()), Recorder()
    start(runner, recorder, make)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)  # ``ended`` arrived
    assert recorder.outcome == ("finished", {"answer": 42})
    assert [getattr(e, "done", None) for e in recorder.events] == [0, 1, 2, None]
    assert job_threads and job_threads[0] != threading.get_ident()
    assert recorder.threads == {QThread.currentThread()}
    assert not runner.busy


def test_engine_errors_become_their_one_line_message(qtbot) -> None:
    def make(cancel: CancelToken) -> Iterator[Any]:
        yield Progress(stage="work", done=0, total=1)
        raise ImageError(Path("/photos/cat.png"), "not an image (a text file?)")

    runner, recorder = JobRunner(QThreadPool()), Recorder()
    start(runner, recorder, make)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)  # ``ended`` arrived
    assert recorder.outcome == ("failed", "/photos/cat.png: not an image (a text file?)")


def test_unexpected_errors_are_named_without_a_traceback(qtbot) -> None:
    def make(cancel: CancelToken) -> Iterator[Any]:
        raise KeyError("weights")
        yield

    runner, recorder = JobRunner(QThreadPool()), Recorder()
    start(runner, recorder, make)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)  # ``ended`` arrived
    kind, reason = recorder.outcome
    assert kind == "failed"
    assert "KeyError" in reason and "'weights'" in reason
    assert "Traceback" not in reason and "\n" not in reason


def test_cancel_stops_a_running_job(qtbot) -> None:
    def make(cancel: CancelToken) -> Iterator[Any]:
        for step in range(10_000):
            cancel.raise_if_cancelled()
            time.sleep(0.01)
            yield Progress(stage="work", done=step, total=10_000)
        yield Finished(result="should not get here")

    runner, recorder = JobRunner(QThreadPool()), Recorder()
    job = start(runner, recorder, make)
    qtbot.waitUntil(lambda: len(recorder.events) >= 3, timeout=5000)
    began = time.monotonic()
    job.cancel()
    qtbot.waitUntil(lambda: recorder.outcome is not None, timeout=5000)
    assert recorder.outcome[0] == "cancelled"
    assert time.monotonic() - began < 1.0


def test_describe_error_memory() -> None:
    assert "not enough memory" in describe_error(MemoryError())
