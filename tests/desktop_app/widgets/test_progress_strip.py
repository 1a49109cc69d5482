"""The progress strip under the compare view."""

from __future__ import annotations

from desktop_app.widgets.eta import ProgressLine
from desktop_app.widgets.progress_strip import ProgressStrip
from tests.desktop_app.helpers import assert_ready_after_stop


def _strip(qtbot) -> ProgressStrip:
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    return strip


def is_busy(strip: ProgressStrip) -> bool:
    return (strip.bar.minimum(), strip.bar.maximum()) == (0, 0)


def test_a_single_unit_shows_a_busy_bar_never_a_full_one(qtbot) -> None:
    strip = _strip(qtbot)
    strip.begin("astronaut.png")
    strip.progress("load model", 0, 1, "Loading the model")
    assert is_busy(strip)  # animated "working"
    strip.progress("load model", 1, 1, "Loading the model")
    assert is_busy(strip)  # one of one done is not the job done
    strip.end("done", complete=True)
    assert (strip.bar.maximum(), strip.bar.value()) == (1, 1)


def test_counted_progress_shows_its_fraction(qtbot) -> None:
    strip = _strip(qtbot)
    strip.begin("big.png")
    strip.progress("upscale", 3, 9, "tile 4 of 9")
    assert (strip.bar.maximum(), strip.bar.value()) == (9, 3)


def test_a_line_with_a_fraction_and_time_left(qtbot) -> None:
    strip = _strip(qtbot)
    strip.begin("big.png")
    line = ProgressLine(text="Upscaling: tile 1 of 1 · 37%", fraction=0.37, seconds_left=95)
    strip.show_line(line)
    assert strip.bar.value() / strip.bar.maximum() == 0.37
    assert strip.left.text() == "about 1 min 35 s left"
    strip.show_line(ProgressLine(text="Keeping the result"))
    assert is_busy(strip) and strip.left.text() == ""


def test_cancel_returns_the_button_and_leaves_the_bar_empty(qtbot) -> None:
    strip = _strip(qtbot)
    asked: list[bool] = []
    strip.cancelRequested.connect(lambda: asked.append(True))
    strip.begin("big.png")
    strip.progress("upscale", 5, 9, "tile 6 of 9")
    strip.cancel.click()
    assert asked == [True]
    assert strip.cancel.text() == "Stopping…" and not strip.cancel.isEnabled()
    strip.end("Stopped; nothing was written.")
    assert_ready_after_stop(strip)
    strip.begin("next.png")
    assert strip.cancel.isEnabled() and strip.cancel.text() == "Cancel"


def test_time_left_counts_down_between_reports(qtbot, monkeypatch) -> None:
    import desktop_app.widgets.progress_strip as module

    now = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    strip = _strip(qtbot)
    strip.begin("big.png")
    strip.show_line(ProgressLine(text="Upscaling: tile 1 of 1", seconds_left=30.0))
    assert is_busy(strip) and strip.left.text() == "about 30 s left"
    now[0] += 12
    strip._countdown.timeout.emit()
    assert strip.left.text() == "about 18 s left"
    now[0] += 40  # slower than estimated: no negative or "0 s"
    strip._countdown.timeout.emit()
    assert strip.left.text() == "almost done…"
    strip.end("done", complete=True)
    assert strip.left.text() == "" and not strip._countdown.isActive()


def _highlighted_share(bar) -> float:
    """Share of the bar's middle row painted in the highlight colour."""
    from PySide6.QtGui import QPalette

    image = bar.grab().toImage()
    highlight = bar.palette().color(QPalette.ColorRole.Highlight)
    row = image.height() // 2
    hits = sum(
        1
        for x in range(image.width())
        if abs(image.pixelColor(x, row).blue() - highlight.blue()) < 24
        and abs(image.pixelColor(x, row).red() - highlight.red()) < 24
    )
    return hits / image.width()


def test_busy_bar_never_looks_full(qtbot) -> None:
    from PySide6.QtWidgets import QApplication

    from desktop_app.widgets.progress_strip import ProgressBar

    QApplication.setStyle("Fusion")  # the app's style, whose own busy bar is full
    bar = ProgressBar()
    qtbot.addWidget(bar)
    bar.resize(300, 12)
    bar.setTextVisible(False)
    bar.show()
    bar.setRange(0, 1)
    bar.setValue(1)
    assert _highlighted_share(bar) > 0.8  # a finished job: full
    bar.setRange(0, 0)
    assert 0.05 < _highlighted_share(bar) < 0.3  # busy: a short block, never full


def test_an_ended_job_gives_the_bars_room_to_its_message(qtbot) -> None:
    # Seen at 1024x700: a failure message wrapped into a column a third of the strip wide,
    # six lines tall, and squeezed the page above it.
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    strip.resize(600, 40)
    strip.show()
    qtbot.waitExposed(strip)
    strip.begin("Loading the model")
    assert strip.bar.isVisible()
    strip.end("Failed: /home/someone/Pictures/broken.jpg: not an image file (or not a format)")
    qtbot.waitUntil(lambda: strip.text.width() > 400)
    assert not strip.bar.isVisible()
    strip.begin("Again")
    assert strip.bar.isVisible()
