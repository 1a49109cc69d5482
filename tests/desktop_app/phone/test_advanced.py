"""The advanced panel's Search and Export pages work on an existing model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.desktop_app.helpers import phone_page_with_tiny_model

WAIT_MS = 120_000
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_search_places_an_existing_model_and_export_bundles_it(qtbot, setup, tmp_path: Path):
    page = phone_page_with_tiny_model(qtbot, setup, tmp_path / "wizard")
    target = page.target
    target.reload_models()
    target.tile.setValue(32)
    target.model.setCurrentIndex(target.model.findData("tiny"))
    qtbot.waitUntil(lambda: bool(page.search.plot.marks), timeout=WAIT_MS)
    title, ms = page.search.plot.marks[0]
    assert "tiny" in title.lower() and ms > 0
    export = page.export_page
    export.reload_models()
    export.model.setCurrentIndex(export.model.findData("tiny"))
    assert "32 x 32 px tiles" in export.target.text()
    for key, box in export.checks.items():  # the quickest file; the target's own is TFLite
        box.setChecked(key == "onnx")
    outcome: list[str] = []
    export.panel.ended.connect(outcome.append)
    export.export_button.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["finished"], export.panel.text.text()
    assert (tmp_path / "wizard" / "advanced" / "bundle" / "tiny-32.onnx").is_file()
    assert export.open_button.isEnabled()
