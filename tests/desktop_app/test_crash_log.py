"""The crash log: an unhandled exception (in a slot too), a job's logged error and a hard
crash leave their trace in a file, the window gets one plain line naming it, and a log
folder that cannot be written never stops the app."""

from __future__ import annotations

import faulthandler
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from desktop_app.crash_log import LOG_NAME, MAX_BYTES, CrashLog, log_path


@pytest.fixture
def crash_log(tmp_path: Path) -> Iterator[CrashLog]:
    crashes = CrashLog(tmp_path / "log" / LOG_NAME)
    crashes.install()
    try:
        yield crashes
    finally:
        crashes.uninstall()


def test_the_log_lives_where_the_environment_says(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MFAGAN_LOG_DIR", str(tmp_path / "elsewhere"))
    assert log_path() == tmp_path / "elsewhere" / LOG_NAME


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_logged_and_named_in_one_line(qtbot, crash_log) -> None:
    lines: list[str] = []
    crash_log.crashed.connect(lines.append)

    def broken_slot() -> None:
        raise RuntimeError("a bug in a slot")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: bool(lines), timeout=10_000)
    text = crash_log.wanted.read_text()
    assert "unhandled exception" in text and "Traceback" in text
    assert "RuntimeError: a bug in a slot" in text and "broken_slot" in text
    (line,) = lines
    assert str(crash_log.wanted) in line and "\n" not in line and "Traceback" not in line
    QTimer.singleShot(0, lambda: lines.append("still running"))  # the event loop goes on
    qtbot.waitUntil(lambda: "still running" in lines, timeout=10_000)


def test_a_logged_job_error_and_a_hard_crash_go_to_the_file(crash_log) -> None:
    assert faulthandler.is_enabled()
    try:
        raise ValueError("a job failed")
    except ValueError:
        logging.getLogger("desktop_app.workers").exception("job failed")
    text = crash_log.wanted.read_text()
    assert "job failed" in text and "ValueError: a job failed" in text


def test_uninstall_puts_every_hook_back(tmp_path: Path) -> None:
    before = (sys.excepthook, len(logging.getLogger().handlers))
    crashes = CrashLog(tmp_path / LOG_NAME)
    crashes.install()
    assert sys.excepthook != before[0]
    crashes.uninstall()
    assert (sys.excepthook, len(logging.getLogger().handlers)) == before


@pytest.mark.parametrize("blocked", ["file", "too long"])
def test_a_log_folder_that_cannot_be_written_does_not_stop_the_app(
    tmp_path: Path, capsys: pytest.CaptureFixture, blocked: str
) -> None:
    if blocked == "file":
        folder = tmp_path / "log"
        folder.write_text("a file, not a folder")
    else:
        folder = tmp_path / ("l" * 300)
    crashes = CrashLog(folder / LOG_NAME)
    crashes.install()
    try:
        assert crashes.path is None
        crashes.write("a test entry", "kept on stderr")
    finally:
        crashes.uninstall()
    err = capsys.readouterr().err
    assert f"no crash log at {folder / LOG_NAME}" in err and "Traceback" not in err
    assert "kept on stderr" in err


def test_a_log_past_its_size_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / LOG_NAME
    path.write_text("x" * (MAX_BYTES + 1))
    crashes = CrashLog(path)
    crashes.install()
    crashes.uninstall()
    assert path.with_name(LOG_NAME + ".1").stat().st_size == MAX_BYTES + 1
    assert path.stat().st_size == 0
