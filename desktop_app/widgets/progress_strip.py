"""A progress bar with a line of text, the time left, and a Cancel button."""

from __future__ import annotations

import time

from PySide6.QtCore import QElapsedTimer, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionProgressBar,
    QWidget,
)

from desktop_app.widgets.eta import Eta, ProgressLine, left_text

CANCEL = "Cancel"
BAR_STEPS = 1000
BUSY_FRAME_MS = 40
BUSY_PERIOD_MS = 2400
COUNTDOWN_MS = 1000


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" (full text in the tooltip).

    A plain QLabel asks for the width of its whole text: one long error message would make
    the window wider than the screen.
    """

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        *,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(text, parent)
        self._elide = elide
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # type: ignore[override]
        super().setText(text)
        self.setToolTip(text)

    def set_wrapping(self, wrap: bool) -> None:
        """Wrapped onto more lines (the whole text shown) instead of shortened with "…"."""
        if wrap != self.wordWrap():
            self.setWordWrap(wrap)
            self.updateGeometry()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.wordWrap():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())

    def shown_text(self) -> str:
        """The text as drawn on one line: shortened with "…" where it does not fit."""
        return self.fontMetrics().elidedText(self.text(), self._elide, self.contentsRect().width())


class ProgressBar(QProgressBar):
    """A progress bar whose busy state (range 0..0) is a short block sliding along an empty
    groove. Fusion draws Qt's own busy state as a full, striped bar, which reads as "done"
    while a model is still loading."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clock = QElapsedTimer()
        self._clock.start()
        self._ticker = QTimer(self)
        self._ticker.setInterval(BUSY_FRAME_MS)
        self._ticker.timeout.connect(self._tick)

    @property
    def busy(self) -> bool:
        return self.minimum() == self.maximum() == 0

    def _tick(self) -> None:
        if self.busy and self.isVisible():
            self.update()
        else:
            self._ticker.stop()  # restarted by the next busy paint

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.busy:
            self._ticker.stop()
            super().paintEvent(event)
            return
        if not self._ticker.isActive():
            self._ticker.start()
        option = QStyleOptionProgressBar()
        self.initStyleOption(option)
        option.minimum, option.maximum, option.progress = 0, 1, 0  # the empty groove
        painter = QPainter(self)
        self.style().drawControl(QStyle.ControlElement.CE_ProgressBar, option, painter, self)
        groove = self.rect().adjusted(1, 1, -1, -1)
        block = max(groove.width() // 5, 8)
        # Back and forth once every BUSY_PERIOD_MS.
        phase = (self._clock.elapsed() % BUSY_PERIOD_MS) / BUSY_PERIOD_MS
        travel = 1.0 - abs(2.0 * phase - 1.0)
        left = groove.left() + round(travel * (groove.width() - block))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().color(QPalette.ColorRole.Highlight))
        painter.drawRoundedRect(QRect(left, groove.top(), block, groove.height()), 2, 2)


class ProgressStrip(QWidget):
    """``begin`` a job (busy), show its progress, ``end`` it with a line.

    The bar is full only for a job that completed: a cancelled or failed job leaves it
    empty, and a step of unknown length (loading a model, writing the result) shows the
    animated busy bar rather than a full or frozen one.
    """

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = ProgressBar()
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
        # Between two reports the time left counts down on its own (a long tile may report
        # rarely); each report sets it afresh.
        self._deadline: float | None = None
        self._countdown = QTimer(self)
        self._countdown.setInterval(COUNTDOWN_MS)
        self._countdown.timeout.connect(self._show_left)

    def begin(self, text: str) -> None:
        self._stage = ""
        self.busy(text)
        self.cancel.setEnabled(True)
        self.cancel.setText(CANCEL)

    def busy(self, text: str, seconds_left: float | None = None) -> None:
        """A step whose length is unknown (busy bar), with the time left if it is known."""
        self.bar.setRange(0, 0)
        self.text.set_wrapping(False)
        self._show_meters(True)
        self.text.setText(text)
        self._set_left(seconds_left, shown=seconds_left is not None)

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
        self.text.set_wrapping(False)
        self._show_meters(True)
        self.text.setText(text)
        self._set_left(self._eta.remaining(done / total), shown=done < total)

    def fraction(self, fraction: float, text: str, eta: Eta) -> None:
        """Progress given as a fraction with the caller's own estimate (e.g. a batch)."""
        self.estimated(fraction, text, eta.remaining(fraction))

    def estimated(self, fraction: float, text: str, seconds_left: float | None) -> None:
        """Progress as a fraction with the time left already estimated (None: not yet)."""
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setValue(min(round(fraction * BAR_STEPS), BAR_STEPS))
        self.text.set_wrapping(False)
        self._show_meters(True)
        self.text.setText(text)
        self._set_left(seconds_left, shown=fraction < 1)

    def show_line(self, line: ProgressLine) -> None:
        if line.fraction is None:
            self.busy(line.text, line.seconds_left)
        else:
            self.estimated(line.fraction, line.text, line.seconds_left)

    def end(self, text: str, *, complete: bool = False) -> None:
        """The job is over: a full bar only if it ``complete``-d, the button ready again."""
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if complete else 0)
        # How a job ended is read once, at leisure: all of it, on as many lines as it needs
        # ("finished files are k…" hid what was kept). Lines that change while a job runs
        # stay on one line, so the strip does not jump.
        self.text.set_wrapping(True)
        self.text.setText(text)
        self._set_left(None, shown=False)
        # The bar says nothing once the text says how it ended; its room goes to the text, so
        # the wrapped line is not a tall narrow column squeezing the page (seen at 1024x700).
        self._show_meters(False)
        self.cancel.setEnabled(False)
        self.cancel.setText(CANCEL)

    def _show_meters(self, shown: bool) -> None:
        self.bar.setVisible(shown)
        self.left.setVisible(shown)

    def _set_left(self, seconds: float | None, *, shown: bool) -> None:
        if not shown:
            self._deadline = None
            self._countdown.stop()
            self.left.setText("")
            return
        self._deadline = None if seconds is None else time.monotonic() + seconds
        if self._deadline is None:
            self._countdown.stop()
        else:
            self._countdown.start()
        self._show_left()

    def _show_left(self) -> None:
        if self._deadline is None:
            self.left.setText(left_text(None))
            return
        # Past its estimate a job is not "0 s" from done: say nothing firmer than that.
        left = self._deadline - time.monotonic()
        self.left.setText(left_text(left) if left >= 1 else "almost done…")

    def _cancel_clicked(self) -> None:
        self.cancel.setEnabled(False)
        self.cancel.setText("Stopping…")
        self.cancelRequested.emit()
