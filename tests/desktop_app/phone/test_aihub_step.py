"""Step 1's AI Hub part (issue 21.5): a token saved under Settings shows at once, and with no
network "List AI Hub devices" says so quickly, in one whole line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from desktop_app.phone.context import WizardContext
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.settings_box import PhoneSettings
from desktop_app.phone.step_phone import NO_TOKEN, PhoneStep
from desktop_app.workers import JobRunner

WAIT_MS = 60_000
TOKEN = "abc123SECRETtoken"


@pytest.fixture
def step_and_settings(qtbot, tmp_path: Path, monkeypatch) -> tuple[PhoneStep, PhoneSettings]:
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(tmp_path / "qai" / "client.ini"))
    ctx = WizardContext(JobRunner(), WizardSetup(), tmp_path / "wizard")
    step, settings = PhoneStep(ctx), PhoneSettings(ctx)
    qtbot.addWidget(step)
    qtbot.addWidget(settings)
    qtbot.waitUntil(lambda: step.list.count() > 0, timeout=WAIT_MS)
    return step, settings


def _save_token(settings: PhoneSettings) -> None:
    settings.token.setText(TOKEN)
    settings.save_button.click()


def test_saving_a_token_updates_step_one(step_and_settings) -> None:
    step, settings = step_and_settings
    assert step.hub_note.text() == NO_TOKEN and not step.hub_button.isEnabled()
    _save_token(settings)
    assert step.hub_button.isEnabled()
    assert "No AI Hub token" not in step.hub_note.text()
    assert "token is saved" in step.hub_note.text()


def test_no_network_shows_the_whole_line_where_the_list_goes(
    qtbot, step_and_settings, monkeypatch
) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)

    def no_name_lookup(*_args: object, **_kwargs: object) -> socket.socket:
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "create_connection", no_name_lookup)
    step, settings = step_and_settings
    _save_token(settings)
    outcome: list[str] = []
    step.panel.ended.connect(outcome.append)
    step.hub_button.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["failed"]
    note = step.hub_note.text()
    assert note.startswith("Could not list AI Hub devices: cannot reach AI Hub at ")
    assert note.endswith(
        ":443 (Temporary failure in name resolution); check the network connection and try again"
    )
    assert step.hub_note.wordWrap()  # the whole line shows, wrapped, never elided
    assert "Internal API failure" not in note and step.hub_list.count() == 0
