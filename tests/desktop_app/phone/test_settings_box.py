"""The AI Hub token: typed masked, stored where qai-hub reads it (0600), never shown again."""

from __future__ import annotations

import stat
from pathlib import Path

from PySide6.QtWidgets import QLineEdit

from desktop_app.phone.context import WizardContext
from desktop_app.phone.settings_box import PhoneSettings
from desktop_app.workers import JobRunner

TOKEN = "abc123SECRETtoken"


def test_token_is_stored_privately_and_never_shown(qtbot, tmp_path: Path, monkeypatch):
    ini = tmp_path / "qai" / "client.ini"
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(ini))
    ctx = WizardContext(JobRunner(), folder=tmp_path / "wizard")
    box = PhoneSettings(ctx)
    qtbot.addWidget(box)
    assert box.token.echoMode() == QLineEdit.EchoMode.Password
    assert "No token" in box.token_state.text()
    box.token.setText("has a space")
    box.save_button.click()
    assert not ini.exists() and "not an AI Hub API token" in box.token_state.text()
    box.token.setText(TOKEN)
    box.save_button.click()
    assert box.token.text() == "" and TOKEN not in box.token_state.text()
    assert "A token is stored" in box.token_state.text()
    assert TOKEN in ini.read_text() and stat.S_IMODE(ini.stat().st_mode) == 0o600
    box.adb.setText("/opt/android/adb")
    box.adb.editingFinished.emit()
    assert ctx.state.adb == "/opt/android/adb"
    assert TOKEN not in (tmp_path / "wizard" / "wizard.json").read_text()
