"""The status bar's line: a long message is shortened with "…" in the middle (the whole of it
in the tooltip), never clipped and never widening the window; it clears after a while, and
a line about work under way ("opening x…") goes once that work is over."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtWidgets import QApplication

from engine.models.rrdbnet import RRDBNet, RRDBNetConfig
from tests.desktop_app.helpers import WAIT_MS

SMALL = (1024, 700)
LONGER_THAN_THE_TEST_MS = 30 * 60_000


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


def tiny_esrgan(path: Path) -> Path:
    """An ESRGAN-family .pth, tiny and random: a model file that opens."""
    torch.manual_seed(0)
    torch.save(RRDBNet(RRDBNetConfig(num_block=1, num_feat=8)).state_dict(), path)
    return path


def test_opening_a_refused_model_file_is_not_left_on_the_line(
    window, qtbot, tmp_path: Path, dialogs: list[str]
) -> None:
    bad = tmp_path / "notes.pth"
    bad.write_bytes(b"not a checkpoint at all")
    window.status_timer.setInterval(LONGER_THAN_THE_TEST_MS)  # only the job's end clears it
    window.open_model_file(bad, select=True)
    assert window.status_line.text() == "opening notes.pth…"
    qtbot.waitUntil(lambda: bool(dialogs), timeout=WAIT_MS)
    # Its job is over, the message box says why.
    qtbot.waitUntil(lambda: window.status_line.text() == "", timeout=WAIT_MS)
    assert not window.status_timer.isActive()


def test_a_remembered_model_opened_in_silence_takes_its_line_down(
    window, qtbot, tmp_path: Path
) -> None:
    model = tiny_esrgan(tmp_path / "kept.pth")
    window.status_timer.setInterval(LONGER_THAN_THE_TEST_MS)
    window.open_model_file(model, select=False)
    assert window.status_line.text() == "opening kept.pth…"
    qtbot.waitUntil(lambda: window.options.entry(str(model)) is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.status_line.text() == "", timeout=WAIT_MS)


def test_the_line_that_followed_stays_when_the_job_ends(window, qtbot, tmp_path: Path) -> None:
    model = tiny_esrgan(tmp_path / "mine.pth")
    window.open_model_file(model, select=True)
    qtbot.waitUntil(lambda: "added" in window.status_line.text(), timeout=WAIT_MS)
    # The job's end is handled before the runner forgets it.
    qtbot.waitUntil(lambda: "model" not in window.runner.running_names(), timeout=WAIT_MS)
    assert "mine" in window.status_line.text() and window.status_timer.isActive()
