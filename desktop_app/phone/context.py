"""What every step shares: the saved state, the engine setup, the job runner, the folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.state import WizardState, load_state, save_state, wizard_dir
from desktop_app.widgets.progress_strip import ProgressStrip
from desktop_app.wording import Hints
from desktop_app.workers import Job, JobRunner, file_system_line

# The wizard's fine-tuning folder is its pick (step 3), not a name the user types.
PHONE_HINTS: Hints = (
    (
        "use another --out folder or the same settings",
        "go back to the settings it was started with, or pick another network in step 3",
    ),
    (
        "start the run again without --resume or in another --out folder",
        "pick another network in step 3",
    ),
    (
        "pass --resume to continue it or choose another --out folder",
        "Resume continues it, or pick another network in step 3",
    ),
)


class WizardContext(QObject):
    """The state lives here; each change is saved at once, so the wizard reopens there."""

    changed = Signal()
    modelRegistered = Signal(str)
    status = Signal(str)

    def __init__(
        self, runner: JobRunner, setup: WizardSetup | None = None, folder: Path | None = None,
        parent: QObject | None = None, *, jobs: StepJobs | None = None,
    ) -> None:  # fmt: skip
        """``jobs``: another context's (the advanced pages share the wizard's: one job at a
        time on the whole Phone tab)."""
        super().__init__(parent)
        self.runner = runner
        self.jobs = jobs if jobs is not None else StepJobs(self)
        self.setup = setup or WizardSetup()
        self.folder = folder or wizard_dir()
        self.state: WizardState = load_state(self.folder)

    def update(self, **changes: Any) -> None:
        new = self.state.with_(**changes)
        if new == self.state:
            return
        self.state = new
        try:
            save_state(new, self.folder)
        except OSError as error:
            # The wizard goes on from memory; it just will not reopen at this step.
            self.status.emit(f"Progress not saved: {file_system_line(error)}")
        self.changed.emit()


class JobPanel(ProgressStrip):
    """A progress strip that runs one job at a time and says how it ended.

    ``started`` comes once ``running`` is true; ``ended`` carries "finished", "failed" or
    "cancelled"; ``failed``/``cancelled`` lines are shown in the strip. ``running`` tells the
    step to lock its own inputs; ``blocking`` (through :class:`StepJobs`) the other steps.
    """

    started = Signal()
    ended = Signal(str)

    def __init__(self, runner: JobRunner, parent=None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.job: Job | None = None
        self._outcome = ""
        self._on_failed: Callable[[str], None] | None = None
        self._quiet = False
        self._automatic = False
        self.cancelRequested.connect(self.stop)

    @property
    def running(self) -> bool:
        return self.job is not None

    @property
    def quiet(self) -> bool:
        """The running job is seconds of automatic work (placing the known networks, reading
        profiles) that the step redoes on the next start: quitting loses nothing."""
        return self.running and self._quiet

    @property
    def blocking(self) -> bool:
        """A job the user started runs: no other step may start one until it ends."""
        return self.running and not self._automatic

    def run(
        self, make, text: str, *, on_event: Callable[[Any], None] | None = None,
        on_finished: Callable[[Any], None], done_text: str = "Done.",
        on_failed: Callable[[str], None] | None = None, automatic: bool = False,
    ) -> Job:  # fmt: skip
        """``on_failed``: also show the whole reason elsewhere (the strip elides it).
        ``automatic``: a job the step starts by itself when it opens or the phone changes
        (placing the known networks, reading profiles); it holds no other step back, or
        opening a step would lock the others."""
        self.begin(text)
        self._done_text = done_text
        self._quiet = not done_text
        self._automatic = automatic
        self._outcome = ""
        self._on_finished = on_finished
        self._on_failed = on_failed
        # Bound methods of widgets only: Qt then queues each call into the UI thread.
        self.job = self.runner.start(
            make, name="phone wizard", on_event=on_event, on_finished=self._finished,
            on_failed=self._failed, on_cancelled=self._cancelled, on_ended=self._ended,
            hints=PHONE_HINTS,
        )  # fmt: skip
        self.started.emit()
        return self.job

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _finished(self, result: Any) -> None:
        self._outcome = "finished"
        # A quiet job (reading profiles) leaves the strip as it was before it: empty.
        self.end(self._done_text, complete=bool(self._done_text))
        self._on_finished(result)

    def _failed(self, reason: str) -> None:
        self._outcome = "failed"
        self.end(f"Stopped by an error: {reason}")
        if self._on_failed is not None:
            self._on_failed(reason)

    def _cancelled(self, message: str) -> None:
        self._outcome = "cancelled"
        # The runner's own "cancelled" is the whole story; a job that says where it stopped
        # ("stopped at step 12; Resume continues from there") says so itself.
        text = message.strip().rstrip(".")
        plain = text.lower() in ("", "cancelled", "canceled")
        self.end("Cancelled." if plain else f"{text[:1].upper()}{text[1:]}.")

    def _ended(self) -> None:
        self.job = None
        self.ended.emit(self._outcome or "failed")


def waiting_words(who: str) -> str:
    """Why a step cannot start its job now ("Fine-tuning (step 4) is running: ...")."""
    return f"{who} is running: wait for it or cancel it there."


class StepJobs(QObject):
    """The steps' job panels, each under the words that name it ("Fine-tuning (step 4)").

    One job at a time: while one the user started runs, the other steps keep their start
    buttons off and their choices locked. Two at once had a new search replace the design
    that a running fine-tuning was training. ``changed`` comes whenever one starts or ends.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._panels: list[tuple[JobPanel, str]] = []

    def watch(self, panel: JobPanel, who: str) -> None:
        self._panels.append((panel, who))
        panel.started.connect(self.changed)
        panel.ended.connect(self._ended)

    def _ended(self, _outcome: str) -> None:
        self.changed.emit()

    def running(self, besides: JobPanel | None = None) -> str:
        """Who runs a job that holds the others back, "" when none does; ``besides``: that
        panel's own job not counted (a step does not wait for itself)."""
        return next(
            (who for panel, who in self._panels if panel is not besides and panel.blocking), ""
        )

    def why_not(self, panel: JobPanel | None = None) -> str:
        """Why ``panel``'s step may not start a job now (for its tooltip), "" when it may."""
        who = self.running(besides=panel)
        return waiting_words(who) if who else ""

    def refuse(self, panel: JobPanel) -> bool:
        """True, with the reason on ``panel``'s strip, where its step may not start a job
        now: its start button is off then, but a job may be started from code as well."""
        why = self.why_not(panel)
        if why:
            panel.end(why)
        return bool(why)


class WaitLine(QLabel):
    """Which other job runs while ``panel``'s page has to wait for it, hidden when none
    does: for the advanced pages (in the wizard, the line beside Next says it)."""

    def __init__(self, jobs: StepJobs, panel: JobPanel, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("hint")
        self.setWordWrap(True)
        self._jobs, self._panel = jobs, panel
        jobs.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.setText(self._jobs.why_not(self._panel))
        self.setVisible(bool(self.text()))
