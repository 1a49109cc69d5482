"""The status bar's line: a long message is shortened with "…" in the middle (the whole of it
in the tooltip), never clipped and never widening the window; it clears after a while."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

SMALL = (1024, 700)


def test_a_long_message_is_elided_not_clipped(window) -> None:
    window.resize(*SMALL)
    QApplication.processEvents()
    message = "cannot write /home/me/photos/" + "a-very-long-folder-name/" * 11 + "end.png"
    message = message[:300]
    assert len(message) == 300
    window.show_status(message)
    for _ in range(3):
        QApplication.processEvents()
    line = window.status_line
    assert line.isVisible()
    assert line.text() == message and line.toolTip() == message
    shown = line.shown_text()
    assert "…" in shown and len(shown) < len(message)
    # In the middle: the start and the end of the message both stay in view.
    assert shown.startswith("cannot write") and shown.endswith("end.png")
    assert window.width() == SMALL[0]


def test_the_line_clears_after_a_while_and_restarts_for_each_message(window, qtbot) -> None:
    window.status_timer.setInterval(200)
    window.show_status("first")
    assert window.status_line.text() == "first"
    window.show_status("second")
    assert window.status_timer.isActive() and window.status_line.text() == "second"
    qtbot.waitUntil(lambda: window.status_line.text() == "", timeout=5000)


def test_flags_are_said_in_the_windows_words(window) -> None:
    window.show_status("cannot write there: choose another --out folder")
    assert "--" not in window.status_line.text()


def test_another_page_starts_with_an_empty_status_line(window) -> None:
    window.show_page("batch")
    window.show_status("Finished in 3 s: 6 upscaled")
    assert window.status_line.text()
    window.show_page("retrain")
    assert window.status_line.text() == ""
