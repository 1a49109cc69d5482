"""Batch: every image of a folder into another folder, with progress, cancel and an error list.

The engine's batch job does the work; this page shows its events: overall progress (files,
with the current file's tiles counted in) and time left, the current file's own progress,
each file's outcome, and at the end every failed file with the reason. Cancel stops within
about a second (the engine checks between model layers) and leaves only complete files, so
"skip existing" resumes where it stopped.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app import jobs
from desktop_app.jobs import UpscalerPool
from desktop_app.settings import BatchSettings, SettingsStore
from desktop_app.widgets.desktop_open import open_on_desktop, selectable
from desktop_app.widgets.eta import Eta, format_duration
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.widgets.layouts import wide_row
from desktop_app.widgets.progress_strip import ElidedLabel, ProgressBar, ProgressStrip
from desktop_app.widgets.settings_panel import SettingsPanel, in_scroll_area
from desktop_app.widgets.upscale_options import UpscaleOptions
from desktop_app.wording import FIRST_USE_STAGE, count, first_upper, in_gui_words
from desktop_app.workers import Job, JobRunner
from engine.errors import MfaganError
from engine.events import FileDone, FileFailed, FileSkipped, FileStarted, Notice, Progress
from engine.inference.batch import BatchRequest, BatchResult, results_line

CURRENT_STEPS = 1000  # resolution of the current file's bar


class BatchPage(QWidget):
    status = Signal(str)
    batchEnded = Signal(str)  # "finished", "failed" or "cancelled"

    def __init__(
        self,
        options: UpscaleOptions,
        store: SettingsStore,
        runner: JobRunner,
        pool: UpscalerPool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.options, self.store, self.runner, self.pool = options, store, runner, pool
        self.folders = DialogFolders(store)
        saved = store.load(BatchSettings)
        self.input_dir = QLineEdit(saved.input_dir)
        self.input_dir.setPlaceholderText("Folder of images to upscale")
        self.output_dir = QLineEdit(saved.output_dir)
        self.output_dir.setPlaceholderText("Folder for the results")
        self.browse_input = QPushButton("Browse…")
        self.browse_output = QPushButton("Browse…")
        self.recursive = QCheckBox("Include subfolders (their structure is kept)")
        self.recursive.setChecked(saved.recursive)
        self.skip_existing = QCheckBox("Skip images whose result already exists (resume)")
        self.skip_existing.setChecked(saved.skip_existing)
        self.start_button = QPushButton("Start batch")
        self.show_output = QPushButton("Show output folder")
        self.show_output.setToolTip("Open the output folder in the file manager")
        # Where no file manager opens the folder: say so, with its path to select and copy.
        self.output_note = QLabel("")
        self.output_note.setWordWrap(True)
        selectable(self.output_note)
        self.output_note.setVisible(False)
        self.overall = ProgressStrip()
        self.current_label = ElidedLabel("")
        self.current_bar = ProgressBar()
        self.current_bar.setTextVisible(False)
        self.current_bar.setMaximumHeight(8)
        self.counts = QLabel("")
        self.files = QTreeWidget()
        self.files.setHeaderLabels(["File", "Result"])
        self.errors = QTreeWidget()
        self.errors.setHeaderLabels(["File", "Why it failed"])
        self.errors_box = QGroupBox("Errors")
        self.settings = SettingsPanel(options, show_auto_start=False, show_output_folder=False)
        self.job: Job | None = None
        self.result: BatchResult | None = None
        self._eta = Eta()
        self._total = 0
        self._finished = 0
        self._file_fraction = 0.0
        self._current = ""
        self._tally = {"done": 0, "skipped": 0, "failed": 0}
        # After a refused start the strip speaks of the fields (why not, then "Ready") and
        # follows them as they change, until a batch starts.
        self._checking_fields = False
        # The line the refusal put in the window's status bar: it follows the fields too, or
        # "choose … first" would stay there beside "Ready: press Start batch."
        self._fields_status = ""
        self._build()
        self._connect()
        self._show_current(False)
        self._update_show_output()

    def _build(self) -> None:
        form_box = QGroupBox("Folders")
        form = QFormLayout(form_box)
        form.addRow("Input", wide_row(self.input_dir, self.browse_input))
        form.addRow("", self.recursive)
        form.addRow("Output", wide_row(self.output_dir, self.browse_output))
        form.addRow("", self.skip_existing)
        run_box = QGroupBox("Progress")
        run = QVBoxLayout(run_box)
        start_row = QHBoxLayout()
        start_row.addWidget(self.start_button)
        start_row.addWidget(self.counts, 1)
        start_row.addWidget(self.show_output)
        run.addLayout(start_row)
        run.addWidget(self.output_note)
        run.addWidget(self.overall)
        run.addWidget(self.current_label)
        run.addWidget(self.current_bar)
        run.addWidget(self.files, 1)
        for tree in (self.files, self.errors):
            tree.setRootIsDecorated(False)
            tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
            tree.header().setStretchLastSection(True)
        errors_layout = QVBoxLayout(self.errors_box)
        errors_layout.addWidget(self.errors)
        self.errors_box.setVisible(False)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(form_box)
        left_layout.addWidget(run_box, 2)
        left_layout.addWidget(self.errors_box, 1)
        scroll = in_scroll_area(self.settings)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([900, 320])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _connect(self) -> None:
        self.browse_input.clicked.connect(self._pick_input)
        self.browse_output.clicked.connect(self._pick_output)
        self.start_button.clicked.connect(self.start)
        self.show_output.clicked.connect(self.open_output)
        self.overall.cancelRequested.connect(self.cancel)
        for edit in (self.input_dir, self.output_dir):
            edit.editingFinished.connect(self._remember)
            edit.textChanged.connect(self._fields_changed)
        # As the user types, not only once the field is left: the button is enabled exactly
        # while the folder named exists.
        self.output_dir.textChanged.connect(self._update_show_output)
        for box in (self.recursive, self.skip_existing):
            box.toggled.connect(self._remember)

    def output_folder(self) -> Path | None:
        """The output folder when it exists (a batch that wrote nothing may not make it)."""
        text = self.output_dir.text().strip()
        # os.path: a name too long for the file system is False here; Path.is_dir raises.
        return Path(text) if text and os.path.isdir(text) else None

    def _update_show_output(self) -> None:
        self.show_output.setEnabled(self.output_folder() is not None)

    def open_output(self) -> None:
        folder = self.output_folder()
        if folder is None:
            return
        problem = open_on_desktop(
            folder,
            "No file manager on this computer opens the folder. Its full path, to select "
            "and copy:\n{path}",
        )
        self.output_note.setText(problem)
        self.output_note.setVisible(bool(problem))

    def _fields_changed(self) -> None:
        """A line about the folders as they were must not stay once they change."""
        self.output_note.setVisible(False)
        if not self._checking_fields or self.job is not None:
            return
        try:
            self._request()
        except MfaganError as error:
            reason = in_gui_words(str(error))
            self.overall.end(f"Cannot start: {reason}")
            self._say_fields_status(reason)
            return
        self.overall.end("Ready: press Start batch.")
        self._say_fields_status("Ready: press Start batch.")

    def _say_fields_status(self, line: str) -> None:
        # Only when the fields' state changes: each keystroke of a path would otherwise put
        # the same line up again, over any newer line in the bar.
        if line != self._fields_status:
            self._fields_status = line
            self.status.emit(line)

    def _remember(self) -> None:
        self._update_show_output()
        self.store.save(
            BatchSettings(
                input_dir=self.input_dir.text().strip(),
                output_dir=self.output_dir.text().strip(),
                recursive=self.recursive.isChecked(),
                skip_existing=self.skip_existing.isChecked(),
            )
        )

    def _pick_input(self) -> None:
        folder = self.folders.folder(
            self, "batch input", "Folder of images", current=self.input_dir.text()
        )
        if folder:
            self.set_input(folder)

    def _pick_output(self) -> None:
        folder = self.folders.folder(
            self, "batch output", "Folder for the results", current=self.output_dir.text()
        )
        if folder:
            self.output_dir.setText(str(folder))
            self._remember()

    def set_input(self, folder: Path) -> None:
        self.input_dir.setText(str(folder))
        if not self.output_dir.text().strip():
            self.output_dir.setText(str(folder.parent / f"{folder.name}-upscaled"))
        self._remember()

    # ---- running -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(self) -> None:
        if self.job is not None:
            return
        self._remember()
        try:
            request = self._request()
        except MfaganError as error:
            reason = in_gui_words(str(error))
            self._checking_fields = True
            self.overall.end(f"Cannot start: {reason}")
            self._fields_status = reason
            self.status.emit(reason)
            return
        self._checking_fields = False
        self._fields_status = ""
        self._reset()
        choice = self.options.model_choice()
        self.overall.begin("Loading the model…")
        self.job = self.runner.start(
            lambda cancel: jobs.batch_job(request, choice, self.pool, cancel),
            name="batch",
            on_event=self._on_event,
            on_finished=self._on_finished,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
            on_ended=self._on_ended,
        )
        self.start_button.setEnabled(False)

    def _request(self) -> BatchRequest:
        """The batch the page's fields ask for; MfaganError saying why there is none."""
        if not self.input_dir.text().strip() or not self.output_dir.text().strip():
            raise MfaganError("choose an input folder and an output folder first")
        return BatchRequest(
            input_dir=Path(self.input_dir.text().strip()),
            output_dir=Path(self.output_dir.text().strip()),
            recursive=self.recursive.isChecked(),
            skip_existing=self.skip_existing.isChecked(),
            name_pattern=self.options.value.name_pattern,
            target=self.options.target(),
            write=self.options.write_options(),
        )

    def job_description(self) -> str | None:
        """What the running batch is, for the question asked on quitting; None when idle."""
        if self.job is None:
            return None
        if not self._total:
            return "A batch upscale is starting"
        left = self._total - self._finished
        return f"Batch upscale of {count(self._total, 'photo')} is running ({left} still to do)"

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _reset(self) -> None:
        self.result = None
        self.files.clear()
        self.errors.clear()
        self.errors_box.setVisible(False)
        self._total = self._finished = 0
        self._file_fraction = 0.0
        self._tally = {"done": 0, "skipped": 0, "failed": 0}
        self._eta.start()
        self.current_label.setText("")
        self.current_bar.setValue(0)
        self._show_current(True)
        self._show_counts()

    def _on_event(self, event: object) -> None:
        if isinstance(event, Progress):
            self._on_progress(event)
        elif isinstance(event, FileDone):
            self._update_show_output()  # the first result may have made the folder
            self._file_result(
                event.path,
                f"done in {format_duration(event.seconds)} → {event.output.name}",
                "done",
            )
        elif isinstance(event, FileStarted):
            self._file_fraction = 0.0
            self._current = f"{event.path.name} ({event.index + 1} of {event.total})"
            self.current_label.setText(self._current)
            self.current_bar.setRange(0, 0)
        elif isinstance(event, FileSkipped):
            self._file_result(event.path, f"skipped: {in_gui_words(event.reason)}", "skipped")
        elif isinstance(event, FileFailed):
            reason = in_gui_words(event.reason)
            self._file_result(event.path, f"failed: {reason}", "failed")
            self._add_error(event.path, reason)
        elif isinstance(event, Notice):
            self.status.emit(event.message)

    def _on_progress(self, event: Progress) -> None:
        if event.stage == FIRST_USE_STAGE and not self._total:
            # "Loading the model…" for a minute said nothing of why it takes so long.
            self.overall.begin(first_upper(FIRST_USE_STAGE) + "…")
            return
        if event.stage == "batch":
            self._total, self._finished = event.total, event.done
            self._file_fraction = 0.0
        elif event.stage.startswith("upscale") and event.total:
            # Inside a long tile the engine estimates the share done from this computer's
            # measured speed (TileProgress.fraction); between tiles, tiles are counted.
            fraction = getattr(event, "fraction", None)
            if fraction is None:
                fraction = event.done / event.total
            self.current_bar.setRange(0, CURRENT_STEPS)
            self.current_bar.setValue(round(fraction * CURRENT_STEPS))
            self._file_fraction = fraction
            tile = min(event.done + 1, event.total)
            percent = min(int(100 * fraction), 99)
            self.current_label.setText(
                f"{self._current} · tile {tile} of {event.total} · {percent}%"
            )
        else:
            return
        if self._total:
            fraction = (self._finished + self._file_fraction) / self._total
            done = f"{self._finished} of {count(self._total, 'image')}"
            self.overall.fraction(fraction, done, self._eta)
        elif event.stage == "batch":
            self.overall.end("No images found in the input folder.")

    def _file_result(self, path: Path, text: str, kind: str) -> None:
        self._tally[kind] += 1
        self._show_counts()
        row = QTreeWidgetItem([self._relative(path), text])
        row.setToolTip(0, str(path))
        self.files.addTopLevelItem(row)
        self.files.scrollToItem(row)

    def _add_error(self, path: Path, reason: str) -> None:
        row = QTreeWidgetItem([self._relative(path), reason])
        row.setToolTip(0, str(path))
        row.setToolTip(1, reason)
        self.errors.addTopLevelItem(row)
        self.errors_box.setVisible(True)
        self.errors_box.setTitle(f"Errors ({self.errors.topLevelItemCount()})")

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.input_dir.text().strip()))
        except ValueError:
            return str(path)

    def _show_counts(self) -> None:
        t = self._tally
        self.counts.setText(f"{t['done']} done · {t['skipped']} skipped · {t['failed']} failed")

    def _on_finished(self, result: BatchResult) -> None:
        self.result = result
        took = format_duration(self._eta.elapsed)
        summary = (
            f"Finished in {took}: {len(result.done)} upscaled, {len(result.skipped)} "
            f"skipped, {len(result.failed)} failed"
        )
        if result.results_left_out:  # why fewer images than the folder holds were done
            summary += f"; {results_line(result.results_left_out)}"
        summary += self._failures_text(result.failed)
        self.overall.end(summary, complete=True)
        self.current_label.setText("")
        self.current_bar.setRange(0, 1)
        self.status.emit(summary)
        self.batchEnded.emit("finished")

    def _failures_text(self, failed: list[tuple[Path, str]]) -> str:
        """The failures after the counts: " — a.png: why" for one; with more, the first and
        where the others are listed (not the first alone, as if it were the only one). A
        dash and a colon, not brackets: a reason often holds brackets of its own."""
        if not failed:
            return ""
        path, reason = failed[0]
        first = f" — {self._relative(path)}: {in_gui_words(reason)}"
        if len(failed) == 1:
            return first
        return f"{first}; {count(len(failed) - 1, 'other')} too, see Errors below"

    def _on_failed(self, reason: str) -> None:
        self.overall.end(f"Stopped by an error: {reason}")
        self.status.emit(reason)
        self.batchEnded.emit("failed")

    def _on_cancelled(self, _message: str) -> None:
        resume = (
            "Start again to resume."
            if self.skip_existing.isChecked()
            else "Tick “Skip images…” and start again to resume."
        )
        self.overall.end(
            f"Cancelled after {count(self._tally['done'], 'image')}; finished files are "
            f"kept and nothing partial was written. {resume}"
        )
        self.current_label.setText("")
        self.current_bar.setRange(0, 1)
        self.batchEnded.emit("cancelled")

    def _show_current(self, visible: bool) -> None:
        """The current file's line and bar only mean something while a batch runs."""
        self.current_label.setVisible(visible)
        self.current_bar.setVisible(visible)

    def _on_ended(self) -> None:
        self._update_show_output()
        self._show_current(False)
        self.job = None
        self.start_button.setEnabled(True)
