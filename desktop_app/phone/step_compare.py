"""Step 5: before and after on the user's photo (or the sample): bicubic, the new model and
the teacher in the upscale page's compare view, with PSNR-Y against the teacher."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.model_names import shown_title
from desktop_app.phone import jobs
from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.widgets.compare_panel import ComparePanel
from desktop_app.widgets.eta import format_duration
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.wording import first_upper
from engine.errors import MfaganError
from engine.events import Notice
from engine.models import registry
from engine.models.registry import MEASURED_ON, MEASURED_SECONDS

SAMPLE = jobs.SAMPLES / "astronaut.png"
NEW = "Your phone model"
TEACHER = "Teacher"  # the compare job's key for the teacher's picture
EMPTY_HINT = "Click Compare to see your phone model beside bicubic and the teacher"
BENCH_PIXELS = 512 * 512  # the photo MEASURED_SECONDS were timed on


def menu_name(spec: str, fallback: str) -> str:
    """The name the model menu gives ``spec`` ("Plain enlarge (bicubic, no AI)", "Best
    quality (Real-ESRGAN)", "Your phone model: phone-sd865"): the pictures were labelled in
    words of their own ("mfagan x4")."""
    try:
        return shown_title(registry.get_model(spec))
    except MfaganError:
        return fallback


def bench_seconds(teacher: str, chosen: str, side: int) -> float | None:
    """The three upscales of a ``side`` x ``side`` crop, from the bench's seconds for a
    512x512 photo (None: the teacher was never timed). A picked network not timed itself
    counts as the slowest timed student: it was picked to fit a phone, so it is no slower."""
    teacher_s = MEASURED_SECONDS.get(teacher)
    if teacher_s is None:
        return None
    students = [s for key, s in MEASURED_SECONDS.items() if key.startswith("mfa ")]
    new_s = MEASURED_SECONDS.get(f"mfa {chosen}", max(students, default=0.0))
    total = teacher_s + new_s + MEASURED_SECONDS.get("bicubic", 0.0)
    return total * side * side / BENCH_PIXELS


class CompareStep(QWidget):
    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.photo = QLineEdit(ctx.state.compare_photo)
        self.photo.setPlaceholderText("the sample photo (astronaut); or choose one of yours")
        self.browse = QPushButton("Choose photo…")
        self.run_button = QPushButton("Compare")
        self.compare = ComparePanel()
        self.compare.view.placeholder = EMPTY_HINT  # this page has no Open or Paste
        self.scores = QLabel("")
        self.scores.setWordWrap(True)
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.panel = JobPanel(ctx.runner)
        self.comparison: jobs.Comparison | None = None
        self.labels: dict[str, str] = {}  # the job's picture keys -> the model menu's names
        self._started = 0.0
        self._expected: float | None = None
        row = QHBoxLayout()
        row.addWidget(QLabel("Photo:"))
        row.addWidget(self.photo, 1)
        row.addWidget(self.browse)
        row.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.estimate)
        layout.addWidget(self.compare, 1)
        layout.addWidget(self.scores)
        layout.addWidget(self.panel)
        self.browse.clicked.connect(self._browse)
        self.run_button.clicked.connect(self.run)
        self.compare.leftChoiceChanged.connect(self._show)
        ctx.changed.connect(self._refresh)
        ctx.jobs.changed.connect(self._refresh)
        self.panel.started.connect(self._refresh)
        self.panel.ended.connect(self._refresh)
        self._refresh()

    def _refresh(self, *_: object) -> None:
        why = self.ctx.jobs.why_not(self.panel)
        running = self.panel.running
        self.run_button.setEnabled(bool(self.ctx.state.model_name) and not running and not why)
        self.run_button.setToolTip(why)
        self.estimate.setText(self.estimate_text())

    def expected_seconds(self) -> float | None:
        """This computer's last compare, else the bench's speeds scaled to the crop."""
        s = self.ctx.state
        if s.compare_s:
            return s.compare_s
        seconds = bench_seconds(self.ctx.setup.teacher, s.chosen, self.ctx.setup.compare_side)
        return None if seconds is None else max(seconds, 1.0)

    def estimate_text(self) -> str:
        seconds = self.expected_seconds()
        if seconds is None:
            return "How long it takes is known after the first compare on this computer."
        about = f"About {format_duration(seconds)}"
        if self.ctx.state.compare_s:
            return f"{about} on this computer (the last compare took that long)."
        return f"{about}, from the speeds measured for {MEASURED_ON}; the teacher takes most."

    def _browse(self) -> None:
        chosen = DialogFolders().open_file(self, "compare photo", "A photo to compare on")
        if chosen:
            self.photo.setText(str(chosen))

    def run(self) -> None:
        if self.ctx.jobs.refuse(self.panel):
            return
        chosen = self.photo.text().strip()
        photo = Path(chosen) if chosen else SAMPLE
        self.ctx.update(compare_photo=chosen)
        setup, name = self.ctx.setup, self.ctx.state.model_name
        models = {"Bicubic": "bicubic", NEW: name}
        self.labels = {
            "Bicubic": menu_name("bicubic", "Plain enlarge"),
            NEW: menu_name(name, f"{NEW}: {name}"),
            TEACHER: menu_name(setup.teacher, "Best quality"),
        }
        self._started, self._expected = time.monotonic(), self.expected_seconds()
        self.panel.run(
            lambda cancel: jobs.compare_job(photo, models, setup.teacher, setup.compare_side,
                                            cancel),
            f"Upscaling the middle of {photo.name} three ways…", on_event=self._on_event,
            on_finished=self._compared, done_text="Compared.",
        )  # fmt: skip
        self.panel.busy(self.panel.text.text(), self._seconds_left())

    def _seconds_left(self) -> float | None:
        # Past the estimate the strip says "almost done…", never a negative time.
        if self._expected is None:
            return None
        return self._expected - (time.monotonic() - self._started)

    def _on_event(self, event: object) -> None:
        if isinstance(event, Notice):
            self.panel.busy(first_upper(event.message) + "…", self._seconds_left())

    def _compared(self, comparison: jobs.Comparison) -> None:
        self.comparison = comparison
        self.ctx.update(compare_s=round(time.monotonic() - self._started, 2))
        labels = self.labels
        self.compare.set_left_choices([labels["Bicubic"], labels[TEACHER]], labels["Bicubic"])
        self._show(self.compare.left_current)
        scores = comparison.psnr_vs_teacher
        self.scores.setText(
            f"How close each comes to {labels[TEACHER]} on this crop (higher is closer): "
            + ", ".join(f"{labels.get(key, key)} {db:.2f} dB" for key, db in scores.items())
            + "."
        )
        self.scores.setToolTip(
            "PSNR-Y in dB against the teacher's (Best quality's) result: the slow network "
            "the phone model learned from"
        )

    def _show(self, before: str) -> None:
        if self.comparison is None:
            return
        images = self.comparison.images
        key = next((k for k, label in self.labels.items() if label == before), before)
        self.compare.view.set_images(
            images.get(key), images[NEW], before_label=before, after_label=self.labels[NEW]
        )
