"""The form beside the images: model, size, output format and quality, where results go.

A view of ``UpscaleOptions``: every edit goes to the options object (which saves it), and
every change of the options object is shown here, so two panels never disagree.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop_app.settings import OUTPUT_FORMATS, TILE_CHOICES, UpscaleSettings
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.widgets.layouts import boxed, wide_row
from desktop_app.widgets.model_picker import ModelPicker
from desktop_app.widgets.upscale_options import UpscaleOptions
from desktop_app.widgets.width_box import WidthBox
from engine.errors import UsageError
from engine.inference.batch import output_name

SIZE_CHOICES = (("×2", 2), ("×3", 3), ("×4", 4), ("Width…", 0))
FORMAT_LABELS = {
    "": "Same as input",
    "PNG": "PNG",
    "JPEG": "JPEG",
    "WEBP": "WebP",
    "TIFF": "TIFF",
    "BMP": "BMP",
}
LOSSY = ("JPEG", "WEBP")


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("hint")
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def in_scroll_area(panel: QWidget) -> QScrollArea:
    """The panel, scrolling up and down, never narrower than itself: squeezed, it cut its
    combos, texts and Browse in a 1024 px wide window."""
    scroll = QScrollArea()
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(
        panel.minimumSizeHint().width()
        + scroll.verticalScrollBar().sizeHint().width()
        + 2 * scroll.frameWidth()
    )
    return scroll


class SettingsPanel(QWidget):
    """``addModelRequested``: the user picked "Add model file…" (the page opens the dialog)."""

    addModelRequested = Signal()

    def __init__(
        self,
        options: UpscaleOptions,
        *,
        show_auto_start: bool = True,
        show_output_folder: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.options = options
        self.picker = ModelPicker(options)
        self.model, self.model_about = self.picker.combo, self.picker.about
        self.size = QComboBox()
        for text, value in SIZE_CHOICES:
            self.size.addItem(text, value)
        self.width = WidthBox()
        self.source_size: tuple[int, int] | None = None
        self.format = QComboBox()
        for key in OUTPUT_FORMATS:
            self.format.addItem(FORMAT_LABELS[key], key)
        self.quality = QSlider(Qt.Orientation.Horizontal)
        self.quality.setRange(1, 100)
        self.quality_value = QLabel()
        self.quality_value.setMinimumWidth(28)
        self.quality_hint = _hint("")
        # Short texts: the panel fits beside the images in a 1024 px wide window.
        self.keep_metadata = QCheckBox("Keep EXIF and colour profile")
        self.keep_metadata.setToolTip("Copy the photo's metadata (EXIF, colour profile) over")
        self.output_dir = QLineEdit()
        self.output_dir.setPlaceholderText("Next to the original")
        self.browse = QPushButton("Browse…")
        self.name_pattern = QLineEdit()
        self.name_preview = _hint("")
        self.backend = QComboBox()
        self.backend.addItem("Auto (fastest here)", "auto")
        self.backend.setItemData(
            0, "The fastest backend on this computer", Qt.ItemDataRole.ToolTipRole
        )
        self.backend.addItem("ONNX Runtime", "onnx")
        self.backend.addItem("OpenVINO", "openvino")
        self.backend.addItem("PyTorch", "torch")
        self.tile = QComboBox()
        for value in TILE_CHOICES:
            self.tile.addItem("Auto" if value == 0 else f"{value} px", value)
        self.auto_start = QCheckBox("Upscale images when added")
        self.auto_start.setToolTip("Upscale as soon as images are opened, dropped or pasted")
        self._show_output_folder = show_output_folder
        self._build(show_auto_start, show_output_folder)
        self._show(options.value)
        self._connect()

    # ---- layout ------------------------------------------------------------------------

    def _build(self, show_auto_start: bool, show_output_folder: bool) -> None:
        model_box = boxed("Model", self.picker)

        size_box = QGroupBox("Size")
        size_row = QHBoxLayout(size_box)
        size_row.addWidget(self.size)
        size_row.addWidget(self.width, 1)

        out_box = QGroupBox("Output")
        out_form = QFormLayout(out_box)
        out_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        out_form.addRow("Format", self.format)
        out_form.addRow("Quality", wide_row(self.quality, self.quality_value))
        out_form.addRow("", self.quality_hint)
        out_form.addRow("", self.keep_metadata)
        if show_output_folder:
            out_form.addRow("Folder", wide_row(self.output_dir, self.browse))
        out_form.addRow("Name", self.name_pattern)
        out_form.addRow("", self.name_preview)

        advanced = QGroupBox("Advanced")
        adv_form = QFormLayout(advanced)
        adv_form.addRow("Backend", self.backend)
        adv_form.addRow("Tile size", self.tile)
        if show_auto_start:
            adv_form.addRow(self.auto_start)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (model_box, size_box, out_box, advanced):
            layout.addWidget(box)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.picker.addModelRequested.connect(self.addModelRequested)
        self.size.activated.connect(self._size_picked)
        self.width.valueChanged.connect(self._width_changed)
        self.format.activated.connect(self._format_picked)
        self.quality.valueChanged.connect(self._quality_changed)
        self.keep_metadata.toggled.connect(self._metadata_toggled)
        self.output_dir.editingFinished.connect(self._output_dir_edited)
        self.browse.clicked.connect(self._browse_output)
        self.name_pattern.textEdited.connect(self._pattern_edited)
        self.backend.activated.connect(self._backend_picked)
        self.tile.activated.connect(self._tile_picked)
        self.auto_start.toggled.connect(self._auto_start_toggled)
        self.options.changed.connect(self._show)
        self.options.modelsChanged.connect(self._models_changed)

    # ---- options -> widgets ------------------------------------------------------------

    def _models_changed(self) -> None:
        self._show(self.options.value)  # the model's scale names the results

    def _show(self, value: UpscaleSettings) -> None:
        widgets = (
            self.size,
            self.width,
            self.format,
            self.quality,
            self.keep_metadata,
            self.output_dir,
            self.name_pattern,
            self.backend,
            self.tile,
            self.auto_start,
        )
        for widget in widgets:
            widget.blockSignals(True)
        self.size.setCurrentIndex(
            self.size.findData(0 if value.size_mode == "width" else value.scale)
        )
        self._show_width(value)
        self.format.setCurrentIndex(self.format.findData(value.format))
        self.quality.setValue(value.quality)
        self.quality_value.setText(str(value.quality))
        self._show_quality_hint(value.format)
        self.keep_metadata.setChecked(value.keep_metadata)
        if self.output_dir.text() != value.output_dir:
            self.output_dir.setText(value.output_dir)
        if self.name_pattern.text() != value.name_pattern:
            self.name_pattern.setText(value.name_pattern)
        self.backend.setCurrentIndex(self.backend.findData(value.backend))
        self.tile.setCurrentIndex(self.tile.findData(value.tile))
        self.auto_start.setChecked(value.auto_start)
        for widget in widgets:
            widget.blockSignals(False)
        self._show_name_preview(value.name_pattern)

    def set_source_size(self, size: tuple[int, int] | None) -> None:
        """The photo on show (width, height), so a scale shows the width it gives."""
        self.source_size = size
        self.width.blockSignals(True)
        self._show_width(self.options.value)
        self.width.blockSignals(False)

    def _show_width(self, value: UpscaleSettings) -> None:
        if value.size_mode == "width":
            self.width.show_setting(value.width)
            return
        size = self.source_size
        result = None
        if size is not None:
            result = self.options.target().resolve(*size, self.options.model_scale())
        self.width.show_scaled(value.scale, result)

    def _show_quality_hint(self, fmt: str) -> None:
        # A quality slider that silently does nothing is a known complaint: say when it applies.
        lossy = fmt in LOSSY
        self.quality.setEnabled(lossy or fmt == "")
        if fmt == "":
            text = "Quality applies when the original is a JPEG or WebP."
        elif fmt == "WEBP":
            text = "100 = lossless WebP."
        elif lossy:
            text = ""
        else:
            text = f"{FORMAT_LABELS[fmt]} is lossless: quality does not apply."
        self.quality_hint.setText(text)
        self.quality_hint.setVisible(bool(text))
        self._relayout()

    def _show_name_preview(self, pattern: str) -> None:
        value = self.options.value
        scale = self.options.target().label(self.options.model_scale())
        model = Path(value.model).stem if Path(value.model).suffix else value.model
        try:
            name = output_name(
                Path("photo.jpg"),
                pattern=pattern,
                model=model,
                scale_label=scale,
                format=value.format or None,
            )
        except UsageError as error:
            self.name_preview.setText(f"<span style='color:#c0392b'>{error}</span>")
            self._relayout()
            return
        self.name_preview.setText(f"e.g. photo.jpg → {name}")
        self._relayout()

    def _relayout(self) -> None:
        # A wrapped label's new text may need more lines: Qt does not redo the form's
        # height-for-width by itself, and the rows would overlap.
        if self.layout() is not None:
            self.layout().invalidate()

    # ---- widgets -> options ------------------------------------------------------------

    def _size_picked(self, index: int) -> None:
        scale = self.size.itemData(index)
        if scale == 0:
            self.options.update(size_mode="width")
        else:
            self.options.update(size_mode="scale", scale=scale)

    def _width_changed(self, width: int) -> None:
        if self.width.accepts(width):
            self.options.update(width=width)

    def _format_picked(self, index: int) -> None:
        self.options.update(format=self.format.itemData(index))

    def _quality_changed(self, quality: int) -> None:
        self.quality_value.setText(str(quality))
        self.options.update(quality=quality)

    def _metadata_toggled(self, keep: bool) -> None:
        self.options.update(keep_metadata=keep)

    def _output_dir_edited(self) -> None:
        self.options.update(output_dir=self.output_dir.text().strip())

    def _browse_output(self) -> None:
        folder = DialogFolders(self.options.store).folder(
            self, "results folder", "Folder for the results", current=self.options.value.output_dir
        )
        if folder:
            self.options.update(output_dir=str(folder))

    def _pattern_edited(self, text: str) -> None:
        self._show_name_preview(text)
        if text.strip():
            try:
                output_name(Path("x.png"), pattern=text, model="m", scale_label="x4", format=None)
            except UsageError:
                return
            self.options.update(name_pattern=text)

    def _backend_picked(self, index: int) -> None:
        self.options.update(backend=self.backend.itemData(index))

    def _tile_picked(self, index: int) -> None:
        self.options.update(tile=self.tile.itemData(index))

    def _auto_start_toggled(self, on: bool) -> None:
        self.options.update(auto_start=on)
