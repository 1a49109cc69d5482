"""Step 4: fine-tune the picked subnet into the user's model (G + D distillation from the
teacher), with a step or time budget estimated from this computer's measured speed, live
losses and validation pictures (the Retrain page's TrainingView), and the user's photos."""

from __future__ import annotations

import statistics
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.model_names import run_notice_words
from desktop_app.phone import jobs
from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.widgets.eta import format_duration
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.widgets.layouts import wide_row
from desktop_app.widgets.run_progress import run_progress_text
from desktop_app.widgets.run_view import RunView, run_view_job
from desktop_app.widgets.training_view import TrainingView
from desktop_app.wording import count, first_upper
from desktop_app.workers import file_system_line
from engine.distill.trainer import TrainStep
from engine.events import Notice, Progress
from engine.files import folder_problem

FINETUNE_FOLDER = "finetune"
PHOTOS_PLACEHOLDER = "optional: your photos"
LEFT_MIN_WIDTH = 300  # the settings column keeps room for its fields beside the plots


class FinetuneStep(QWidget):
    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        state = ctx.state
        self.by_steps = QRadioButton("Steps")
        self.by_time = QRadioButton("Time")
        group = QButtonGroup(self)
        group.addButton(self.by_steps)
        group.addButton(self.by_time)
        self.by_steps.setChecked(True)
        self.steps = QSpinBox()
        self.steps.setRange(1, 200_000)
        self.steps.setValue(state.finetune_steps)
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setValue(30)
        self.minutes.setSuffix(" min")
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.measure_button = QPushButton("Measure this computer")
        self.photos = QLineEdit(state.photos)
        # Short enough for the field at a 1024 px window ("optional: a folder of your own
        # photos" was cut); the tooltip says it whole.
        self.photos.setPlaceholderText(PHOTOS_PLACEHOLDER)
        self.photos.setToolTip(
            "Optional: a folder of your own photos, learnt from besides the sample photos"
        )
        self.browse = QPushButton("Choose…")
        self.data_note = QLabel("")  # what it trains and checks itself on
        self.data_note.setWordWrap(True)
        self.data_note.setObjectName("hint")
        self._data_plan: tuple[str, str] | None = None  # (photos, text) last worked out
        self.name = QLineEdit(state.model_name or f"phone-{state.device}")
        self.start_button = QPushButton("Start fine-tuning")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.training = TrainingView()
        self.panel = JobPanel(ctx.runner)
        self._timings: list[float] = []
        self._previous_model = ""
        self._build()
        self._connect()
        self.refresh()

    def _build(self) -> None:
        budget = QGroupBox("How long")
        form = QFormLayout(budget)
        row = QHBoxLayout()
        row.addWidget(self.by_steps)
        row.addWidget(self.steps)
        row.addWidget(self.by_time)
        row.addWidget(self.minutes)
        form.addRow(row)
        form.addRow(self.estimate)
        form.addRow(self.measure_button)
        data = QGroupBox("Photos and name")
        form2 = QFormLayout(data)
        # Labels above their fields: beside them, at a 1024 px window the photos field was
        # too narrow for its placeholder.
        form2.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form2.addRow("Your photos:", wide_row(self.photos, self.browse))
        form2.addRow(self.data_note)
        form2.addRow("Model name:", self.name)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(budget)
        ll.addWidget(data)
        ll.addWidget(self.start_button)
        ll.addWidget(self.result)
        ll.addStretch(1)
        left.setMinimumWidth(LEFT_MIN_WIDTH)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.training)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.panel)

    def _connect(self) -> None:
        for box in (self.steps, self.minutes):
            box.valueChanged.connect(self.refresh)
        self.by_steps.toggled.connect(self.refresh)
        self.measure_button.clicked.connect(self.measure)
        self.browse.clicked.connect(self._browse)
        self.photos.editingFinished.connect(self._photos_changed)
        self.name.editingFinished.connect(self.refresh)
        self.start_button.clicked.connect(self.start)
        self.panel.ended.connect(self._ended)
        self.ctx.changed.connect(self.refresh)
        self.ctx.jobs.changed.connect(self.refresh)

    # ---- the plan ----------------------------------------------------------------------

    @property
    def run_folder(self) -> Path:
        return self.ctx.folder / FINETUNE_FOLDER / (self.ctx.state.chosen or "none")

    def planned_steps(self) -> int:
        s = self.ctx.state
        if self.by_steps.isChecked() or not s.step_s:
            return self.steps.value()
        budget = self.minutes.value() * 60 - (s.setup_s or 0)
        return max(1, int(budget / s.step_s))

    def refresh(self) -> None:
        # Looked at before any stat of the run folder, which would raise inside a Qt slot.
        self._show_plan(folder_problem(self.run_folder) if self.ctx.state.chosen else None)

    def _show_plan(self, problem: str | None) -> None:
        """The estimate, the buttons and the result line; ``problem``: why the run folder
        cannot be used (None where it can, or no subnet is chosen yet)."""
        s = self.ctx.state
        steps = self.planned_steps()
        if s.step_s:
            total = (s.setup_s or 0) + steps * s.step_s
            start = f", plus {format_duration(s.setup_s)} to start" if s.setup_s else ""
            self.estimate.setText(
                f"{count(steps, 'step')}: about {format_duration(total)} on this computer "
                f"({s.step_s:.2f} s a step measured here{start})."
            )
        else:
            self.estimate.setText(
                f"{count(steps, 'step')}. Measure this computer for a time estimate."
            )
        self._show_data_plan()
        resumable = problem is None and self._resumable()
        running = self.panel.running
        finished = bool(s.model_name) and s.finetune_dir == str(self.run_folder)
        self.start_button.setText(
            "Continue fine-tuning to this many steps"
            if finished
            else "Resume fine-tuning"
            if resumable
            else "Start fine-tuning"
        )
        why = self.ctx.jobs.why_not(self.panel)
        self.start_button.setEnabled(bool(s.chosen) and not (running or why) and problem is None)
        self.measure_button.setEnabled(bool(s.chosen) and not running and not why)
        for button in (self.start_button, self.measure_button):
            button.setToolTip(why)
        # What the running job was started with, as the Retrain page locks its form: a
        # length, photos or name changed meanwhile would not be what it trains or registers.
        for field in (self.by_steps, self.steps, self.by_time, self.minutes, self.photos,
                      self.browse, self.name):  # fmt: skip
            field.setEnabled(not running)
        if problem is not None:
            self.result.setText(first_upper(problem))
        elif s.model_name and not running:
            self.result.setText(f"Your model <b>{s.model_name}</b> is in the model list.")

    def _resumable(self) -> bool:
        try:
            return jobs.has_checkpoint(self.run_folder)
        except OSError as error:  # not the kind folder_problem sees (a folder not searchable)
            self.result.setText(first_upper(file_system_line(error)))
            return False

    def _browse(self) -> None:
        folder = DialogFolders().folder(
            self, "phone photos", "A folder of your photos", current=self.photos.text()
        )
        if folder:
            self.photos.setText(str(folder))
            self._photos_changed()

    def _photos_changed(self) -> None:
        self.ctx.update(photos=self.photos.text().strip())

    def _show_data_plan(self) -> None:
        photos = self.ctx.state.photos
        if self._data_plan is None or self._data_plan[0] != photos:
            try:
                text = jobs.data_plan(self.ctx.setup, photos).text()
            except (OSError, ValueError, KeyError) as error:
                text = f"Cannot tell what it trains on: {error}"
            self._data_plan = (photos, text)
        self.data_note.setText(self._data_plan[1])

    # ---- jobs --------------------------------------------------------------------------

    def measure(self) -> None:
        if self.ctx.jobs.refuse(self.panel):
            return
        s, setup = self.ctx.state, self.ctx.setup
        data = jobs.finetune_data(setup, s.photos)
        scratch = self.ctx.folder / ".measure"
        config = s.chosen
        self.panel.run(
            lambda cancel: jobs.measure_finetune_job(setup, config, data, scratch, cancel),
            "Timing three fine-tuning steps…", on_event=self._on_event,
            on_finished=self._measured, done_text="Measured.",
        )  # fmt: skip
        self.refresh()

    def _measured(self, timing: jobs.StepTiming) -> None:
        self.ctx.update(setup_s=round(timing.setup_s, 2), step_s=round(timing.step_s, 3))

    def start(self) -> None:
        if self.ctx.jobs.refuse(self.panel):
            return
        s, setup = self.ctx.state, self.ctx.setup
        name = self.name.text().strip()
        summary = jobs.read_search(Path(s.search_dir)) if s.search_dir else None
        lineage = summary.lineage if summary else {}
        if (problem := folder_problem(self.run_folder)) is not None:
            self.panel.end(f"Cannot start: {problem}")
            return
        steps, folder, data, config = self.planned_steps(), self.run_folder, \
            jobs.finetune_data(setup, s.photos), s.chosen  # fmt: skip
        # A failed or stopped continuation leaves the model registered before it in place.
        self._previous_model = s.model_name if s.finetune_dir == str(folder) else ""
        self.ctx.update(finetune_steps=steps, finetune_dir=str(folder), model_name="")
        self._timings = []
        if not self._resumable():
            self.training.show_rows([])
        self.result.setText("")
        self._pending_name = name
        self.panel.run(
            lambda cancel: jobs.finetune_job(setup, config, steps=steps, data=data, out=folder,
                                             name=name, search=lineage, cancel=cancel),
            "Starting the fine-tuning…", on_event=self._on_event, on_finished=self._finished,
            done_text="Fine-tuning finished.",
        )  # fmt: skip
        self._show_plan(None)  # the run folder was just found usable

    def _on_event(self, event: object) -> None:
        if isinstance(event, TrainStep):
            self.training.plot.add(event.step, event.stage, event.losses)
            self._timings.append(event.seconds)
        elif isinstance(event, Progress):
            text = run_progress_text(event, training="Fine-tuning")
            self.panel.progress(event.stage, event.done, event.total, text)
        elif isinstance(event, Notice):
            self.ctx.status.emit(run_notice_words(event))
            self._refresh_validation()

    def _refresh_validation(self) -> None:
        folder = self.run_folder
        self.ctx.runner.start(lambda cancel: run_view_job(folder, False, cancel),
                              name="validation", on_finished=self._show_view)  # fmt: skip

    def _show_view(self, view: RunView) -> None:
        if view.rows:
            self.training.show_rows(view.rows)
        self.training.show_validation(view.picture, view.validation)

    def _finished(self, result) -> None:
        name = self._pending_name if result.model is not None else ""
        if self._timings:  # a real run measures steps better than three timed ones
            self.ctx.update(step_s=round(statistics.median(self._timings), 3))
        self.ctx.update(model_name=name)
        if name:
            self.ctx.modelRegistered.emit(name)

    def _ended(self, outcome: str) -> None:
        self._after_run(outcome, folder_problem(self.run_folder))

    def _after_run(self, outcome: str, problem: str | None) -> None:
        folder, usable = self.run_folder, problem is None
        if usable:
            self.ctx.runner.start(lambda cancel: run_view_job(folder, True, cancel),
                                  name="run view", on_finished=self._show_view)  # fmt: skip
        if outcome == "cancelled" and usable and self._resumable():
            self.panel.end("Stopped. Resume continues from the last checkpoint.")
        previous, self._previous_model = self._previous_model, ""
        if outcome in ("failed", "cancelled") and previous and not self.ctx.state.model_name:
            self.ctx.update(model_name=previous)
        self._show_plan(problem if self.ctx.state.chosen else None)

    def reload(self) -> None:
        """Show the run folder's history (the wizard reopened at this step)."""
        problem = folder_problem(self.run_folder)
        if problem is None and self.run_folder.is_dir():
            self._after_run("", problem)
