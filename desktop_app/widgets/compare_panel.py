"""The compare view with its toolbar (mode, fit, 1:1, zoom) and the line about the result."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.widgets.compare_view import CompareView, Mode

ORIGINAL = "Original"
BEFORE_TIP = "What the before side shows: the original or another result of this photo"
# Why "Before:" is greyed: a new user saw it disabled and could not tell what unlocks it.
NOTHING_TO_COMPARE_TIP = (
    "The before side shows the original. Upscale this photo again with another model or "
    "size, and you can pick either result here to compare the two."
)


def _tool(text: str, tip: str, shortcut: str | None = None) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip + (f" ({shortcut})" if shortcut else ""))
    if shortcut:
        button.setShortcut(QKeySequence(shortcut))
    return button


class ComparePanel(QWidget):
    """``leftChoiceChanged(text)``: the user picked what the left/before side shows."""

    leftChoiceChanged = Signal(str)
    modeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = CompareView()
        self.split_button = _tool("Split", "Before and after under one draggable line", "S")
        self.side_button = _tool("Side by side", "Before and after next to each other", "D")
        self.fit_button = _tool("Fit", "Show the whole image", "F")
        self.actual_button = _tool("1:1", "One image pixel per screen pixel", "1")
        self.zoom_out = _tool("−", "Zoom out", "-")
        self.zoom_in = _tool("+", "Zoom in", "+")
        self.zoom_label = QLabel("")  # blank while there is nothing to zoom
        self.zoom_label.setMinimumWidth(40)
        self.left_label = QLabel("Before:")
        self.left_choice = QComboBox()
        self.info = QLabel("")
        self.info.setObjectName("resultInfo")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)  # the page escapes what it shows
        self.info.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._build()
        self._connect()
        self.set_mode(self.view.mode)
        self._content_changed()
        # Until a photo with two results is on show there is nothing to pick (also on a
        # start with remembered settings and no photo).
        self.set_left_choices([], ORIGINAL)

    def _build(self) -> None:
        modes = QButtonGroup(self)
        for button in (self.split_button, self.side_button):
            button.setCheckable(True)
            modes.addButton(button)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.split_button)
        bar.addWidget(self.side_button)
        bar.addSpacing(6)
        bar.addWidget(self.left_label)
        bar.addWidget(self.left_choice)
        bar.addStretch(1)
        for widget in (self.zoom_out, self.zoom_label, self.zoom_in, self.fit_button):
            bar.addWidget(widget)
        bar.addWidget(self.actual_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.info)

    def _connect(self) -> None:
        self.split_button.clicked.connect(self.show_split)
        self.side_button.clicked.connect(self.show_side_by_side)
        self.fit_button.clicked.connect(self.view.fit)
        self.actual_button.clicked.connect(self.view.actual_pixels)
        self.zoom_in.clicked.connect(self._zoom_in)
        self.zoom_out.clicked.connect(self._zoom_out)
        self.view.zoomChanged.connect(self._show_zoom)
        self.view.contentChanged.connect(self._content_changed)
        self.left_choice.currentTextChanged.connect(self.leftChoiceChanged)

    def show_split(self) -> None:
        self.set_mode("split")

    def show_side_by_side(self) -> None:
        self.set_mode("side")

    def _zoom_in(self) -> None:
        self.view.zoom_by(1.25)

    def _zoom_out(self) -> None:
        self.view.zoom_by(0.8)

    def _show_zoom(self, zoom: float) -> None:
        # Over an empty canvas a percentage means nothing.
        self.zoom_label.setText(f"{zoom * 100:.0f}%" if self.view.has_content else "")

    def _content_changed(self) -> None:
        shown = self.view.has_content
        for button in (self.zoom_out, self.zoom_in, self.fit_button, self.actual_button):
            button.setEnabled(shown)
        self._show_zoom(self.view.zoom)

    def set_mode(self, mode: Mode) -> None:
        self.view.set_mode(mode)
        self.split_button.setChecked(mode == "split")
        self.side_button.setChecked(mode == "side")
        self.modeChanged.emit(mode)

    def set_left_choices(self, choices: list[str], current: str) -> None:
        """Original plus the other results of this image (compare models on one photo)."""
        self.left_choice.blockSignals(True)
        self.left_choice.clear()
        self.left_choice.addItems([ORIGINAL, *choices])
        index = self.left_choice.findText(current)
        self.left_choice.setCurrentIndex(max(0, index))
        self.left_choice.setEnabled(bool(choices))
        self.left_label.setEnabled(bool(choices))
        # A disabled widget still shows its tooltip: the reason it is greyed.
        tip = BEFORE_TIP if choices else NOTHING_TO_COMPARE_TIP
        self.left_choice.setToolTip(tip)
        self.left_label.setToolTip(tip)
        self.left_choice.blockSignals(False)

    @property
    def left_current(self) -> str:
        return self.left_choice.currentText()
