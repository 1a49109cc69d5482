"""Time left and durations as people read them."""

from __future__ import annotations

import pytest

from desktop_app.widgets.eta import Eta, format_duration, left_text


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_time_left_from_the_average_rate() -> None:
    clock = Clock()
    eta = Eta(clock)
    assert eta.remaining(0.5) is None  # no time has passed: no guess
    clock.now += 30
    assert eta.remaining(0.005) is None  # too little progress to tell
    assert eta.remaining(0.25) == pytest.approx(90)
    assert eta.remaining(1.0) == pytest.approx(0)
    eta.start()
    clock.now += 10
    assert eta.remaining(0.5) == pytest.approx(10)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0 s"),
        (59, "59 s"),
        (61, "1 min 01 s"),
        (3600, "1 h 00 min"),
        (47 * 3600 + 60, "47 h 01 min"),
        (3 * 86400 + 4 * 3600, "3 days 4 h"),
    ],
)
def test_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_left_text() -> None:
    assert left_text(None) == "estimating time left…"
    assert left_text(75) == "about 1 min 15 s left"


def test_a_queue_total_only_where_every_photo_can_be_estimated() -> None:
    from desktop_app.widgets.eta import queue_left, queue_words

    assert queue_left(8.0, [30.0, 22.0]) == 60.0
    assert queue_left(8.0, [30.0, None]) is None  # one unknown: no total promised
    assert queue_words(queue_left(8.0, [30.0, 22.0]), 3) == " · about 1 min 00 s for all 3"
    assert queue_words(None, 3) == "" and queue_words(8.0, 1) == ""
