"""Step 5: before and after on the user's photo (or the sample): bicubic, the new model and
the teacher in the upscale page's compare view, with PSNR-Y against the teacher."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.phone import jobs
from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.widgets.compare_panel import ComparePanel
from desktop_app.widgets.file_dialogs import DialogFolders
from engine.events import Notice

SAMPLE = jobs.SAMPLES / "astronaut.png"
NEW = "Your phone model"


class CompareStep(QWidget):
    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.photo = QLineEdit(ctx.state.compare_photo)
        self.photo.setPlaceholderText("the sample photo (astronaut); or choose one of yours")
        self.browse = QPushButton("Choose photo…")
        self.run_button = QPushButton("Compare")
        self.compare = ComparePanel()
        self.scores = QLabel("")
        self.scores.setWordWrap(True)
        self.panel = JobPanel(ctx.runner)
        self.comparison: jobs.Comparison | None = None
        row = QHBoxLayout()
        row.addWidget(QLabel("Photo:"))
        row.addWidget(self.photo, 1)
        row.addWidget(self.browse)
        row.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.compare, 1)
        layout.addWidget(self.scores)
        layout.addWidget(self.panel)
        self.browse.clicked.connect(self._browse)
        self.run_button.clicked.connect(self.run)
        self.compare.leftChoiceChanged.connect(self._show)
        ctx.changed.connect(self._refresh)
        self.panel.ended.connect(self._refresh)
        self._refresh()

    def _refresh(self, *_: object) -> None:
        self.run_button.setEnabled(bool(self.ctx.state.model_name) and not self.panel.running)

    def _browse(self) -> None:
        chosen = DialogFolders().open_file(self, "compare photo", "A photo to compare on")
        if chosen:
            self.photo.setText(str(chosen))

    def run(self) -> None:
        chosen = self.photo.text().strip()
        photo = Path(chosen) if chosen else SAMPLE
        self.ctx.update(compare_photo=chosen)
        setup, name = self.ctx.setup, self.ctx.state.model_name
        models = {"Bicubic": "bicubic", NEW: name}
        self.panel.run(
            lambda cancel: jobs.compare_job(photo, models, setup.teacher, setup.compare_side,
                                            cancel),
            f"Upscaling the middle of {photo.name} three ways…", on_event=self._on_event,
            on_finished=self._compared, done_text="Compared.",
        )  # fmt: skip

    def _on_event(self, event: object) -> None:
        if isinstance(event, Notice):
            self.panel.busy(event.message.capitalize() + "…")

    def _compared(self, comparison: jobs.Comparison) -> None:
        self.comparison = comparison
        self.compare.set_left_choices(["Bicubic", "Teacher"], "Bicubic")
        self._show(self.compare.left_current)
        scores = comparison.psnr_vs_teacher
        self.scores.setText(
            "Fidelity to the teacher on this crop (PSNR-Y, higher is closer): "
            + ", ".join(f"{title} {db:.2f} dB" for title, db in scores.items())
            + ". The teacher is the slow network the phone model learned from."
        )

    def _show(self, before: str) -> None:
        if self.comparison is None:
            return
        images = self.comparison.images
        self.compare.view.set_images(
            images.get(before), images[NEW], before_label=before, after_label=NEW
        )
