"""A training run as it goes: live losses and the latest validation picture with its scores.

Shared by the Retrain page and the phone wizard's fine-tuning step; both feed it the
distillation's TrainStep events and the run folder's view (run_view.RunView).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGroupBox, QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop_app.widgets.layouts import boxed
from desktop_app.widgets.loss_plot import LossPlot

PICTURE_TEXT = "The validation pictures appear here after the first check."
MAX_PICTURE_ZOOM = 3
VALIDATION_TITLE = "Check picture"
VALIDATION_COLUMNS = (
    "Left to right: small input (LR) · plain enlargement (bicubic) · "
    "Best quality (teacher) · your model (student) · original (HR)"
)
VALIDATION_TIP = (
    "Left to right, as labelled on the picture: the shrunken input the models get, a plain "
    "enlargement of it, the Best quality model's result, the model being trained, and the "
    "original photo it should come close to"
)


class FittedPicture(QLabel):
    """The check picture, refitted to the label's own width whenever that changes.

    A pixmap's width would otherwise be the label's minimum and widen the window past the
    screen (seen at 1024x700 after a run), or be cropped when it was fitted on a hidden page.
    """

    def __init__(self) -> None:
        super().__init__(PICTURE_TEXT)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.source: QPixmap | None = None

    def show_picture(self, pixmap: QPixmap | None) -> None:
        self.source = pixmap
        if pixmap is None:
            self.clear()
            self.setText(PICTURE_TEXT)
        else:
            self.setPixmap(self.fitted(pixmap))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.source is not None:
            self.setPixmap(self.fitted(self.source))

    def fitted(self, pixmap: QPixmap) -> QPixmap:
        """Whole-number enlargements keep the pixels (the point of the picture) and the
        labels crisp; a picture too wide for the view is scaled down smoothly."""
        room = max(200, self.width() - 8)
        if pixmap.width() > room:
            return pixmap.scaledToWidth(room, Qt.TransformationMode.SmoothTransformation)
        factor = min(room // pixmap.width(), MAX_PICTURE_ZOOM)
        return pixmap.scaledToWidth(
            pixmap.width() * factor, Qt.TransformationMode.FastTransformation
        )


class TrainingView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = LossPlot()
        self.picture = FittedPicture()
        self.validation = QLabel("")
        self.validation.setWordWrap(True)
        self.validation.setTextFormat(Qt.TextFormat.RichText)
        losses = boxed("Losses", self.plot)
        # The picture's own labels (the engine draws them) in brackets, so the two agree.
        check = QGroupBox(VALIDATION_TITLE)
        check.setToolTip(VALIDATION_TIP)
        check_layout = QVBoxLayout(check)
        self.columns = QLabel(VALIDATION_COLUMNS)
        self.columns.setWordWrap(True)
        self.columns.setObjectName("hint")
        check_layout.addWidget(self.columns)
        check_layout.addWidget(self.picture, 1)
        check_layout.addWidget(self.validation)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(losses, 3)
        layout.addWidget(check, 2)

    def show_rows(self, rows) -> None:
        """A run's history (step, stage, losses) from its folder."""
        self.plot.clear()
        for step, stage, losses in rows:
            self.plot.add(step, stage, losses)

    def show_validation(self, picture, text: str) -> None:
        """The latest side-by-side picture (a QImage, None: none yet) and its scores."""
        self.picture.show_picture(None if picture is None else QPixmap.fromImage(picture))
        self.validation.setText(text)
