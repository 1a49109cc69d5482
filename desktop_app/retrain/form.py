"""The left column of the Retrain page: photos, budget with its estimate, the model's name.

It remembers itself (RetrainSettings), counts the photos in a worker, turns a time budget
into steps with this computer's measurement, and knows whether a run can start or resume;
the page starts the jobs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.model_names import model_file_words
from desktop_app.retrain import jobs as rj
from desktop_app.retrain.plan import (
    Measurement,
    base_config,
    configure,
    estimate_summary,
    explain_estimate,
    shipped_student_available,
    steps_for_minutes,
)
from desktop_app.settings import RetrainSettings, SettingsStore
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.widgets.run_view import RunView
from desktop_app.wording import in_gui_words
from desktop_app.workers import JobRunner, file_system_line
from engine.distill.config import DataConfig, DistillConfig
from engine.distill.export import check_model_name
from engine.errors import MfaganError
from engine.events import Progress
from engine.models.registry import user_models_dir

ERROR = "<span style='color:#c0392b'>{}</span>"
SKIPPED_SHOWN = 4  # files left out listed on the form; the tooltip has them all
# A file name longer than this is shortened in the middle on the form ("IMG_2024…_0042.jpg"):
# one word too long to wrap widened the form past a 1024 px window. The tooltip has it whole.
NAME_SHOWN = 28
MIN_PHOTOS = 2  # the fewest a run (and Measure, which times its steps) trains on
MEASURE_TIP = "Times a few real training steps on your photos to estimate how long it takes."
# Why Measure is greyed, said in the estimate line as well as the button's tooltip: a
# tooltip is found only by hovering, and the line is where the form says what Measure does.
MEASURE_GREYED = (
    f"Measure needs at least {MIN_PHOTOS} photos to time training on: add a folder of your "
    "photos under “1 · Your photos”."
)


def short_name(line: str) -> str:
    """ "a-very-long-file-name.jpg: reason" with the name cut in the middle to NAME_SHOWN."""
    name, colon, reason = line.partition(": ")
    if len(name) <= NAME_SHOWN:
        return line
    keep = NAME_SHOWN - 1
    return f"{name[: keep - keep // 2]}…{name[-(keep // 2) :]}{colon}{reason}"


def hint(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


class RetrainForm(QWidget):
    nameChanged = Signal()  # after typing pauses: the page looks for a run of that name
    photosCounted = Signal(int)
    status = Signal(str)

    def __init__(
        self, store: SettingsStore, runner: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store, self.runner = store, runner
        self.dialogs = DialogFolders(store)
        self.settings = saved = store.load(RetrainSettings)
        self.running = False
        self.run_view: RunView | None = None
        self.photos = 0
        self._counted: rj.PhotoCount | None = None  # the count the form shows
        self._counts_running = 0
        self._recount_after = False  # asked for while a count ran: files may have changed since
        self.folders = QListWidget()
        self.folders.addItems(list(saved.folders))
        self.folders.setMaximumHeight(110)
        self.add_folder, self.remove_folder = QPushButton("Add folder…"), QPushButton("Remove")
        self.photo_count = QLabel("")
        self.skipped = hint()  # each file left out and why: visible, not only in a tooltip
        self.skipped.setTextFormat(Qt.TextFormat.PlainText)
        self.skipped.setVisible(False)
        self.by_steps, self.by_time = QRadioButton("Steps"), QRadioButton("Time")
        self.steps = QSpinBox(minimum=1, maximum=1_000_000, value=saved.steps)
        self.minutes = QSpinBox(minimum=1, maximum=7 * 24 * 60, value=saved.minutes, suffix=" min")
        (self.by_time if saved.budget_mode == "minutes" else self.by_steps).setChecked(True)
        self.estimate = hint()
        self.measure_button = QPushButton("Measure this computer")
        self.name = QLineEdit(saved.name)
        self.name_hint, self.start_from = hint(), hint()
        self.config_file = QLineEdit(saved.config_file)
        self.config_file.setPlaceholderText("optional settings file (TOML/JSON)")
        self.browse_config = QPushButton("Browse…")
        self.start_button, self.resume_button = QPushButton("Start training"), QPushButton()
        self._name_timer = QTimer(self, singleShot=True, interval=300)
        self._build()
        self._connect()
        self.refresh_photos()

    def _build(self) -> None:
        photos = QGroupBox("1 · Your photos")
        photos_layout = QVBoxLayout(photos)
        photos_layout.addWidget(self.folders)
        row = QHBoxLayout()
        for widget in (self.add_folder, self.remove_folder):
            row.addWidget(widget)
        row.addWidget(self.photo_count, 1)
        photos_layout.addLayout(row)
        photos_layout.addWidget(self.skipped)
        # Grids and boxes, not QFormLayout: its spanning rows cut wrapped text to one line.
        budget = QGroupBox("2 · How long")
        modes, grid = QButtonGroup(self), QGridLayout()
        for line, (button, spin) in enumerate(
            ((self.by_steps, self.steps), (self.by_time, self.minutes))
        ):
            modes.addButton(button)
            grid.addWidget(button, line, 0)
            grid.addWidget(spin, line, 1)
        budget_layout = QVBoxLayout(budget)
        budget_layout.addLayout(grid)
        budget_layout.addWidget(self.estimate)
        budget_layout.addWidget(self.measure_button)
        model = QGroupBox("3 · The new model")
        fields = QGridLayout()
        fields.addWidget(QLabel("Name"), 0, 0)
        fields.addWidget(self.name, 0, 1, 1, 2)
        fields.addWidget(QLabel("Config"), 1, 0)
        fields.addWidget(self.config_file, 1, 1)
        fields.addWidget(self.browse_config, 1, 2)
        model_layout = QVBoxLayout(model)
        model_layout.addLayout(fields)
        model_layout.addWidget(self.name_hint)
        model_layout.addWidget(self.start_from)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.resume_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        for box in (photos, budget, model):
            layout.addWidget(box)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.setMinimumWidth(380)

    def _connect(self) -> None:
        self.add_folder.clicked.connect(self._pick_folder)
        self.remove_folder.clicked.connect(self._remove_folder)
        for spin in (self.steps, self.minutes):
            spin.valueChanged.connect(self.remember)
        self.by_steps.toggled.connect(self.remember)
        self.config_file.editingFinished.connect(self.remember)
        self.browse_config.clicked.connect(self._pick_config)
        self.name.textEdited.connect(self._name_timer.start)
        self._name_timer.timeout.connect(self.name_edited)

    # ---- editing -----------------------------------------------------------------------

    def folder_paths(self) -> list[Path]:
        return [Path(self.folders.item(i).text()) for i in range(self.folders.count())]

    def set_folders(self, folders: list[Path]) -> None:
        self.folders.clear()
        self.folders.addItems([str(f) for f in folders])
        self.refresh_photos()

    def _pick_folder(self) -> None:
        folder = self.dialogs.folder(self, "retrain photos", "A folder of your photos")
        if folder and folder not in self.folder_paths():
            self.folders.addItem(str(folder))
            self.refresh_photos()

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self.refresh_photos()

    def _pick_config(self) -> None:
        chosen = self.dialogs.open_file(
            self, "retrain config", "Distillation config", "Config (*.toml *.json)", kind="files"
        )
        if chosen:
            self.config_file.setText(str(chosen))
            self.remember()

    def name_edited(self) -> None:
        self.remember()
        self.nameChanged.emit()

    def remember(self) -> None:
        self.settings = dataclasses.replace(
            self.settings,
            folders=tuple(str(p) for p in self.folder_paths()),
            name=self.name.text().strip(),
            budget_mode="minutes" if self.by_time.isChecked() else "steps",
            steps=self.steps.value(),
            minutes=self.minutes.value(),
            config_file=self.config_file.text().strip(),
        )
        self.store.save(self.settings)
        self.refresh()

    def refresh_photos(self) -> None:
        self.remember()
        self.photo_count.setText("counting…")
        self.photo_count.setToolTip("")
        self._start_count(previous=None)

    def recount_photos(self) -> None:
        """Count again in case files came or went in the folders (the page is shown again,
        the window comes back from the file manager). The count shown stays up meanwhile,
        and files unchanged since it are not decoded again."""
        if self._counts_running:
            self._recount_after = True
            return
        self._start_count(previous=self._counted)

    def _start_count(self, *, previous: rj.PhotoCount | None) -> None:
        folders = self.folder_paths()
        try:
            min_side = base_config(self._config_file()).data.hr_crop
        except MfaganError:
            min_side = DataConfig().hr_crop
        self._counts_running += 1
        self.runner.start(
            lambda cancel: rj.count_job(folders, min_side, cancel, previous=previous),
            name="count",
            on_event=self._counting,
            on_finished=self._photos_counted,
            on_failed=self.status.emit,
            on_ended=self._count_ended,
        )

    def _count_ended(self) -> None:
        self._counts_running -= 1
        if self._recount_after and not self._counts_running:
            self._recount_after = False
            self.recount_photos()

    def _counting(self, event: object) -> None:
        if isinstance(event, Progress) and event.total:
            self.photo_count.setText(f"checking photos… {event.done} of {event.total}")

    def _photos_counted(self, counted: rj.PhotoCount) -> None:
        if counted.folders != tuple(str(p) for p in self.folder_paths()):
            return  # an older count, for folders since changed
        self._counted = counted
        count = self.photos = counted.good
        text = f"{count} photo{'s' if count != 1 else ''}"
        skipped = counted.files - count
        if skipped:
            # Damaged files (and tiny or duplicate photos) are not trained on: not counted.
            text += f", {skipped} skipped"
        if count < MIN_PHOTOS:
            text += f" (at least {MIN_PHOTOS} needed)"
        self.photo_count.setText(text)
        self._show_skipped(counted.skipped)
        self.refresh()
        self.photosCounted.emit(count)

    def _show_skipped(self, lines: tuple[str, ...]) -> None:
        shown = [short_name(line) for line in lines[:SKIPPED_SHOWN]]
        if len(lines) > SKIPPED_SHOWN:
            shown.append(f"… and {len(lines) - SKIPPED_SHOWN} more (hover for the whole list)")
        self.skipped.setText("Not trained on:\n" + "\n".join(shown) if lines else "")
        full = "Not trained on:\n" + "\n".join(lines) if lines else ""
        self.skipped.setToolTip(full)
        self.photo_count.setToolTip(full)
        self.skipped.setVisible(bool(lines))

    # ---- what the form describes -------------------------------------------------------

    def run_folder(self) -> Path:
        return rj.run_dir(self.settings.name or "unnamed")

    def _config_file(self) -> Path | None:
        return Path(self.settings.config_file) if self.settings.config_file else None

    def config(self, steps: int | None = None) -> DistillConfig:
        """The run the form describes (UsageError for a bad config file)."""
        base = base_config(self._config_file())
        return configure(base, self.folder_paths(), steps or self.steps.value(), self.photos)

    def measurement(self) -> Measurement | None:
        return Measurement.from_settings(self.settings.measured)

    def set_measurement(self, measured: Measurement) -> None:
        self.settings = dataclasses.replace(self.settings, measured=measured.as_settings())
        self.store.save(self.settings)
        self.refresh()

    def planned_steps(self) -> int | None:
        """Steps of the run: the spin box, or what the time budget allows (once measured)."""
        if self.by_steps.isChecked():
            return self.steps.value()
        measured = self.measurement()
        if measured is None:
            return None
        base, folders = base_config(self._config_file()), self.folder_paths()
        return steps_for_minutes(
            lambda steps: configure(base, folders, steps, self.photos),
            self.photos,
            self.minutes.value(),
            measured,
        )

    def _estimate_text(self) -> tuple[str, str]:
        """(the estimate in a line or two, the sum behind it for the tooltip)."""
        measured, steps = self.measurement(), self.planned_steps()
        config = self.config(steps)
        if measured is None or not measured.fits(config):
            if self.photos < MIN_PHOTOS:
                return f"Not measured on this computer yet. {MEASURE_GREYED}", ""
            return (
                "Not measured on this computer yet: <b>Measure</b> times a few real training "
                "steps (under a minute when the computer is not busy) to estimate how long "
                "it takes.",
                "",
            )
        return (
            estimate_summary(config, self.photos, measured),
            explain_estimate(config, self.photos, measured),
        )

    def name_error(self) -> str:
        """Why no run may be started or resumed under this name ("" if one may)."""
        name = self.settings.name
        try:
            check_model_name(name)
        except MfaganError as error:
            return ERROR.format(in_gui_words(str(error)))
        return ""

    def _name_taken(self, name: str) -> tuple[bool, str]:
        """Whether a model of the user's has this name; or why the data folder, where runs
        and models go, cannot be used (a file in its place, a name too long)."""
        try:
            return (user_models_dir() / f"{name}.safetensors").is_file(), ""
        except MfaganError as error:
            return False, ERROR.format(in_gui_words(str(error)))
        except OSError as error:  # a name too long to even look at
            return False, ERROR.format(file_system_line(error))

    # ---- state -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Estimate, hints and which buttons may be used now."""
        self.steps.setEnabled(self.by_steps.isChecked())
        self.minutes.setEnabled(self.by_time.isChecked())
        self.start_from.setText(
            "Starts from the shipped Fast (MFAGAN) model and fine-tunes it on your photos."
            if shipped_student_available() or self.settings.config_file
            else "No trained Fast model ships yet, so this trains a new one from scratch: it needs "
            "many steps (the full recipe is 40,000) to beat bicubic clearly."
        )
        try:
            text, details = self._estimate_text()
            self.estimate.setText(text)
            self.estimate.setToolTip(details)
            planned = self.planned_steps()
        except MfaganError as error:
            self.estimate.setText(ERROR.format(model_file_words(in_gui_words(str(error)))))
            self.estimate.setToolTip("")
            planned = None
        view, name, running = self.run_view, self.settings.name, self.running
        exists = view is not None and view.checkpoint_step is not None
        name_error = self.name_error()
        # A new run must not silently replace a model of the user's; resuming that model's own
        # run (e.g. with more steps) replaces it on purpose.
        taken, storage_error = self._name_taken(name)
        name_error = name_error or storage_error
        if name_error:
            hint = name_error
        elif exists:
            hint = f"A run named “{name}” exists: resume it (more steps), or choose another name."
        elif taken:
            hint = f"You have a model named “{name}” already: choose a new name for a new run."
        else:
            hint = f"Appears in the model list as “{name}”."
        self.name_hint.setText(hint)
        ready = self.photos >= MIN_PHOTOS and planned is not None and not name_error
        self.start_button.setEnabled(not running and ready and not exists and not taken)
        self.resume_button.setEnabled(not running and exists and not name_error)
        self.resume_button.setText(
            f"Resume (step {view.checkpoint_step} of "
            f"{max(view.total_steps or 0, self.steps.value())})"
            if exists and view
            else "Resume"
        )
        enough = self.photos >= MIN_PHOTOS
        self.measure_button.setEnabled(not running and enough)
        self.measure_button.setToolTip(MEASURE_TIP if enough else MEASURE_GREYED)
        for widget in (self.add_folder, self.remove_folder, self.name, self.config_file):
            widget.setEnabled(not running)
        # Wrapped labels changed height: Qt does not redo the layout's height-for-width by
        # itself when a label's text changes, and the boxes would keep their old height.
        self.layout().invalidate()
