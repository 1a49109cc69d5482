"""While a photo is upscaled: its original on show, a busy bar while the model loads, a
share done inside a long tile with the time left, and never "100%" before it is done."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from desktop_app import jobs
from desktop_app.widgets.eta import Eta, SpeedBook, time_left
from engine.events import CancelToken, Progress
from tests.desktop_app.helpers import WAIT_MS, assert_ready_after_stop


@dataclass(frozen=True, kw_only=True)
class TileProgress(Progress):
    """The engine's progress inside a tile (engine.inference.tile_clock): the same fields."""

    fraction: float
    seconds_left: float | None = None


class Scripted:
    """An upscale that yields the events it is told to, one per ``step()``, then waits."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.go = threading.Semaphore(0)

    def job(self, request: Any, pool: Any, cancel: CancelToken) -> Iterator[Any]:
        for event in self.events:
            while not self.go.acquire(timeout=0.02):
                cancel.raise_if_cancelled()
            yield event
        while True:
            cancel.raise_if_cancelled()
            self.go.acquire(timeout=0.02)

    def step(self) -> None:
        self.go.release()


@pytest.fixture
def scripted(monkeypatch) -> Scripted:
    script = Scripted()
    monkeypatch.setattr(jobs, "upscale_job", script.job)
    return script


def test_progress_while_upscaling(qtbot, window, photo: Path, scripted: Scripted) -> None:
    scripted.events = [
        Progress(stage="load model", done=0, total=1),
        Progress(stage="load model", done=1, total=1),
        Progress(stage="upscale", done=0, total=1),
        TileProgress(stage="upscale", done=0, total=1, fraction=0.4, seconds_left=90.0),
        TileProgress(stage="upscale", done=0, total=1, fraction=0.999, seconds_left=1.0),
        Progress(stage="finishing", done=0, total=1),
    ]
    page = window.upscale
    bar, view = page.progress.bar, page.compare.view
    window.open_paths([photo])
    qtbot.waitUntil(lambda: page.work.job is not None, timeout=WAIT_MS)
    # The original is on show while it is upscaled, not the "drop images here" text.
    qtbot.waitUntil(lambda: view.before is not None, timeout=WAIT_MS)
    assert view.after is None and view.labels[0] == "Original"
    assert "upscaling" in page.compare.info.text()

    def row_text() -> str:
        return page.queue.item(0).text()

    for _ in range(2):  # loading the model: busy, never full
        scripted.step()
        qtbot.waitUntil(lambda: "loading the model" in row_text(), timeout=WAIT_MS)
        assert bar.maximum() == 0
    scripted.step()  # one tile, nothing known inside it yet: busy, not "0%"
    qtbot.waitUntil(lambda: "upscaling…" in row_text(), timeout=WAIT_MS)
    assert bar.maximum() == 0 and "0%" not in page.progress.text.text()
    scripted.step()
    qtbot.waitUntil(lambda: "40%" in row_text(), timeout=WAIT_MS)
    assert bar.value() / bar.maximum() == pytest.approx(0.4)
    assert page.progress.left.text() == "about 1 min 30 s left"
    assert "tile 1 of 1 · 40%" in page.progress.text.text()
    scripted.step()
    qtbot.waitUntil(lambda: "99%" in row_text(), timeout=WAIT_MS)  # not "100%": not done
    assert "100%" not in page.progress.text.text()
    scripted.step()
    qtbot.waitUntil(lambda: "keeping the result" in row_text(), timeout=WAIT_MS)
    assert bar.maximum() == 0
    assert view.before is not None  # still the original
    page.progress.cancel.click()
    qtbot.waitUntil(lambda: page.work.job is None, timeout=WAIT_MS)
    assert_ready_after_stop(page.progress)
    assert "100%" not in row_text() and "stopped" in row_text()


def test_time_left_from_the_speed_measured_before() -> None:
    now = [100.0]
    eta = Eta(clock=lambda: now[0])
    speeds = SpeedBook()
    assert speeds.expected("teacher", 512 * 512) is None
    speeds.record("teacher", 256 * 256, 30.0)  # a photo a quarter the size took 30 s
    expected = speeds.expected("teacher", 512 * 512)
    assert expected == pytest.approx(120.0)
    now[0] += 0.5  # too early for this run's own pace: the measured speed answers
    assert time_left(0.0, eta, expected) == pytest.approx(119.5)
    now[0] += 29.5  # a quarter done after 30 s: this run's own pace takes over
    assert time_left(0.25, eta, expected) == pytest.approx(90.0)
    assert time_left(0.0, eta, None) is None


def test_speed_measured_here_is_kept_and_shown(qtbot, make_window, store, photo: Path) -> None:
    window = make_window(store)
    page = window.upscale
    assert "Here:" not in page.settings.model_about.text()
    with qtbot.waitSignal(page.work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
    assert "Here: " in page.settings.model_about.text()
    assert "for a 512×512 photo" in page.settings.model_about.text()
    # A later session knows this computer's speed before its first upscale ends.
    again = make_window(store)
    expected = again.options.seconds_here(64 * 48)
    assert expected is not None and expected > 0
    assert "Here: " in again.upscale.settings.model_about.text()
    again.options.update(scale=2)  # another set-up: not measured yet
    assert again.options.seconds_here(64 * 48) is None
