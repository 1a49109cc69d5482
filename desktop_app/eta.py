"""Time-left estimates from progress fractions, and durations written for people."""

from __future__ import annotations

import time
from collections.abc import Callable

# Below this much elapsed time or progress an estimate is mostly noise: say nothing yet.
MIN_SECONDS = 1.0
MIN_FRACTION = 0.01


class Eta:
    """Seconds left for a job whose completed fraction is reported from time to time.

    The rate is the average since ``start``: units of a job (tiles, files, steps) cost about
    the same, and an average does not jump around with the noise of a busy computer.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()

    def start(self) -> None:
        self._started = self._clock()

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def remaining(self, fraction: float) -> float | None:
        elapsed = self.elapsed
        if fraction < MIN_FRACTION or elapsed < MIN_SECONDS:
            return None
        fraction = min(fraction, 1.0)
        return elapsed * (1.0 - fraction) / fraction


def format_duration(seconds: float) -> str:
    """``"8 s"``, ``"3 min 05 s"``, ``"2 h 10 min"``, ``"3 days 4 h"``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h"


def left_text(seconds: float | None) -> str:
    return "estimating time left…" if seconds is None else f"about {format_duration(seconds)} left"
