"""The Phone tab shows phones, units, known networks and models in words, not in the ids the
engine keys them by ("GPU w8a8 of snapdragon-865", "SESR-M5 (uncollapsed)", "Unit: gpu",
"Fast (MFAGAN) (mfagan)"); the ids stay in the tooltips."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.phone.context import WizardContext
from desktop_app.phone.jobs import WizardSetup, placements_job
from desktop_app.phone.state import WizardState, save_state
from desktop_app.workers import JobRunner
from engine.events import CancelToken

WAIT_MS = 60_000
# What the engine calls things: none of it may be the text a person reads.
IDS = ("snapdragon-865", "w8a8", "w8a16", "uncollapsed", "RRDBNet", "SRVGGNetCompact",
       "x4plus", "x4v3", "(mfagan)", "--", "subnet", "PSNR", "None")  # fmt: skip
TECHNICAL = {"SESR-M5": "SESR-M5 (uncollapsed)", "Best quality": "RRDBNet 23 blocks"}


def plain(text: str) -> bool:
    return not any(code in text for code in IDS) and " gpu" not in text and " npu" not in text


@pytest.fixture
def no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(tmp_path / "qai" / "client.ini"))


def context(tmp_path: Path, **state) -> WizardContext:
    folder = tmp_path / "wizard"
    folder.mkdir(parents=True, exist_ok=True)
    save_state(WizardState(**state), folder)
    return WizardContext(JobRunner(), WizardSetup(), folder)


@pytest.mark.parametrize("unit", ["gpu", "npu"])
def test_known_networks_are_named_for_what_they_are(unit: str) -> None:
    placed = list(placements_job("snapdragon-865", unit, "w8a8", 128, CancelToken()))[-1].result
    for p in placed:
        assert plain(p.title), p.title
    by_name = {p.title.split(",")[0]: p for p in placed}
    sesr = by_name["SESR-M5"]
    assert sesr.title == "SESR-M5, a published small upscaler"
    assert "SESR-M5 (uncollapsed)" in sesr.details and "sesr_m5" in sesr.details
    if unit == "gpu":  # the teacher is too big for the NPU's measurements
        teacher = by_name["Real-ESRGAN (Best quality)"]
        assert "RRDBNet 23 blocks" in teacher.details and "16,700,000" in teacher.details


def test_the_goal_says_the_phone_and_unit_in_words(qtbot, tmp_path: Path) -> None:
    from desktop_app.phone.step_goal import GoalStep

    ctx = context(tmp_path, device="snapdragon-865", unit="gpu", precision="w8a8")
    step = GoalStep(ctx)
    qtbot.addWidget(step)
    text = step.arithmetic.text()
    assert "for Snapdragon 865, on its graphics chip (GPU), 8-bit numbers" in text, text
    assert plain(text), text
    assert step.arithmetic.toolTip() == "snapdragon-865, GPU, w8a8"
    qtbot.waitUntil(lambda: step.table.rowCount() > 3 and not step.panel.running, timeout=WAIT_MS)
    names = [step.table.item(row, 0) for row in range(step.table.rowCount())]
    for item in names:
        assert plain(item.text()), item.text()
    tips = {item.text(): item.toolTip() for item in names}
    sesr = next(name for name in tips if name.startswith("SESR-M5"))
    assert "SESR-M5 (uncollapsed)" in tips[sesr]  # the technical name, for those who know it


def test_a_target_without_a_precision_says_the_one_it_runs(qtbot, tmp_path: Path) -> None:
    """The advanced Search's older state names no precision: the words said "None"."""
    from desktop_app.phone.step_search import SearchStep

    ctx = context(tmp_path, device="snapdragon-865", unit="npu", precision=None, budget_ms=9.0)
    step = SearchStep(ctx)
    qtbot.addWidget(step)
    text = step.target.text()
    assert "<b>Snapdragon 865, on its AI engine (NPU), 8-bit numbers</b>" in text, text
    assert plain(text), text
    assert "snapdragon-865, NPU, w8a8" in step.target.toolTip()


def test_the_advanced_pages_show_words_and_keep_ids(qtbot, tmp_path: Path, no_token) -> None:
    from desktop_app.phone.page import PhonePage
    from desktop_app.phone.step_export import AIHUB_OFF

    runner = JobRunner()
    page = PhonePage(runner, WizardSetup(), tmp_path / "wizard")
    qtbot.addWidget(page)
    target = page.target
    phones = [target.device.itemText(i) for i in range(target.device.count())]
    assert "Snapdragon 865" in phones and all(plain(p) for p in phones), phones
    units = [target.unit.itemText(i) for i in range(target.unit.count())]
    assert units == ["Graphics chip (GPU), 8-bit numbers", "AI engine (NPU), 8-bit numbers"]
    assert target.unit.itemData(1, Qt.ItemDataRole.ToolTipRole) == "NPU, w8a8"
    # A phone measured on its NPU only offers what it was measured on, kept by its ids.
    target.device.setCurrentIndex(target.device.findData("galaxy-s24"))
    pairs = [target.unit.itemData(i) for i in range(target.unit.count())]
    assert pairs == [("npu", "w8a8"), ("npu", "float")]
    state = page.advanced_ctx.state
    assert (state.device, state.unit, state.precision) == ("galaxy-s24", "npu", "w8a8")
    export = page.export_page
    models = [export.model.itemText(i) for i in range(export.model.count())]
    assert "Fast (MFAGAN)" in models and all(plain(m) for m in models), models
    index = export.model.findData("mfagan")
    assert export.model.itemData(index, Qt.ItemDataRole.ToolTipRole) == "File name: mfagan"
    assert plain(export.target.text()) and "Samsung Galaxy S24" in export.target.text()
    for box in export.checks.values():
        assert plain(box.text()), box.text()
    # The AI Hub box is off and the page says why, not its tooltip alone.
    assert not export.aihub.isEnabled()
    assert export.aihub_why.text() == AIHUB_OFF and "token" in AIHUB_OFF
    assert export.aihub_why.isVisibleTo(page.export_page)
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)


def test_the_export_report_says_units_and_precisions_in_words() -> None:
    from desktop_app.phone.export_words import report_html

    card = {
        "files": [{"file": "m-int8.tflite", "precision": "int8"},
                  {"file": "m.onnx", "precision": "float32"}],
        "predicted_latency": {"gpu": {"ms": 14.75}},
        "measured_latency": {"device": "Samsung Galaxy Tab S7", "inference_ms": 15.0,
                             "compute_unit": "gpu", "off_unit_layers": ["conv_3"]},
    }  # fmt: skip
    html = report_html(card)
    assert "m-int8.tflite (8-bit)" in html and "m.onnx (full precision)" in html
    assert "predicted, graphics chip (GPU)" in html
    assert "Layers that did not run on the graphics chip (GPU)</b>: 1" in html
    assert "(int8)" not in html and "predicted GPU" not in html


def test_the_exports_strip_and_status_line_say_what_it_does(qtbot, tmp_path: Path) -> None:
    """The engine's stages and notices are the command line's ("Convert (litert-torch
    (int8))", "max |diff| vs torch"): the export step says them in words."""
    from desktop_app.phone.step_export import ExportStep
    from engine.events import Notice, Progress

    ctx = context(tmp_path, device="snapdragon-865", unit="gpu", precision="w8a8")
    export = ExportStep(ctx, standalone=True)
    qtbot.addWidget(export)
    said: list[str] = []
    ctx.status.connect(said.append)
    shown = {}
    events = [
        ("prepare", "validation crops"), ("export", "tflite-int8"),
        ("quantize", "minmax, float kept: none"), ("convert", "litert-torch (int8)"),
        ("export", "aihub"), ("AI Hub", "inference on the phone"), ("export", "model card"),
    ]  # fmt: skip
    for stage, message in events:
        export._on_event(Progress(stage=stage, done=0, total=2, message=message))
        shown[(stage, message)] = export.panel.text.text()
    assert shown[("export", "tflite-int8")] == "Writing: TFLite, 8-bit"
    assert shown[("quantize", "minmax, float kept: none")] == "Converting to 8-bit numbers"
    assert shown[("export", "aihub")] == "Compiling and profiling on AI Hub"
    raw = ("validation crops", "tflite-int8", "minmax", "litert", "inference", "aihub")
    for text in shown.values():
        assert plain(text) and not any(code in text for code in raw), text
    for message in (
        "tiny-128-int8.tflite: 0.12 MB in 1.0 s, max |diff| vs torch 0.0012, "
        "PSNR-Y vs float 41.20 dB, vs teacher 27.10 dB",
        "AI Hub output vs local: 38.5 dB PSNR-Y",
        "AI Hub: layer conv_3 did not run on the GPU",
    ):
        export._on_event(Notice(message=message))
    assert said[0] == "Wrote tiny-128-int8.tflite (0.12 MB in 1.0 s)"
    assert said[1] == "AI Hub's result against this computer's: 38.5 dB (higher is closer)"
    assert said[2] == "AI Hub: layer conv_3 did not run on the graphics chip (GPU)"
    assert all(plain(line) and "diff" not in line for line in said), said


def test_the_searchs_stages_are_in_words(qtbot, tmp_path: Path) -> None:
    from desktop_app.phone.step_search import SearchStep
    from engine.events import Progress

    ctx = context(tmp_path, device="snapdragon-865", unit="gpu", precision="w8a8", budget_ms=9.0)
    step = SearchStep(ctx)
    qtbot.addWidget(step)
    step._on_event(Progress(stage="timing subnets on this computer", done=1, total=6))
    assert step.panel.text.text() == "Timing a few designs on this computer"
    step._on_event(Progress(stage="teacher on validation photos", done=1, total=4))
    assert plain(step.panel.text.text()) and "Best quality" in step.panel.text.text()
