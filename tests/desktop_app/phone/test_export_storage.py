"""Export to a bundle folder that cannot be written (a file in its place, a name too long):
one plain line in the step's strip, no dialog, nothing written, the step usable again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop_app.phone.page import PhonePage
from tests.desktop_app.helpers import phone_page_with_tiny_model

WAIT_MS = 120_000
RAW = ("Traceback", "Errno", "NotADirectoryError", "FileExistsError", "unexpected", "--")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def exported(qtbot, setup, tmp_path: Path, out: Path) -> tuple[str, object, PhonePage]:
    page = phone_page_with_tiny_model(qtbot, setup, tmp_path / "wizard")
    export = page.export_page
    export.reload_models()
    export.model.setCurrentIndex(export.model.findData("tiny"))
    for key, box in export.checks.items():
        box.setChecked(key == "onnx")
    export.out_dir.setText(str(out))
    outcome: list[str] = []
    export.panel.ended.connect(outcome.append)
    export.export_button.click()
    qtbot.waitUntil(lambda: bool(outcome) or not export.panel.running, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not export.panel.running, timeout=WAIT_MS)
    return export.panel.text.text(), export, page


@pytest.mark.parametrize("case", ["file", "too long"])
def test_a_bundle_folder_that_cannot_be_written(
    qtbot, setup, tmp_path: Path, dialogs: list[str], case: str
) -> None:
    if case == "file":
        out = tmp_path / "bundle"
        out.write_text("a file, not a folder")
    else:
        out = tmp_path / ("b" * 300)
    text, export, _page = exported(qtbot, setup, tmp_path, out)
    assert str(out) in text and "\n" not in text, text
    assert not any(raw in text for raw in RAW), text
    assert dialogs == []
    assert export.export_button.isEnabled()
    if case == "file":
        assert out.read_text() == "a file, not a folder"
    else:
        assert not os.path.lexists(out)
