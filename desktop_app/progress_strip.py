"""A progress bar with a line of text, the time left, and a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from desktop_app.eta import Eta, ProgressLine, left_text

CANCEL = "Cancel"
BAR_STEPS = 1000


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" (full text in the tooltip).

    A plain QLabel asks for the width of its whole text: one long error message would make
    the window wider than the screen.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # type: ignore[override]
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width()
        )
        painter.drawText(self.contentsRect(), int(self.alignment()), shown)


class ProgressStrip(QWidget):
    """``begin`` a job (busy), show its progress, ``end`` it with a line.

    The bar is full only for a job that completed: a cancelled or failed job leaves it
    empty, and a step of unknown length (loading a model, writing the result) shows the
    animated busy bar rather than a full or frozen one.
    """

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.text = ElidedLabel("")
        self.left = QLabel("")
        self.cancel = QPushButton(CANCEL)
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.left, 1)
        layout.addWidget(self.cancel)
        self._eta = Eta()
        self._stage = ""

    def begin(self, text: str) -> None:
        self._stage = ""
        self.busy(text)
        self.cancel.setEnabled(True)
        self.cancel.setText(CANCEL)

    def busy(self, text: str) -> None:
        """A step whose length is unknown: animated bar, no time left."""
        self.bar.setRange(0, 0)
        self.text.setText(text)
        self.left.setText("")

    def progress(self, stage: str, done: int, total: int, text: str) -> None:
        """Counted progress of one stage; the time left restarts with each new stage."""
        if stage != self._stage:
            self._stage = stage
            self._eta.start()
        if total <= 1:
            # One unit (e.g. a single big tile of the teacher, or loading a model) can take
            # minutes: an animated busy bar says "working" where a bar stuck at 0 would look
            # frozen, and one at 1 of 1 would look finished while the job goes on.
            self.busy(text)
            return
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.text.setText(text)
        self.left.setText(left_text(self._eta.remaining(done / total)) if done < total else "")

    def fraction(self, fraction: float, text: str, eta: Eta) -> None:
        """Progress given as a fraction with the caller's own estimate (e.g. a batch)."""
        self.estimated(fraction, text, eta.remaining(fraction))

    def estimated(self, fraction: float, text: str, seconds_left: float | None) -> None:
        """Progress as a fraction with the time left already estimated (None: not yet)."""
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setValue(min(round(fraction * BAR_STEPS), BAR_STEPS))
        self.text.setText(text)
        self.left.setText(left_text(seconds_left) if fraction < 1 else "")

    def show(self, line: ProgressLine) -> None:
        if line.fraction is None:
            self.busy(line.text)
        else:
            self.estimated(line.fraction, line.text, line.seconds_left)

    def end(self, text: str, *, complete: bool = False) -> None:
        """The job is over: a full bar only if it ``complete``-d, the button ready again."""
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if complete else 0)
        self.text.setText(text)
        self.left.setText("")
        self.cancel.setEnabled(False)
        self.cancel.setText(CANCEL)

    def _cancel_clicked(self) -> None:
        self.cancel.setEnabled(False)
        self.cancel.setText("Stopping…")
        self.cancelRequested.emit()
