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

from desktop_app.eta import Eta, left_text


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
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.text = ElidedLabel("")
        self.left = QLabel("")
        self.cancel = QPushButton("Cancel")
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
        self.bar.setRange(0, 0)  # busy until the first counted progress
        self.text.setText(text)
        self.left.setText("")
        self.cancel.setEnabled(True)
        self.cancel.setText("Cancel")

    def progress(self, stage: str, done: int, total: int, text: str) -> None:
        """Counted progress of one stage; the time left restarts with each new stage."""
        if stage != self._stage:
            self._stage = stage
            self._eta.start()
        if total <= 1 and done < total:
            # One unit (e.g. a single big tile of the teacher) can take minutes: an animated
            # busy bar says "working" where a bar stuck at 0 would look frozen.
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(done)
        self.text.setText(text)
        fraction = done / total if total else 0.0
        self.left.setText(left_text(self._eta.remaining(fraction)) if done < total else "")

    def fraction(self, fraction: float, text: str, eta: Eta) -> None:
        """Progress given as a fraction with the caller's own estimate (e.g. a batch)."""
        self.bar.setRange(0, 1000)
        self.bar.setValue(round(fraction * 1000))
        self.text.setText(text)
        self.left.setText(left_text(eta.remaining(fraction)) if fraction < 1 else "")

    def end(self, text: str) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if text else 0)
        self.text.setText(text)
        self.left.setText("")
        self.cancel.setEnabled(False)

    def _cancel_clicked(self) -> None:
        self.cancel.setEnabled(False)
        self.cancel.setText("Stopping…")
        self.cancelRequested.emit()
