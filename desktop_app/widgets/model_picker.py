"""The model list of a settings panel: names for people with the config in tooltips, the
chosen model's one-line description and, once it has run here, what it took on this
computer."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.widgets.eta import format_duration
from desktop_app.widgets.upscale_options import UpscaleOptions

ADD_MODEL = "__add_model_file__"
REFERENCE_SIDE = 512  # the photo size model descriptions quote their speed for


class ElidingCombo(QComboBox):
    """A combo whose closed text ends in "…" when it is too long for the box: Qt's own
    clips it ("Phone, shipped (Snapdragon 865 GPU, 15"). Its tooltip should hold the whole."""

    def _label_option(self) -> QStyleOptionComboBox:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox,
            option,
            QStyle.SubControl.SC_ComboBoxEditField,
            self,
        )
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, max(field.width() - 4, 0)
        )
        return option

    def shown_text(self) -> str:
        """The closed combo's text as painted (shortened with "…" where it does not fit)."""
        return self._label_option().currentText

    def showPopup(self) -> None:
        # The open list as wide as its longest name: the closed box may be narrow (a small
        # window's settings column), the list must not cut "Phone, shipped (Snapdragon…" too.
        # Measured here, when the names and the font are the ones on show.
        view = self.view()
        view.setTextElideMode(Qt.TextElideMode.ElideNone)
        margin = 2 * view.frameWidth() + view.verticalScrollBar().sizeHint().width() + 24
        view.setMinimumWidth(view.sizeHintForColumn(0) + margin)
        super().showPopup()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.isEditable():
            super().paintEvent(event)
            return
        painter = QStylePainter(self)
        option = self._label_option()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class ModelPicker(QWidget):
    """``addModelRequested``: the user picked "Add model file…" (the page opens the dialog)."""

    addModelRequested = Signal()

    def __init__(self, options: UpscaleOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.options = options
        self.combo = ElidingCombo()
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(18)
        self.about = QLabel("")
        self.about.setWordWrap(True)
        self.about.setObjectName("hint")
        self.about.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.about)
        self._fill()
        self.show_chosen()
        self.combo.activated.connect(self._picked)
        options.changed.connect(self.show_chosen)
        options.modelsChanged.connect(self._models_changed)
        options.speedMeasured.connect(self.show_chosen)

    def _fill(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        items = self.combo.model()
        assert isinstance(items, QStandardItemModel)
        for entry in self.options.models:
            self.combo.addItem(entry.label, entry.spec)
            row = items.item(self.combo.count() - 1)
            row.setToolTip("\n".join(part for part in (entry.label, entry.tooltip) if part))
            row.setEnabled(entry.enabled)
        self.combo.insertSeparator(self.combo.count())
        self.combo.addItem("Add model file… (.pth, .safetensors)", ADD_MODEL)
        self.combo.blockSignals(False)

    def _models_changed(self) -> None:
        self._fill()
        self.show_chosen()

    def show_chosen(self, *_changed: object) -> None:
        spec = self.options.value.model
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(spec))
        self.combo.blockSignals(False)
        entry = self.options.entry(spec)
        tooltip = entry.tooltip if entry else ""
        self.about.setText(self._about(entry.description) if entry else "opening the model file…")
        self.about.setToolTip(tooltip)
        # The whole name first: the closed combo may show it shortened ("…").
        whole = entry.label if entry else ""
        self.combo.setToolTip("\n".join(part for part in (whole, tooltip) if part))

    def _about(self, description: str) -> str:
        here = self.options.seconds_here(REFERENCE_SIDE * REFERENCE_SIDE)
        if here is None:
            return description
        side = REFERENCE_SIDE
        return f"{description}. Here: {format_duration(here)} for a {side}×{side} photo"

    def _picked(self, index: int) -> None:
        spec = self.combo.itemData(index)
        if spec == ADD_MODEL:
            self.show_chosen()  # keep showing the model in use until one is added
            self.addModelRequested.emit()
        else:
            self.options.update(model=spec)
