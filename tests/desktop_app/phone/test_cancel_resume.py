"""Cancel at each long step leaves nothing half-written and the step starts (or resumes)
again."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.phone.page import PhonePage
from desktop_app.phone.state import WizardState, load_state, save_state
from desktop_app.workers import JobRunner
from engine.distill.checkpoint import CHECKPOINT_NAME

WAIT_MS = 120_000
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _ended(qtbot, panel) -> list[str]:
    outcome: list[str] = []
    panel.ended.connect(outcome.append)
    return outcome


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if ".part-" in p.name or p.suffix == ".tmp"]


def test_cancel_search_finetune_export_then_resume(qtbot, setup, tmp_path: Path):
    folder = tmp_path / "wizard"
    # 64 x 64 video frames at 5 fps in 32-px tiles: 9 tiles, 22.2 ms each
    save_state(WizardState(step=2, device="snapdragon-865", unit="gpu", tile=32, goal="video",
                           video_width=64, video_height=64, fps=5.0, budget_ms=22.222),
               folder)  # fmt: skip
    page = PhonePage(JobRunner(), setup, folder)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.warmed, timeout=WAIT_MS):  # first-use imports, off the jobs
        page.show()
    wizard = page.wizard
    assert wizard.stack.currentIndex() == 2  # reopened at the search

    # Search: cancelled after the first candidate -> no outputs, no pick; then a full run.
    search = wizard.search
    outcome = _ended(qtbot, search.panel)
    search.start_button.click()
    qtbot.waitUntil(lambda: len(search.plot.points) >= 1 or bool(outcome), timeout=WAIT_MS)
    assert not outcome, search.panel.text.text()
    search.panel.cancel.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["cancelled"]
    # Says what the cancel left, once (not "Stopped. Cancelled").
    assert search.panel.text.text().startswith("Search cancelled")
    assert "Stopped" not in search.panel.text.text()
    assert not (folder / "search").exists() and not _leftovers(folder)
    assert load_state(folder).chosen == "" and not wizard.next.isEnabled()
    outcome.clear()
    search.start_button.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["finished"] and (folder / "search" / "search.json").is_file()

    # Fine-tune: cancelled after step 2 -> a checkpoint, no model; Resume finishes it.
    wizard.next.click()
    tune = wizard.finetune
    tune.steps.setValue(6)
    tune.name.setText("resumed-model")
    outcome = _ended(qtbot, tune.panel)
    tune.start_button.click()
    qtbot.waitUntil(lambda: tune.training.plot.steps >= 2, timeout=WAIT_MS)
    tune.panel.cancel.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["cancelled"]
    assert (tune.run_folder / CHECKPOINT_NAME).is_file() and not _leftovers(folder)
    assert load_state(folder).model_name == "" and tune.start_button.text().startswith("Resume")
    outcome.clear()
    tune.start_button.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["finished"] and load_state(folder).model_name == "resumed-model"
    assert tune.training.plot.steps == 6

    # Continue the finished run to more steps (issue 21: refused as "a different config"):
    # only the new steps run and the model stays registered.
    tune.steps.setValue(9)
    assert tune.start_button.text().startswith("Continue")
    outcome.clear()
    tune.start_button.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["finished"], tune.panel.text.text()
    assert load_state(folder).model_name == "resumed-model"
    qtbot.waitUntil(lambda: tune.training.plot.steps == 9, timeout=WAIT_MS)

    # Export: cancelled at its first progress -> no bundle folder, no partial one.
    wizard.go(5)
    export = wizard.export
    outcome = _ended(qtbot, export.panel)
    export.export_button.click()
    export.panel.cancel.click()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["cancelled"]
    assert not (folder / "bundle").exists() and not _leftovers(folder)
