"""Help ▸ About names the version, each model's licence and where settings live; the Batch
page opens its output folder, and only one that exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

import engine
from desktop_app.crash_log import log_path
from tests.desktop_app.helpers import WAIT_MS, save_photo


def test_about_names_version_licences_and_folders(window, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "about", staticmethod(lambda _parent, _title, text: shown.append(text))
    )
    help_menu = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu()
    next(a for a in help_menu.actions() if a.text() == "&About MFAGAN Studio").trigger()
    (text,) = shown
    assert f"MFAGAN Studio {engine.__version__}" in text
    assert "BSD-3-Clause" in text and "Real-ESRGAN" in text  # the teacher's weights
    assert "Best quality (Real-ESRGAN)" in text and "Fast (MFAGAN)" in text
    assert str(window.store.path) in text  # where the settings live
    assert str(log_path()) in text  # where a crash leaves its trace


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", staticmethod(lambda url: urls.append(url.toLocalFile()))
    )
    return urls


def test_batch_show_output_folder(qtbot, window, tmp_path: Path, opened) -> None:
    page = window.batch
    source, output = tmp_path / "in", tmp_path / "out"
    save_photo(source / "a.png")
    page.input_dir.setText(str(source))
    page.output_dir.setText(str(output))
    page.output_dir.editingFinished.emit()
    assert not page.show_output.isEnabled()  # not made yet: nothing to show
    with qtbot.waitSignal(page.batchEnded, timeout=WAIT_MS):
        page.start_button.click()
    assert page.show_output.isEnabled()
    page.show_output.click()
    assert opened == [str(output)]
