"""Add model file… with a file that is no model: the warning says what the user can do."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from desktop_app.model_names import MODEL_FILE_HINT


def test_a_file_that_is_no_model_gets_a_hint(window, qtbot, tmp_path: Path, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    bad = tmp_path / "not-a-model.safetensors"
    bad.write_bytes(b"these bytes are no safetensors header")
    window.open_model_file(bad, select=True)
    qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
    assert MODEL_FILE_HINT in shown[0] and "not-a-model.safetensors" in shown[0]
