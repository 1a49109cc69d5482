"""The whole wizard end to end on a tiny supernet, a fake adb and the fake AI Hub: every step
runs its real engine job in a worker, and a reopened wizard is where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDesktopServices

from desktop_app.phone.page import PhonePage
from desktop_app.phone.state import load_state
from desktop_app.workers import JobRunner
from engine.models.registry import get_model, user_models_dir

WAIT_MS = 120_000
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _wait_job(qtbot, panel) -> str:
    outcome: list[str] = []
    panel.ended.connect(outcome.append)
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    return outcome[0]


def _page(qtbot, setup, folder: Path) -> PhonePage:
    page = PhonePage(JobRunner(), setup, folder)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    return page


def test_the_wizard_end_to_end_and_reopened(
    qtbot, setup, fake_adb, tmp_path: Path, hub, monkeypatch
):
    folder = tmp_path / "wizard"
    page = _page(qtbot, setup, folder)
    wizard = page.wizard
    # 1. Phone: profiles with chipset and fit; adb finds the SM8250 phone -> the 865 profile.
    phone = wizard.phone
    qtbot.waitUntil(lambda: phone.list.count() >= 5, timeout=WAIT_MS)
    assert (
        "Snapdragon 865" in phone.list.item(0).text()
        and "speed predicted within" in phone.list.item(0).text()
        and "leave-one-out" not in phone.list.item(0).text()  # the method: in the tooltip
        and "leave-one-out" in phone.list.item(0).toolTip()
    )
    phone.select("galaxy-s24")
    assert page.ctx.state.device == "galaxy-s24" and page.ctx.state.unit == "npu"
    phone.detect_button.click()
    _wait_job(qtbot, phone.panel)
    assert "Pixel Test" in phone.detection.text()
    assert page.ctx.state.device == "snapdragon-865"
    phone.hub_button.click()
    assert _wait_job(qtbot, phone.panel) == "finished"
    assert phone.hub_list.count() > 0
    phone.target.setCurrentIndex(0)  # GPU w8a8
    # 2. Goal: 64x64 video frames at 5 fps in 32-px tiles (small and fast for the test):
    # overlap 16, a tile every 16 px, 3 x 3 tiles -> 200 ms / 9 = 22.22 ms a tile.
    wizard.next.click()
    goal = wizard.goal
    goal.video.setChecked(True)
    goal.tile.setValue(32)
    goal.width_box.setValue(64)
    goal.height_box.setValue(64)
    goal.fps.setValue(5.0)
    assert "3 x 3 = 9 tiles" in goal.arithmetic.text()
    assert page.ctx.state.budget_ms == pytest.approx(200 / 9, abs=0.01)
    qtbot.waitUntil(lambda: goal.table.rowCount() > 3, timeout=WAIT_MS)
    rows = [goal.table.item(r, 0).text() for r in range(goal.table.rowCount())]
    assert any("(Best quality)" in r for r in rows) and any("XLSR" in r for r in rows)
    # 3. Search: the plot fills as candidates are scored; the pick is within budget.
    wizard.next.click()
    search = wizard.search
    search.start_button.click()
    assert _wait_job(qtbot, search.panel) == "finished"
    assert len(search.plot.points) == 12 and search.plot.picked is not None
    picked = search.plot.points[search.plot.picked]
    assert picked[0] <= page.ctx.state.budget_ms
    qtbot.waitUntil(lambda: "GMACs" in search.details.toolTip(), timeout=WAIT_MS)
    assert "GMACs" not in search.details.text() and "PSNR" not in search.details.text()
    # another point, clicked on the plot, becomes the choice and shows its cost
    other = next(i for i in range(12) if i != search.plot.picked)
    where = search.plot._mapper()(*search.plot.points[other])
    qtbot.mouseClick(search.plot, qtbot_left(), pos=QPointF(where).toPoint())
    assert page.ctx.state.chosen == search.configs[search.plot.picked]
    # 4. Fine-tune 4 steps (measure first, for the estimate)
    wizard.next.click()
    tune = wizard.finetune
    tune.measure_button.click()
    assert _wait_job(qtbot, tune.panel) == "finished"
    assert page.ctx.state.step_s and "on this computer" in tune.estimate.text()
    assert not (folder / ".measure").exists()
    tune.steps.setValue(4)
    tune.name.setText("my-phone-model")
    tune.start_button.click()
    assert _wait_job(qtbot, tune.panel) == "finished"
    assert page.ctx.state.model_name == "my-phone-model"
    assert tune.training.plot.steps == 4
    assert get_model("my-phone-model").trained
    card = json.loads((user_models_dir() / "my-phone-model.json").read_text())
    assert card["nas"]["search"]["pick"] == page.ctx.state.chosen
    # 5. Compare: bicubic, the new model and the teacher on the sample photo
    wizard.next.click()
    compare = wizard.compare
    compare.run_button.click()
    assert _wait_job(qtbot, compare.panel) == "finished"
    assert set(compare.comparison.psnr_vs_teacher) == {"Bicubic", "Your phone model"}
    assert compare.compare.view.after is not None and "dB" in compare.scores.text()
    # The pictures carry the model menu's names, not names of their own ("mfagan x4").
    choice = compare.compare.left_choice
    befores = [choice.itemText(i) for i in range(choice.count())]
    assert "Plain enlarge (bicubic, no AI)" in befores
    assert compare.compare.view.labels[1] == "Your phone model: my-phone-model"
    assert "Plain enlarge (bicubic, no AI)" in compare.scores.text()
    # 6. Export: the GPU w8a8 target ticks the TFLite INT8 file it runs (issue 21); here
    # ONNX + INT8 (quicker) and the fake AI Hub: INT8 loss, measured vs predicted, layers
    wizard.next.click()
    export = wizard.export
    assert [k for k, box in export.checks.items() if box.isChecked()] == ["tflite-int8"]
    for key, box in export.checks.items():
        box.setChecked(key in ("onnx", "onnx-int8"))
    assert export.aihub.isEnabled()
    export.aihub.setChecked(True)
    export.export_button.click()
    assert _wait_job(qtbot, export.panel) == "finished", export.panel.text.text()
    html = export.report.toPlainText()
    assert "8-bit (INT8) file loses" in html and "measured on Samsung Galaxy Tab S7" in html
    assert "did not run on the graphics chip (GPU): 3" in html  # the fake: 3 of its 4 on the NPU
    assert export.open_button.isEnabled()
    bundle = folder / "bundle"
    assert export.where.text() == str(bundle)  # the full path, selectable
    assert export.where.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert [c[0] for c in hub.calls][:2] == ["compile", "profile"]
    # Where nothing can open a folder, the page says so instead of nothing happening.
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    export.open_button.click()
    assert "no file manager" in export.panel.text.text()
    # Reopened: same step, same search, same model.
    page.close()
    state = load_state(folder)
    assert state.step == 5 and state.model_name == "my-phone-model"
    again = _page(qtbot, setup, folder)
    assert again.wizard.stack.currentIndex() == 5
    assert len(again.wizard.search.plot.points) == 12
    # ... and the same bundle (issue 21: step 6 was empty, its button greyed).
    assert state.bundle_dir == str(bundle)
    assert again.wizard.export.open_button.isEnabled()
    assert again.wizard.export.where.text() == str(bundle)
    assert "8-bit (INT8) file loses" in again.wizard.export.report.toPlainText()


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
