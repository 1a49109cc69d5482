"""The wizard's own lines (issue 21.8, 21.12): no command-line flag from the engine, one
word for a cancelled job, "1 step" for one step."""

from __future__ import annotations

from pathlib import Path

from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.step_finetune import FinetuneStep
from desktop_app.phone.step_phone import PhoneStep
from desktop_app.workers import JobRunner
from engine.events import Cancelled

WAIT_MS = 60_000


def _context(tmp_path: Path) -> WizardContext:
    return WizardContext(JobRunner(), WizardSetup(), tmp_path / "wizard")


def test_detect_without_adb_names_the_list_not_a_flag(qtbot, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))  # no adb anywhere
    step = PhoneStep(_context(tmp_path))
    qtbot.addWidget(step)
    qtbot.waitUntil(lambda: step.list.count() > 0, timeout=WAIT_MS)
    before = step.detection.text()
    step.detect_button.click()
    qtbot.waitUntil(lambda: step.detection.text() != before, timeout=WAIT_MS)
    text = step.detection.text()
    assert "adb is not installed" in text and "pick the closest profile in the list" in text
    assert "--" not in text


def test_a_cancelled_job_says_cancelled_once(qtbot) -> None:
    panel = JobPanel(JobRunner())
    qtbot.addWidget(panel)
    ended: list[str] = []
    panel.ended.connect(ended.append)

    def stop(message: str):
        def job(_cancel):
            raise Cancelled(message)
            yield

        return job

    panel.run(stop("cancelled"), "Working…", on_finished=lambda _result: None)
    qtbot.waitUntil(lambda: len(ended) == 1, timeout=WAIT_MS)
    assert ended == ["cancelled"] and panel.text.text() == "Cancelled."
    panel.run(
        stop("stopped at step 4; resume with --resume"),
        "Working…",
        on_finished=lambda _result: None,
    )
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=WAIT_MS)
    assert panel.text.text() == "Stopped at step 4; Resume continues from there."


def test_one_step_is_one_step(qtbot, tmp_path: Path) -> None:
    step = FinetuneStep(_context(tmp_path))
    qtbot.addWidget(step)
    step.steps.setValue(1)
    assert step.estimate.text() == "1 step. Measure this computer for a time estimate."
    step.steps.setValue(2)
    assert step.estimate.text().startswith("2 steps.")
