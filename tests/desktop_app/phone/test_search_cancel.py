"""Cancel on the search step: the step is usable again at once, nothing of the stopped search
is left on disk or on the plot to be chosen, and a finished search from before comes back
unharmed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_app.phone.context import WizardContext
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.step_search import LOST, SearchStep
from desktop_app.workers import JobRunner

WAIT_MS = 120_000
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if ".part-" in p.name or p.suffix == ".tmp"]


def _click_first_point(qtbot, step: SearchStep) -> None:
    where = step.plot._mapper()(*step.plot.points[0])
    at = QPoint(int(where.x()), int(where.y()))
    qtbot.mouseClick(step.plot, Qt.MouseButton.LeftButton, pos=at)


def _search_cancelled_after_a_candidate(qtbot, step: SearchStep, ended: list[str]) -> None:
    ended.clear()
    chosen = step.ctx.state.chosen
    step.start_button.click()
    qtbot.waitUntil(lambda: len(step.plot.points) >= 1 or bool(ended), timeout=WAIT_MS)
    assert not ended, step.panel.text.text()
    _click_first_point(qtbot, step)  # mid-search: no pick (the search picks when it ends)
    assert step.plot.picked is None and step.ctx.state.chosen == chosen
    step.panel.cancel.click()
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    assert ended == ["cancelled"] and step.panel.text.text() == "Cancelled."
    assert step.start_button.isEnabled() and not step.panel.running


def test_cancel_leaves_the_step_usable_and_nothing_half_written(
    qtbot, setup: WizardSetup, tmp_path: Path
) -> None:
    ctx = WizardContext(JobRunner(), setup, tmp_path / "wizard")
    # 64 x 64 video frames at 5 fps in 32-px tiles: 9 tiles, 22.2 ms each
    ctx.update(device="snapdragon-865", unit="gpu", tile=32, budget_ms=22.222)
    step = SearchStep(ctx)
    qtbot.addWidget(step)
    step.resize(700, 500)
    step.show()
    ended: list[str] = []
    step.panel.ended.connect(ended.append)

    # No search before: the stopped one's candidates go; nothing can be chosen from them.
    _search_cancelled_after_a_candidate(qtbot, step, ended)
    assert step.plot.points == [] and step.configs == []
    assert ctx.state.chosen == "" and ctx.state.search_dir == ""
    assert not (ctx.folder / "search").exists() and not _leftovers(ctx.folder)
    assert not step.lost and step.details.text() != LOST

    # Usable again: the same button runs a search to its end.
    ended.clear()
    step.start_button.click()
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    assert ended == ["finished"]
    before = _files(ctx.folder / "search")
    points, chosen = list(step.plot.points), ctx.state.chosen
    assert "search.json" in before and chosen

    # A finished search before: a stopped one leaves it as it was, on disk and on the plot.
    _search_cancelled_after_a_candidate(qtbot, step, ended)
    assert _files(ctx.folder / "search") == before and not _leftovers(ctx.folder)
    assert step.plot.points == points and ctx.state.chosen == chosen
    assert step.configs[step.plot.picked] == chosen and not step.lost
