"""Time and latency estimates (issue 21.6): Compare has one and records what it took, the
Search bar shows the time left mid-search, a rough NPU latency is shown as its range, and
Compare's empty view names what the page has."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.phone.context import WizardContext
from desktop_app.phone.export_words import latency_text, report_html
from desktop_app.phone.jobs import WizardSetup, placements_job, point_job
from desktop_app.phone.step_compare import CompareStep, bench_seconds
from desktop_app.phone.step_search import SearchStep
from desktop_app.widgets.eta import Eta
from desktop_app.workers import JobRunner
from engine.events import Progress
from engine.models.mfa import MFAConfig
from engine.models.registry import MEASURED_SECONDS
from engine.nas.evolution import CandidateScored, Scored

WAIT_MS = 60_000
GPU = {"ms": 14.75, "low_ms": 14.1, "high_ms": 15.464,
       "basis": "Snapdragon 865 GPU: per-op roofline, band = worst error 4.6%"}  # fmt: skip
NPU = {"ms": 17.337, "low_ms": 12.876, "high_ms": 26.527,
       "basis": "Snapdragon 865 NPU: power law; rough, confirm with AI Hub"}  # fmt: skip


def _context(tmp_path: Path, setup: WizardSetup | None = None) -> WizardContext:
    return WizardContext(JobRunner(), setup or WizardSetup(), tmp_path / "wizard")


def test_search_shows_the_time_left_mid_search(qtbot, tmp_path: Path) -> None:
    step = SearchStep(_context(tmp_path))
    qtbot.addWidget(step)
    now = [100.0]
    step.panel._eta = Eta(clock=lambda: now[0])
    config = MFAConfig.decode("b2-c16-g8-h11-conv-x4")
    total = 25
    for index in range(17):  # 68 %
        scored = Scored(config=config, latency_ms=5.0, fidelity=30.0, index=index,
                        seconds=float(index))  # fmt: skip
        step._on_event(CandidateScored(search="evolution", candidate=scored, total=total))
        step._on_event(Progress(stage="evolution search", done=index + 1, total=total))
        now[0] += 2.0
    assert step.panel.text.text() == f"Scored 17 of {total} candidates"
    left = step.panel.left.text()
    assert left.startswith("about ") and left.endswith(" left"), left


def test_compare_has_an_estimate_and_records_its_time(qtbot, tmp_path: Path) -> None:
    side = WizardSetup().compare_side
    # The teacher, the slowest timed student and bicubic, scaled from the bench's 512x512 photo.
    bench = MEASURED_SECONDS["realesrgan-x4plus"] + MEASURED_SECONDS["bicubic"]
    bench += max(s for key, s in MEASURED_SECONDS.items() if key.startswith("mfa "))
    assert bench_seconds("realesrgan-x4plus", "", side) == pytest.approx(bench * side**2 / 512**2)
    step = CompareStep(_context(tmp_path))
    qtbot.addWidget(step)
    assert step.estimate.text().startswith("About ") and "teacher" in step.estimate.text()
    fast = _context(tmp_path / "fast", WizardSetup(teacher="bicubic", compare_side=24))
    fast.update(model_name="bicubic", compare_s=30.0)
    step = CompareStep(fast)
    qtbot.addWidget(step)
    assert step.estimate.text() == "About 30 s on this computer (the last compare took that long)."
    ended: list[str] = []
    step.panel.ended.connect(ended.append)
    step.run_button.click()
    assert step.panel.left.text().startswith("about ")  # the time left, from the start
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    assert ended == ["finished"]
    assert fast.state.compare_s is not None and fast.state.compare_s < 30.0
    assert "the last compare took" in step.estimate.text()


def test_compare_empty_view_names_what_the_page_has(qtbot, tmp_path: Path) -> None:
    step = CompareStep(_context(tmp_path))
    qtbot.addWidget(step)
    hint = step.compare.view.placeholder
    assert "Open" not in hint and "Paste" not in hint and "Drop" not in hint
    assert step.run_button.text() in hint


def test_a_rough_latency_is_shown_as_its_range() -> None:
    assert latency_text(NPU) == "13–27 ms (rough)"
    assert latency_text(GPU) == "14.75 ms (14.10–15.46)"
    html = report_html({"predicted_latency": {"gpu": GPU, "npu": NPU}})
    assert "13–27 ms (rough)" in html and "17.34" not in html


def test_steps_two_and_three_say_a_rough_npu_latency_is_rough() -> None:
    from engine.events import CancelToken

    config = "b2-c16-g8-h11-conv-x4"
    npu, gpu = (
        list(point_job(config, "snapdragon-865", unit, None, 128, 30.0, CancelToken()))[-1].result
        for unit in ("npu", "gpu")
    )
    assert npu.rough and not gpu.rough and npu.low_ms <= npu.ms < npu.high_ms
    placed = list(placements_job("snapdragon-865", "npu", None, 128, CancelToken()))[-1].result
    student = next(p for p in placed if p.title.startswith("Fast (MFAGAN"))
    assert "rough range" in student.note and " ms" in student.note
