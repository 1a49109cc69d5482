"""Retrain on my photos: the form, then the run with its live losses and validation pictures.

The run is the engine's distillation job (engine.distill) in a worker. It lives in its own
folder (``<data dir>/distill/<name>``) so it can be stopped and resumed, and its history is
read back from there; when it ends the student is registered under the name, which puts it
in every model list of the window.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.model_names import RUN_STAGE_TEXT, model_file_words, run_notice_words
from desktop_app.retrain import jobs as rj
from desktop_app.retrain.form import RetrainForm, hint
from desktop_app.retrain.plan import Measurement
from desktop_app.settings import SettingsStore
from desktop_app.widgets.progress_strip import ProgressStrip
from desktop_app.widgets.run_progress import run_progress_text
from desktop_app.widgets.run_view import RunView, run_view_job
from desktop_app.widgets.training_view import TrainingView
from desktop_app.wording import count, in_gui_words
from desktop_app.workers import Job, JobRunner
from engine.distill.trainer import DistillRequest, DistillResult, TrainStep
from engine.errors import MfaganError
from engine.events import Notice, Progress
from engine.models.registry import user_models_dir

STAGE_TEXT = RUN_STAGE_TEXT | {"measure": "Measuring"}
# Before training a run goes through parts (reading the photos, making examples), and the
# strip's time left restarts with each: "about 1 min 49 s left" beside "Making examples" read
# as the whole run's. The page cannot give the whole run's (examples made before cost
# nothing, a resume skips parts, and there is no estimate before Measure), so the line says
# what the time is of. Training's and Measure's time left is theirs to the end.
WHOLE_STAGES = frozenset({"distill", "measure"})
PART_TEXT = "{}, time for this part:"


class RetrainPage(QWidget):
    status = Signal(str)
    modelRegistered = Signal(str)  # the name of the new model
    tryModel = Signal(str)
    runEnded = Signal(str)  # "finished", "failed" or "cancelled"
    measured = Signal()

    def __init__(
        self, store: SettingsStore, runner: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.form = RetrainForm(store, runner)
        self.progress = ProgressStrip()
        # Losses and validation pictures: the widget the phone wizard's fine-tuning shares.
        self.training = TrainingView()
        self.plot, self.picture = self.training.plot, self.training.picture
        self.validation, self.result = self.training.validation, hint()
        self.try_button = QPushButton("Try it on an image")
        self.try_button.setVisible(False)
        self.job: Job | None = None
        self.last_result: DistillResult | None = None
        self._timings: dict[str, list[float]] = {}
        self._build()
        self._connect()
        self._refresh_run()

    def _build(self) -> None:
        done_row = QHBoxLayout()
        done_row.addWidget(self.result, 1)
        done_row.addWidget(self.try_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.training, 1)
        right_layout.addLayout(done_row)
        # The form scrolls up and down: with photos left out and an estimate shown it may be
        # taller than a 700 px window, which it grew (732 px) or cut (wrapped lines squeezed).
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidget(self.form)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.form_scroll.verticalScrollBar().sizeHint().width()
        self.form_scroll.setMinimumWidth(self.form.minimumWidth() + bar)
        splitter = QSplitter()
        splitter.addWidget(self.form_scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.progress)

    def _connect(self) -> None:
        form = self.form
        form.status.connect(self.status)
        form.nameChanged.connect(self._refresh_run)
        form.measure_button.clicked.connect(self.measure)
        form.start_button.clicked.connect(self.start)
        form.resume_button.clicked.connect(self.resume)
        self.progress.cancelRequested.connect(self.cancel)
        self.try_button.clicked.connect(self._try)

    def set_folders(self, folders: list) -> None:
        self.form.set_folders(folders)

    # ---- photos added or removed outside the app ---------------------------------------
    # A count made once went stale: "12 photos" stayed after a 13th was copied into the
    # folder. The page counts again whenever the user may have changed the folders meanwhile:
    # on coming back to this tab and on coming back to the window. Not while training: its
    # photos are fixed, and the count is redone when it ends.

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._recount()

    def event(self, event: QEvent) -> bool:
        # The window passes its activation on to its visible children (not as changeEvent).
        if event.type() == QEvent.Type.WindowActivate:
            self._recount()
        return super().event(event)

    def _recount(self) -> None:
        if self.isVisible() and self.job is None:
            self.form.recount_photos()

    # ---- the run folder ----------------------------------------------------------------

    def _run_folder(self) -> Path | None:
        """The form's run folder; None when the data folder cannot be used (the form's name
        hint says why)."""
        try:
            return self.form.run_folder()
        except MfaganError:
            return None

    def _refresh_run(self) -> None:
        self._read_run_view(with_rows=True, name="run view", on_finished=self._show_run)

    def _refresh_validation(self) -> None:
        self._read_run_view(with_rows=False, name="validation", on_finished=self._show_validation)

    def _read_run_view(
        self, *, with_rows: bool, name: str, on_finished: Callable[[RunView], None]
    ) -> None:
        folder = self._run_folder()
        if folder is None:
            return
        self.runner.start(
            lambda cancel: run_view_job(folder, with_rows, cancel),
            name=name,
            on_finished=on_finished,
        )

    def _show_run(self, view: RunView) -> None:
        if view.folder != self._run_folder() or self.job is not None:
            return  # a view of a run the form no longer names, or one being trained now
        self.form.run_view = view
        self.training.show_rows(view.rows)
        self.training.show_validation(view.picture, view.validation)
        self.form.refresh()

    def _show_validation(self, view: RunView) -> None:
        if view.picture is not None:  # a view read mid-run keeps the picture on show
            self.training.show_validation(view.picture, view.validation)
        else:
            self.validation.setText(view.validation)

    # ---- running -----------------------------------------------------------------------

    def start(self) -> None:
        form = self.form
        try:
            request = DistillRequest(
                config=form.config(form.planned_steps()),
                out_dir=form.run_folder(),
                register_as=form.settings.name,
                command="MFAGAN Studio: Retrain on my photos",
            )
            problem = rj.storage_problem(request.out_dir, user_models_dir())
        except MfaganError as error:
            problem = model_file_words(in_gui_words(str(error)))
        if problem is not None:
            self.progress.end(f"Cannot start: {problem}")
            return
        self.plot.clear()
        self._launch(lambda cancel: rj.train_job(request, cancel), "Starting…", self._finished)

    def resume(self) -> None:
        form = self.form
        try:
            folder, name = form.run_folder(), form.settings.name
            problem = rj.storage_problem(folder, user_models_dir())
        except MfaganError as error:
            problem = in_gui_words(str(error))
        if problem is not None:
            self.progress.end(f"Cannot resume: {problem}")
            return
        steps = form.steps.value() if form.by_steps.isChecked() else None
        self._launch(
            lambda cancel: rj.resume_job(folder, steps, name, cancel), "Resuming…", self._finished
        )

    def measure(self) -> None:
        try:
            config = self.form.config()
            problem = rj.storage_problem()
        except MfaganError as error:
            problem = model_file_words(in_gui_words(str(error)))
        if problem is not None:
            self.progress.end(f"Cannot measure: {problem}")
            return
        self._launch(
            lambda cancel: rj.calibrate_job(config, cancel),
            "Measuring this computer…",
            self._measured,
        )

    def _launch(self, make, text: str, on_finished) -> None:
        self._timings = {}
        self.result.setText("")
        self.try_button.setVisible(False)
        self.progress.begin(text)
        self.job = self.runner.start(
            make,
            name="retrain",
            on_event=self._on_event,
            on_finished=on_finished,
            on_failed=self._failed,
            on_cancelled=self._cancelled,
            on_ended=self._ended,
        )
        self.form.running = True
        self.form.refresh()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_event(self, event: object) -> None:
        if isinstance(event, TrainStep):
            self.plot.add(event.step, event.stage, event.losses)
            self._timings.setdefault(event.stage, []).append(event.seconds)
        elif isinstance(event, Progress):
            text = run_progress_text(event, training="Training", stages=STAGE_TEXT)
            if event.stage not in WHOLE_STAGES and event.total > 1 and event.done < event.total:
                text = PART_TEXT.format(text)
            self.progress.progress(event.stage, event.done, event.total, text)
        elif isinstance(event, Notice):
            self.status.emit(run_notice_words(event))
            self._refresh_validation()

    def _finished(self, result: DistillResult) -> None:
        self.last_result = result
        self._keep_timings()
        self.progress.end(f"Finished {count(result.steps, 'step')}.", complete=True)
        if result.registered is not None:
            name = self.form.settings.name
            self.result.setText(f"Your model <b>{name}</b> is in the model list.")
            self.try_button.setVisible(True)
            self.modelRegistered.emit(name)
        self.runEnded.emit("finished")

    def _measured(self, measurement: Measurement) -> None:
        self.form.set_measurement(measurement)
        self.progress.end("Measured.", complete=True)
        self.measured.emit()

    def _keep_timings(self) -> None:
        """A real run measures steps better than the calibration's few: keep its timings."""
        measured = self.form.measurement()
        if measured is None or not self._timings:
            return
        # The median: a run's first steps pay for start-up, and a busy moment is not typical.
        steps = measured.steps | {s: statistics.median(t) for s, t in self._timings.items()}
        self.form.set_measurement(dataclasses.replace(measured, steps=steps))

    def _failed(self, reason: str) -> None:
        reason = model_file_words(reason)
        self.progress.end(f"Stopped by an error: {reason}")
        self.status.emit(reason)
        self.runEnded.emit("failed")

    def _cancelled(self, message: str) -> None:
        self._keep_timings()
        step = message.split(";")[0].replace("stopped at", "Stopped at")
        self.progress.end(
            f"{step}. Resume continues from there." if "step" in message else "Cancelled."
        )
        self.runEnded.emit("cancelled")

    def _ended(self) -> None:
        self.job = None
        self.form.running = False
        self._refresh_run()
        self.form.refresh()
        self._recount()

    def _try(self) -> None:
        self.tryModel.emit(self.form.settings.name)
