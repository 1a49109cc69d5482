"""Progress inside a tile, estimated from how fast this computer ran the model so far.

One 512 px tile of the Real-ESRGAN teacher takes minutes on two cores, and a backend call
cannot report how far it is. So the call runs in a worker thread while the caller yields a
``TileProgress`` every ``PROGRESS_SECONDS``: the elapsed time over the tile's expected time,
which comes from the seconds per input pixel measured on earlier tiles (or, before the first
one, on a small crop of the image run for that purpose). The estimate is capped below 100%:
a tile is only done when the backend returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.events import CancelToken, Progress

PROGRESS_SECONDS = 1.0  # how often a running tile reports
THREAD_ABOVE_SECONDS = 2.0  # tiles expected to be quicker run inline: no progress needed
CALIBRATION_SIDE = 64  # LR side of the crop timed before the first big tile
MAX_FRACTION = 0.99


@dataclass(frozen=True, kw_only=True)
class TileProgress(Progress):
    """Progress while a tile runs. ``done``/``total`` still count finished tiles;
    ``fraction`` is the estimated share of the whole image done and ``seconds_left`` the
    estimated time to its end, both from this computer's measured speed."""

    fraction: float
    seconds_left: float | None = None


class TileClock:
    """Seconds per LR input pixel of one model on one backend, as measured on this computer.

    An Upscaler keeps one across images, so only its first image pays for a calibration.
    """

    def __init__(self, seconds_per_pixel: float | None = None) -> None:
        self.seconds_per_pixel = seconds_per_pixel
        self.calibrated_on_crop = False

    def expected(self, pixels: int) -> float | None:
        return None if self.seconds_per_pixel is None else self.seconds_per_pixel * pixels

    def record(self, pixels: int, seconds: float, *, crop: bool = False) -> None:
        if pixels > 0 and seconds > 0:
            self.seconds_per_pixel = seconds / pixels
            self.calibrated_on_crop = crop

    def calibrate(
        self, run: Callable[[np.ndarray], Any], crop: np.ndarray, *, cancel: CancelToken | None
    ) -> None:
        """Time ``run`` on a small NCHW crop (a tile is much larger: its time is this
        crop's per-pixel time, a little pessimistic, until a real tile has been timed)."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        started = time.perf_counter()
        run(crop)
        self.record(crop.shape[2] * crop.shape[3], time.perf_counter() - started, crop=True)


def run_reporting(
    call: Callable[[], np.ndarray],
    *,
    expected: float | None,
    report: Callable[[float, float], Progress],
    cancel: CancelToken | None,
    interval: float | None = None,
) -> Generator[Progress, None, np.ndarray]:
    """``call()``'s result; while it runs, ``report(tile_fraction, tile_seconds_left)`` every
    ``interval`` seconds (default PROGRESS_SECONDS). Short calls (or an unknown duration)
    run inline.

    An exception in the waiting thread (a second Ctrl-C) sets ``cancel`` so the backend
    stops within a layer, and waits for it: a run left behind would hold cores and memory.
    """
    interval = PROGRESS_SECONDS if interval is None else interval
    if expected is None or expected < max(THREAD_ABOVE_SECONDS, 2 * interval):
        return call()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    worker = threading.Thread(target=work, name="tile-run", daemon=True)
    started = time.perf_counter()
    worker.start()
    try:
        while True:
            worker.join(interval)
            if not worker.is_alive():
                break
            elapsed = time.perf_counter() - started
            fraction = min(elapsed / expected, MAX_FRACTION)
            yield report(fraction, max(expected - elapsed, 0.0))
    finally:
        if worker.is_alive():
            if cancel is not None:
                cancel.cancel()
            worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
