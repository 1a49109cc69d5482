"""The progress strip under the compare view."""

from __future__ import annotations

from desktop_app.progress_strip import ProgressStrip


def test_a_single_long_unit_shows_a_busy_bar_then_done(qtbot) -> None:
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    strip.begin("astronaut.png")
    strip.progress("upscale", 0, 1, "tile 1 of 1")
    assert (strip.bar.minimum(), strip.bar.maximum()) == (0, 0)  # animated "working"
    strip.progress("upscale", 1, 1, "tile 1 of 1")
    assert (strip.bar.maximum(), strip.bar.value()) == (1, 1)


def test_counted_progress_shows_its_fraction(qtbot) -> None:
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    strip.begin("big.png")
    strip.progress("upscale", 3, 9, "tile 4 of 9")
    assert (strip.bar.maximum(), strip.bar.value()) == (9, 3)
