"""Cancel on the search step: the step is usable again at once, nothing of the stopped search
is left on disk or on the plot to be chosen, a finished search from before comes back
unharmed, and the strip says so; the wizard's Next stays off while a search runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_app.phone import jobs
from desktop_app.phone.context import WizardContext
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.step_search import LOST, SearchStep, cancelled_words
from desktop_app.phone.wizard import PhoneWizard
from desktop_app.workers import JobRunner
from engine.errors import MfaganError
from engine.nas.evolution import CandidateScored

WAIT_MS = 120_000
pytestmark = pytest.mark.usefixtures("one_torch_thread")


class HeldSearch:
    """The real search job, held in its worker after ``after`` scored candidates until
    ``release``-d: it is surely still running while the test looks, and a cancel made
    meanwhile stops it with exactly that many scored. ``error``: raised on release instead."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.after = 0
        self.error: Exception | None = None
        self.release = threading.Event()
        real = jobs.search_job

        def held(request, folder, cancel) -> Iterator[object]:
            if self.after == 0:
                self._hold(cancel)
            scored = 0
            for event in real(request, folder, cancel):
                yield event
                scored += isinstance(event, CandidateScored)
                if isinstance(event, CandidateScored) and scored == self.after:
                    self._hold(cancel)

        monkeypatch.setattr(jobs, "search_job", held)

    def _hold(self, cancel) -> None:
        self.release.wait(WAIT_MS / 1000)
        cancel.raise_if_cancelled()
        if self.error is not None:
            raise self.error

    def arm(self, after: int, error: Exception | None = None) -> None:
        self.after, self.error = after, error
        self.release.clear()


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldSearch]:
    hold = HeldSearch(monkeypatch)
    yield hold
    hold.release.set()  # a failed test leaves no worker waiting


def _target(ctx: WizardContext, **more: object) -> None:
    # 64 x 64 video frames at 5 fps in 32-px tiles: 9 tiles, 22.2 ms each
    ctx.update(device="snapdragon-865", unit="gpu", tile=32, budget_ms=22.222, **more)


def _step(qtbot, setup: WizardSetup, folder: Path) -> SearchStep:
    ctx = WizardContext(JobRunner(), setup, folder)
    _target(ctx)
    step = SearchStep(ctx)
    qtbot.addWidget(step)
    step.resize(700, 500)
    step.show()
    return step


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
    scored: list[int] = []  # as it stopped: a candidate may come between click and stop
    step.panel.job.signals.cancelled.connect(lambda _: scored.append(len(step.configs)))
    qtbot.waitUntil(lambda: len(step.plot.points) >= 1 or bool(ended), timeout=WAIT_MS)
    assert not ended, step.panel.text.text()
    _click_first_point(qtbot, step)  # mid-search: no pick (the search picks when it ends)
    assert step.plot.picked is None and step.ctx.state.chosen == chosen
    step.panel.cancel.click()
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    assert ended == ["cancelled"] and scored[0] >= 1
    assert step.panel.text.text() == cancelled_words(scored[0], earlier=bool(chosen))
    assert step.start_button.isEnabled() and not step.panel.running


def test_cancel_leaves_the_step_usable_and_nothing_half_written(
    qtbot, setup: WizardSetup, tmp_path: Path
) -> None:
    step = _step(qtbot, setup, tmp_path / "wizard")
    ctx = step.ctx
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


def _cancel_held(qtbot, step: SearchStep, held: HeldSearch, after: int) -> None:
    held.arm(after)
    ended: list[str] = []
    step.panel.ended.connect(ended.append)
    step.start_button.click()
    qtbot.waitUntil(lambda: len(step.plot.points) == after, timeout=WAIT_MS)
    step.panel.cancel.click()
    held.release.set()
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    step.panel.ended.disconnect(ended.append)
    assert ended == ["cancelled"] and not step.panel.running


def test_a_cancelled_search_says_what_it_left(
    qtbot, setup: WizardSetup, tmp_path: Path, held: HeldSearch
) -> None:
    """Not just "Cancelled.": how many designs went, and what the user may do now."""
    step = _step(qtbot, setup, tmp_path / "wizard")
    strip = step.panel.text

    _cancel_held(qtbot, step, held, after=0)
    assert strip.text() == (
        "Search cancelled before it had scored any design, so there is nothing to choose "
        "yet. Click Search to search again."
    )
    _cancel_held(qtbot, step, held, after=1)
    assert strip.text() == (
        "Search cancelled: the 1 design it had scored was not kept, so there is nothing to "
        "choose yet. Click Search to search again."
    )
    assert step.plot.points == [] and step.ctx.state.chosen == ""

    held.arm(after=1)
    held.release.set()
    finished: list[str] = []
    step.panel.ended.connect(finished.append)
    step.start_button.click()
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert finished == ["finished"]
    points, chosen = list(step.plot.points), step.ctx.state.chosen

    _cancel_held(qtbot, step, held, after=2)
    assert strip.text() == (
        "Search cancelled: the 2 designs it had scored were not kept. The chart shows the "
        "last finished search again: choose one of its designs, or click Search to search "
        "again."
    )
    # What it says is what is there: the finished search's points, its design chosen.
    assert step.plot.points == points and step.configs[step.plot.picked] == chosen
    assert step.plot.pickable


def test_next_is_off_while_a_search_runs(
    qtbot, setup: WizardSetup, tmp_path: Path, held: HeldSearch
) -> None:
    ctx = WizardContext(JobRunner(), setup, tmp_path / "wizard")
    # The goal step works the budget out again from its own fields: the same 22.2 ms.
    _target(ctx, step=2, goal="video", video_width=64, video_height=64, fps=5.0)
    wizard = PhoneWizard(ctx)
    assert ctx.state.budget_ms == pytest.approx(22.222)
    qtbot.addWidget(wizard)
    wizard.resize(1000, 700)
    wizard.show()
    step, fine_tune = wizard.search, wizard.step_list.item(3)
    assert wizard.stack.currentIndex() == 2 and not wizard.next.isEnabled()  # nothing chosen
    outcomes: list[str] = []
    step.panel.ended.connect(outcomes.append)

    def search(after: int, ends: str, error: Exception | None = None) -> None:
        outcomes.clear()
        held.arm(after, error)
        step.start_button.click()
        assert not wizard.next.isEnabled()
        qtbot.waitUntil(lambda: len(step.plot.points) == after or bool(outcomes), timeout=WAIT_MS)
        assert not outcomes, step.panel.text.text()
        # Still running (held): Next, and the later steps in the list, stay shut.
        assert step.panel.running and not wizard.next.isEnabled()
        assert not fine_tune.flags() & Qt.ItemFlag.ItemIsEnabled
        wizard.next.click()
        wizard.step_list.setCurrentRow(3)
        assert wizard.stack.currentIndex() == 2
        if ends == "cancelled":
            step.panel.cancel.click()
        held.release.set()
        qtbot.waitUntil(lambda: bool(outcomes), timeout=WAIT_MS)
        assert outcomes == [ends]

    # Ends: Next comes on with the search's pick.
    search(after=1, ends="finished")
    assert ctx.state.chosen and wizard.next.isEnabled()
    assert fine_tune.flags() & Qt.ItemFlag.ItemIsEnabled
    # Cancelled, then failed: the finished search's pick is back, and so is Next.
    search(after=1, ends="cancelled")
    assert wizard.next.isEnabled() and ctx.state.chosen
    search(after=2, ends="failed", error=MfaganError("the photos folder went away"))
    assert wizard.next.isEnabled() and "the photos folder went away" in step.panel.text.text()
    wizard.next.click()
    assert wizard.stack.currentIndex() == 3
