"""The advanced panel's Search and Export pages work on an existing model."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.phone.page import PhonePage
from desktop_app.workers import JobRunner
from engine.distill.export import save_student
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.registry import user_models_dir

WAIT_MS = 120_000
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_search_places_an_existing_model_and_export_bundles_it(qtbot, setup, tmp_path: Path):
    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(True, False))
    save_student(folder / "tiny.safetensors", MFAGenerator(config, seed=3))
    page = PhonePage(JobRunner(), setup, tmp_path / "wizard")
    qtbot.addWidget(page)
    page.show()
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
