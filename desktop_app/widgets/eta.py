"""Time-left estimates from progress fractions, and durations written for people."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

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


def queue_left(current: float, waiting: list[float | None]) -> float | None:
    """The time left of a queue: the running job's plus each waiting one's; None when one
    of those cannot be estimated (a total missing a photo would promise too early an end)."""
    if any(seconds is None for seconds in waiting):
        return None
    return current + sum(seconds for seconds in waiting if seconds is not None)


def queue_words(seconds: float | None, jobs: int) -> str:
    """`` · about 1 min 05 s for all 8``, added to a progress line; "" when not known."""
    if seconds is None or jobs < 2:
        return ""
    return f" · about {format_duration(seconds)} for all {jobs}"


@dataclass(frozen=True, kw_only=True)
class ProgressLine:
    """What a progress strip shows: a line, the fraction done (None: a step of unknown
    length, shown as a busy bar) and the seconds left (None: not known yet)."""

    text: str
    fraction: float | None = None
    seconds_left: float | None = None


class SpeedBook:
    """Seconds per input pixel of each model set-up, measured on this computer by the
    upscales finished so far (and kept across sessions by the caller): the time left of
    the next photo before its first tile ends."""

    def __init__(
        self,
        rates: dict[str, float] | None = None,
        on_change: Callable[[dict[str, float]], None] | None = None,
    ) -> None:
        self._rates = dict(rates or {})
        self._on_change = on_change

    def record(self, key: str, pixels: int, seconds: float) -> None:
        if pixels > 0 and seconds > 0:
            self._rates[key] = seconds / pixels
            if self._on_change is not None:
                self._on_change(dict(self._rates))

    def expected(self, key: str, pixels: int | None) -> float | None:
        rate = self._rates.get(key)
        return None if rate is None or not pixels else rate * pixels


def time_left(fraction: float, eta: Eta, expected: float | None) -> float | None:
    """From this run's own pace once it has one, else from the time a like job took."""
    measured = eta.remaining(fraction)
    if measured is not None:
        return measured
    if expected is not None and eta.elapsed < expected:
        return expected - eta.elapsed
    return None
