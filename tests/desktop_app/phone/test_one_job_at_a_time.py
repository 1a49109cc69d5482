"""One job at a time on the Phone tab: while a step's job runs, the other steps (and the
advanced pages) start none and keep the choices it was started with; they say which step
runs, and a disabled Next says why it is off.

A new user went back from a running fine-tuning to step 3 and clicked Search: the search
replaced the design being fine-tuned, step 4 greyed out in the list and the chosen design's
box went empty, while the fine-tuning went on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_app.phone import jobs
from desktop_app.phone.context import JobPanel, WizardContext, waiting_words
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.page import ADVANCED_SEARCH, PhonePage
from desktop_app.phone.state import WizardState, save_state
from desktop_app.phone.wizard import NEXT_NEEDS, SEARCH_AGAIN, PhoneWizard
from desktop_app.workers import JobRunner
from engine.errors import MfaganError

WAIT_MS = 120_000
FINE_TUNING = "Fine-tuning (step 4)"
SEARCHING = "The search (step 3)"
pytestmark = pytest.mark.usefixtures("one_torch_thread")
# 64 x 64 video frames at 5 fps in 32-px tiles: 9 tiles, 22.2 ms each (the goal step works
# the same budget out again from its own fields)
TARGET = dict(
    device="snapdragon-865", unit="gpu", tile=32, goal="video", video_width=64,
    video_height=64, fps=5.0, budget_ms=22.222,
)  # fmt: skip


class Held:
    """``jobs.<name>`` held in its worker before its first event until ``release``-d: it is
    surely still running while the test looks. A cancel made meanwhile stops it there;
    ``error`` is raised on release instead of running the real job."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.release = threading.Event()
        self.error: Exception | None = None
        real = getattr(jobs, name)

        def held(*args, **kwargs) -> Iterator[object]:
            cancel = kwargs["cancel"] if "cancel" in kwargs else args[-1]
            self.release.wait(WAIT_MS / 1000)
            cancel.raise_if_cancelled()
            if self.error is not None:
                raise self.error
            yield from real(*args, **kwargs)

        monkeypatch.setattr(jobs, name, held)

    def arm(self, error: Exception | None = None) -> None:
        self.error = error
        self.release.clear()


@pytest.fixture
def hold(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Held]]:
    holds: dict[str, Held] = {}

    def make(name: str) -> Held:
        holds[name] = Held(monkeypatch, name)
        return holds[name]

    yield make
    for held in holds.values():
        held.release.set()  # a failed test leaves no worker waiting


def _ended(panel: JobPanel) -> list[str]:
    outcome: list[str] = []
    panel.ended.connect(outcome.append)
    return outcome


def _wizard(qtbot, setup: WizardSetup, folder: Path) -> PhoneWizard:
    ctx = WizardContext(JobRunner(), setup, folder)
    ctx.update(step=2, **TARGET)
    wizard = PhoneWizard(ctx)
    qtbot.addWidget(wizard)
    wizard.resize(1000, 700)
    wizard.show()
    assert wizard.stack.currentIndex() == 2
    return wizard


def _click_first_point(qtbot, wizard: PhoneWizard) -> None:
    plot = wizard.search.plot
    where = plot._mapper()(*plot.points[0])
    qtbot.mouseClick(plot, Qt.MouseButton.LeftButton, pos=QPoint(int(where.x()), int(where.y())))


def _enabled(item) -> bool:
    return bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)


def test_while_fine_tuning_runs_no_other_step_starts_a_job(
    qtbot, setup: WizardSetup, tmp_path: Path, hold
) -> None:
    held = hold("finetune_job")
    wizard = _wizard(qtbot, setup, tmp_path / "wizard")
    ctx, phone, goal, search = wizard.ctx, wizard.phone, wizard.goal, wizard.search
    tune, compare, export = wizard.finetune, wizard.compare, wizard.export
    # Nothing chosen yet: Next is off and says why.
    assert not wizard.next.isEnabled() and wizard.next.toolTip() == NEXT_NEEDS[2]
    assert wizard.hint.text() == NEXT_NEEDS[2]
    searched = _ended(search.panel)
    search.start_button.click()
    qtbot.waitUntil(lambda: bool(searched), timeout=WAIT_MS)
    assert searched == ["finished"], search.panel.text.text()
    qtbot.waitUntil(lambda: "Predicted" in search.details.text(), timeout=WAIT_MS)
    chosen, details, points = ctx.state.chosen, search.details.text(), list(search.plot.points)
    assert wizard.next.isEnabled() and wizard.next.toolTip() == "" and wizard.hint.text() == ""
    wizard.next.click()
    assert wizard.stack.currentIndex() == 3
    # No model yet: step 5 cannot be reached, and Next says what it waits for.
    assert not wizard.next.isEnabled()
    assert wizard.next.toolTip() == "Fine-tune first: step 5 compares the fine-tuned model."
    assert wizard.hint.text() == wizard.next.toolTip()

    fields = (tune.by_steps, tune.steps, tune.by_time, tune.minutes, tune.photos, tune.browse,
              tune.name)  # fmt: skip
    assert all(field.isEnabled() for field in fields)
    tuned = _ended(tune.panel)
    tune.start_button.click()
    assert tune.panel.running  # held: it runs while the test looks
    # Its own fields hold what it was started with, as the Retrain page's do.
    assert not any(field.isEnabled() for field in fields)
    assert not tune.start_button.isEnabled() and not tune.measure_button.isEnabled()
    assert wizard.back.isEnabled() and not wizard.next.isEnabled()
    assert wizard.next.toolTip() == f"{FINE_TUNING} is running: wait for it to end, or cancel it."
    assert wizard.hint.text() == wizard.next.toolTip()

    # Back to step 3, to look: the design cannot change and no search starts.
    wait = waiting_words(FINE_TUNING)
    assert wait == "Fine-tuning (step 4) is running: wait for it or cancel it there."
    wizard.back.click()
    assert wizard.stack.currentIndex() == 2 and wizard.hint.text() == wait
    assert not search.start_button.isEnabled() and search.start_button.toolTip() == wait
    search.start_button.click()
    assert not search.panel.running
    _click_first_point(qtbot, wizard)
    assert ctx.state.chosen == chosen and not search.plot.pickable
    search.start()  # started from code: refused, and the strip says why
    assert not search.panel.running and search.panel.text.text() == wait
    assert search.plot.points == points and search.details.text() == details
    assert ctx.state.chosen == chosen and _enabled(wizard.step_list.item(3))
    # Step 2: the goal the design was chosen for is locked.
    wizard.back.click()
    assert not goal.goal_box.isEnabled() and goal.goal_box.toolTip() == wait
    # Step 1: the phone, and asking adb or AI Hub.
    wizard.back.click()
    assert wizard.stack.currentIndex() == 0 and wizard.hint.text() == wait
    assert not phone.list.isEnabled() and not phone.target.isEnabled()
    assert not phone.detect_button.isEnabled() and not phone.hub_button.isEnabled()
    assert phone.detect_button.toolTip() == wait
    phone.detect()
    assert not phone.panel.running and phone.panel.text.text() == wait
    # The later steps' buttons say it too.
    assert compare.run_button.toolTip() == wait and export.export_button.toolTip() == wait
    # Back on step 4: still fine-tuning.
    wizard.step_list.setCurrentRow(3)
    assert wizard.stack.currentIndex() == 3 and tune.panel.running and not tuned

    tune.panel.cancel.click()
    held.release.set()
    qtbot.waitUntil(lambda: bool(tuned), timeout=WAIT_MS)
    assert tuned == ["cancelled"]
    assert all(field.isEnabled() for field in fields) and tune.start_button.isEnabled()
    assert search.start_button.isEnabled() and search.start_button.toolTip() == ""
    assert search.plot.pickable and goal.goal_box.isEnabled() and phone.detect_button.isEnabled()
    assert phone.list.isEnabled() and wizard.hint.text() == wizard.next.toolTip() != ""

    # A fine-tuning that fails unlocks them as well.
    held.arm(MfaganError("the photos folder went away"))
    tuned.clear()
    tune.start_button.click()
    assert not any(field.isEnabled() for field in fields)
    held.release.set()
    qtbot.waitUntil(lambda: bool(tuned), timeout=WAIT_MS)
    assert tuned == ["failed"] and "the photos folder went away" in tune.panel.text.text()
    assert all(field.isEnabled() for field in fields) and tune.start_button.isEnabled()
    assert search.start_button.isEnabled() and goal.goal_box.isEnabled()


def test_the_advanced_pages_wait_for_the_wizard_and_it_for_them(
    qtbot, setup: WizardSetup, tmp_path: Path, hold
) -> None:
    held = hold("search_job")
    folder = tmp_path / "wizard"
    save_state(WizardState(step=2, **TARGET), folder)
    page = PhonePage(JobRunner(), setup, folder)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    with qtbot.waitSignal(page.warmed, timeout=WAIT_MS):  # first-use imports, off the jobs
        page.show()
    wizard, advanced, export = page.wizard, page.search, page.export_page
    line = page.search_page.findChild(type(wizard.hint), "hint")
    assert line is not None and line.isHidden()

    # The wizard's search runs: the advanced pages start nothing, and say why.
    wait = waiting_words(SEARCHING)
    outcome = _ended(wizard.search.panel)
    wizard.search.start_button.click()
    assert wizard.search.panel.running
    assert not advanced.start_button.isEnabled() and advanced.start_button.toolTip() == wait
    assert export.export_button.toolTip() == wait and not export.export_button.isEnabled()
    assert line.text() == wait and not line.isHidden()
    advanced.start()
    assert not advanced.panel.running and advanced.panel.text.text() == wait
    assert not wizard.next.isEnabled()
    assert wizard.next.toolTip() == f"{SEARCHING} is running: wait for it to end, or cancel it."
    wizard.search.panel.cancel.click()
    held.release.set()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["cancelled"]
    assert advanced.start_button.isEnabled() and line.isHidden()

    # The advanced search runs: the wizard's search waits, its goal and phone stay, and the
    # advanced page's own target is fixed until it ends.
    held.arm()
    wait = waiting_words(ADVANCED_SEARCH)
    outcome = _ended(advanced.panel)
    advanced.start_button.click()
    assert advanced.panel.running and not page.target.budget.isEnabled()
    assert not wizard.search.start_button.isEnabled()
    assert wizard.search.start_button.toolTip() == wait and wizard.hint.text() == wait
    assert not wizard.goal.goal_box.isEnabled() and not wizard.phone.list.isEnabled()
    assert wizard.next.toolTip() == NEXT_NEEDS[2]  # Next waits for a design, not for it
    advanced.panel.cancel.click()
    held.release.set()
    qtbot.waitUntil(lambda: bool(outcome), timeout=WAIT_MS)
    assert outcome == ["cancelled"] and page.target.budget.isEnabled()
    assert wizard.search.start_button.isEnabled() and wizard.goal.goal_box.isEnabled()
    assert wizard.hint.text() == NEXT_NEEDS[2]


def test_jobs_a_step_starts_by_itself_hold_nothing_back(
    qtbot, setup: WizardSetup, tmp_path: Path, hold
) -> None:
    """Placing the known networks (step 2, whenever the phone changes) and reading the
    profiles are automatic: opening a step must not lock the others."""
    placing = hold("placements_job")
    wizard = _wizard(qtbot, setup, tmp_path / "wizard")
    qtbot.waitUntil(lambda: wizard.goal.panel.running, timeout=WAIT_MS)
    assert not wizard.goal.panel.blocking
    assert wizard.search.start_button.isEnabled() and wizard.search.start_button.toolTip() == ""
    assert wizard.phone.detect_button.isEnabled() and wizard.goal.goal_box.isEnabled()
    assert wizard.hint.text() == NEXT_NEEDS[2]
    placing.release.set()
    qtbot.waitUntil(lambda: not wizard.goal.panel.running, timeout=WAIT_MS)


def test_next_says_why_it_is_off_when_the_search_is_lost(
    qtbot, setup: WizardSetup, tmp_path: Path
) -> None:
    """A design chosen from a search whose files are gone: Next stays off, and says so."""
    ctx = WizardContext(JobRunner(), setup, tmp_path / "wizard")
    ctx.update(step=3, chosen="b2-c16-g8-h11-conv-x4", search_dir=str(tmp_path / "gone"), **TARGET)
    wizard = PhoneWizard(ctx)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.search.lost and wizard.stack.currentIndex() == 2
    assert not wizard.next.isEnabled() and wizard.next.toolTip() == SEARCH_AGAIN
    assert wizard.hint.text() == SEARCH_AGAIN
