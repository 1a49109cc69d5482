"""Export (advanced) ticks the file the target runs, by the wizard export step's rule: an
8-bit (w8a8) target got "TFLite (float)" there, the advanced target naming no precision."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.state import WizardState, save_state
from desktop_app.phone.step_export import formats_for
from desktop_app.workers import JobRunner
from engine.export import tflite

WAIT_MS = 60_000
HAS_TFLITE = tflite.missing_reason() is None


def ticked(export) -> list[str]:
    return [key for key, box in export.checks.items() if box.isChecked()]


def page_for(qtbot, tmp_path: Path, wizard: WizardState, advanced: WizardState | None = None):
    from desktop_app.phone.page import PhonePage

    folder = tmp_path / "wizard"
    save_state(wizard, folder)
    if advanced is not None:
        save_state(advanced, folder / "advanced")
    runner = JobRunner()
    page = PhonePage(runner, WizardSetup(), folder)
    qtbot.addWidget(page)
    return page, runner


@pytest.fixture(autouse=True)
def no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(tmp_path / "qai" / "client.ini"))


def test_the_advanced_export_ticks_what_the_wizards_target_runs(qtbot, tmp_path: Path) -> None:
    wizard = WizardState(device="snapdragon-865", unit="gpu", precision="w8a8", budget_ms=21.0)
    page, runner = page_for(qtbot, tmp_path, wizard)
    export = page.export_page
    # The wizard's own export step and the advanced one tick the same file: the 8-bit one.
    eight_bit = list(formats_for("gpu", "w8a8", tflite=HAS_TFLITE))
    assert eight_bit == (["tflite-int8"] if HAS_TFLITE else ["onnx-int8"])
    assert ticked(export) == eight_bit == ticked(page.wizard.export)
    # The wizard's phone changes to one whose NPU runs float: the advanced page follows.
    page.ctx.update(device="galaxy-s24", unit="npu", precision="float")
    assert page.advanced_ctx.state.precision == "float"
    assert ticked(export) == ["tflite" if HAS_TFLITE else "onnx"]
    assert "Samsung Galaxy S24" in export.target.text() and "16-bit" in export.target.text()
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)


def test_a_target_without_a_precision_ticks_the_8_bit_file(qtbot, tmp_path: Path) -> None:
    """Saved before the advanced page kept a precision: the engine runs such a target at the
    profile's first precision (w8a8), so that file is the default, not the float one."""
    from desktop_app.phone.context import WizardContext
    from desktop_app.phone.step_export import ExportStep

    folder = tmp_path / "advanced"
    save_state(WizardState(device="snapdragon-865", unit="gpu", precision=None), folder)
    ctx = WizardContext(JobRunner(), WizardSetup(), folder)
    export = ExportStep(ctx, standalone=True)
    qtbot.addWidget(export)
    assert ticked(export) == (["tflite-int8"] if HAS_TFLITE else ["onnx-int8"])
    assert "8-bit numbers" in export.target.text()
    # The user's own ticks stay while the target does; a new target ticks its own file.
    export.checks["onnx"].setChecked(True)
    ctx.update(tile=64)
    assert export.checks["onnx"].isChecked()
    ctx.update(device="galaxy-s24", unit="npu", precision="float")
    assert ticked(export) == (["tflite"] if HAS_TFLITE else ["onnx"])
