"""Issue 19: a fine-tune run folder the file system cannot take (a name too long, a file
in the way) is one line in the step, never an OSError out of a Qt slot."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.phone.context import WizardContext
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.step_finetune import FinetuneStep
from desktop_app.workers import JobRunner

CONFIG = "b2-c16-g8-h11-conv-x4"


@pytest.mark.parametrize("case", ["name too long", "a file in the way"])
def test_an_unusable_run_folder_is_one_line_in_the_step(case, qtbot, tmp_path: Path):
    wizard = tmp_path / "wizard"
    wizard.mkdir()
    if case == "name too long":  # a config encoding longer than a file name may be
        chosen, reason = "b2-" * 100 + "x4", "name too long for the file system"
    else:
        chosen, reason = CONFIG, f"{wizard / 'finetune'} is a file, not a folder"
        (wizard / "finetune").write_text("not a folder")
    ctx = WizardContext(JobRunner(), WizardSetup(), wizard)
    step = FinetuneStep(ctx)
    qtbot.addWidget(step)
    ctx.update(chosen=chosen)  # refresh, as a slot
    line = step.result.text()
    assert line.startswith("Cannot create the folder ") and reason in line and "\n" not in line
    assert not step.start_button.isEnabled()
    step.start()  # as a click would, were it enabled: refused in the same line
    assert not step.panel.running
    assert step.panel.text.text() == f"Cannot start: {line[:1].lower()}{line[1:]}"
    step.reload()
    step._ended("failed")
    if case == "a file in the way":
        assert (wizard / "finetune").read_text() == "not a folder"


def test_a_wizard_folder_that_cannot_be_written_keeps_the_wizard_going(qtbot, tmp_path: Path):
    wizard = tmp_path / "wizard"
    wizard.write_text("a file where the wizard's folder goes")
    ctx = WizardContext(JobRunner(), WizardSetup(), wizard)
    lines: list[str] = []
    ctx.status.connect(lines.append)
    with qtbot.waitSignal(ctx.changed):
        ctx.update(chosen=CONFIG)  # as a step's slot would: must not raise
    assert ctx.state.chosen == CONFIG
    assert len(lines) == 1 and lines[0].startswith("Progress not saved: ")
    assert str(wizard) in lines[0] and "is a file, not a folder" in lines[0]
    assert "\n" not in lines[0]
    assert wizard.read_text() == "a file where the wizard's folder goes"


def test_each_slot_looks_at_the_run_folder_once(qtbot, tmp_path: Path, monkeypatch):
    """A look is a few stats of a folder that may be on a slow disk: once a slot, and what
    it found is what the step shows."""
    import desktop_app.phone.step_finetune as step_finetune

    wizard = tmp_path / "wizard"
    wizard.mkdir()
    ctx = WizardContext(JobRunner(), WizardSetup(), wizard)
    step = FinetuneStep(ctx)
    qtbot.addWidget(step)
    ctx.update(chosen=CONFIG)
    step.run_folder.mkdir(parents=True)  # a run was here: reload shows it
    looked: list[Path] = []

    def folder_problem(folder: Path) -> str | None:
        looked.append(folder)
        return None

    monkeypatch.setattr(step_finetune, "folder_problem", folder_problem)
    for slot in (step.refresh, lambda: step._ended(""), step.reload):
        looked.clear()
        slot()
        assert looked == [step.run_folder]
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10_000)  # the run views read
