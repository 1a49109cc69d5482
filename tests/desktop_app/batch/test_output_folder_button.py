"""Batch page, "Show output folder": enabled exactly while the folder the field names exists,
followed as the user types, not only once the field loses focus."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.desktop_app.helpers import WAIT_MS


def test_the_button_follows_the_field_as_it_is_typed(qtbot, window, tmp_path: Path) -> None:
    page = window.batch
    window.show_page("batch")
    output = tmp_path / "results"
    output.mkdir()
    page.output_dir.setText("")
    page.output_dir.setFocus()
    qtbot.waitUntil(page.output_dir.hasFocus, timeout=WAIT_MS)
    assert not page.show_output.isEnabled()
    # Typed key by key, the field keeping the focus throughout (no editingFinished).
    finished: list[str] = []
    page.output_dir.editingFinished.connect(lambda: finished.append(page.output_dir.text()))
    qtbot.keyClicks(page.output_dir, str(output))
    qtbot.waitUntil(page.show_output.isEnabled, timeout=WAIT_MS)
    assert page.output_dir.hasFocus() and finished == []
    qtbot.keyClick(page.output_dir, Qt.Key.Key_Backspace)  # ".../result": no such folder
    qtbot.waitUntil(lambda: not page.show_output.isEnabled(), timeout=WAIT_MS)
    qtbot.keyClicks(page.output_dir, "s")
    qtbot.waitUntil(page.show_output.isEnabled, timeout=WAIT_MS)
    assert finished == []


def test_a_file_or_a_cleared_field_leaves_the_button_disabled(
    qtbot, window, tmp_path: Path
) -> None:
    page = window.batch
    window.show_page("batch")
    page.output_dir.setText(str(tmp_path))
    qtbot.waitUntil(page.show_output.isEnabled, timeout=WAIT_MS)
    a_file = tmp_path / "results.png"
    a_file.write_bytes(b"not a folder")
    page.output_dir.setText(str(a_file))
    qtbot.waitUntil(lambda: not page.show_output.isEnabled(), timeout=WAIT_MS)
    page.output_dir.setText(str(tmp_path))
    qtbot.waitUntil(page.show_output.isEnabled, timeout=WAIT_MS)
    page.output_dir.clear()
    qtbot.waitUntil(lambda: not page.show_output.isEnabled(), timeout=WAIT_MS)
