"""Step 6 (and the advanced Export page): the phone bundle. Formats with the measured INT8
loss; with an AI Hub token, compile and profile on a real phone, measured next to predicted
latency and the layers that left the NPU; open the bundle folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.model_names import shown_title
from desktop_app.phone import jobs
from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.phone.export_words import (
    FORMAT_TIPS,
    FORMAT_TITLES,
    notice_words,
    progress_words,
    report_html,
)
from desktop_app.phone.step_phone import precision_of, where_code, where_words
from desktop_app.widgets.desktop_open import open_on_desktop
from desktop_app.widgets.layouts import boxed
from desktop_app.wording import in_gui_words
from engine.errors import MfaganError
from engine.events import Notice, Progress
from engine.export import ExportRequest, tflite
from engine.export.bundle import CARD_NAME

DEFAULT_FORMATS = ("onnx", "onnx-int8", "tflite", "tflite-int8")
AIHUB_TITLE = "Compile and profile on AI Hub (a real phone)"
AIHUB_OFF = "Off until an AI Hub token is saved: add one under Settings."
NO_MODEL = "No model to export yet: the wizard's fine-tuning (step 4) makes one."


def formats_for(unit: str, precision: str | None, *, tflite: bool = True) -> tuple[str, ...]:
    """The file the chosen target runs: every phone profile is measured with LiteRT (TFLite),
    integer precisions (w8a8, w8a16) with the INT8 file, float ones with the float file (an
    NPU target without a precision: INT8). Without TFLite here, the ONNX file of the same
    precision (ONNX Runtime Mobile runs it on the phone)."""
    integer = (precision or "").lower().startswith(("w8", "int8")) or (
        not precision and unit == "npu"
    )
    kind = "tflite" if tflite else "onnx"
    return (f"{kind}-int8",) if integer else (kind,)


def saved_card(folder: Path) -> dict[str, Any] | None:
    """The model card of the bundle in ``folder``; None when there is none (never exported,
    moved or deleted since)."""
    try:
        card = json.loads((folder / CARD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None


class ExportStep(QWidget):
    """``standalone``: a model list to export any model (advanced panel); otherwise the
    wizard's fine-tuned model."""

    def __init__(self, ctx: WizardContext, *, standalone: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.standalone = standalone
        self.model = QComboBox()
        self.checks = {key: QCheckBox(title) for key, title in FORMAT_TITLES.items()}
        self._ticked_for: tuple[str, str | None] | None = None
        self._no_tflite = tflite.missing_reason()
        for key, box in self.checks.items():
            box.setToolTip(FORMAT_TIPS[key])
        for key in ("tflite", "tflite-int8"):
            self.checks[key].setEnabled(self._no_tflite is None)
            if self._no_tflite:
                self.checks[key].setToolTip(f"{FORMAT_TIPS[key]}: {self._no_tflite}")
        self.aihub = QCheckBox(AIHUB_TITLE)
        # Why the AI Hub box is off, on the page itself: a greyed box with the reason only
        # in its tooltip left the user guessing.
        self.aihub_why = QLabel("")
        self.aihub_why.setObjectName("hint")
        self.aihub_why.setWordWrap(True)
        self.out_dir = QLineEdit(ctx.state.bundle_dir)
        self.out_dir.setPlaceholderText("“bundle” in the wizard's folder of the app's data")
        self.export_button = QPushButton("Export")
        self.open_button = QPushButton("Open bundle folder")
        self.open_button.setEnabled(False)
        self.where = QLabel("")  # the bundle's full path, to select and copy
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.report = QTextBrowser()
        self.target = QLabel("")
        self.panel = JobPanel(ctx.runner)
        self.bundle: Path | None = None
        self._build()
        self.export_button.clicked.connect(self.export)
        self.open_button.clicked.connect(self.open_folder)
        ctx.changed.connect(self.refresh)
        ctx.jobs.changed.connect(self.refresh)
        self.panel.started.connect(self.refresh)
        self.panel.ended.connect(self.refresh)
        self.refresh()
        self._show_saved()

    def _build(self) -> None:
        form = QFormLayout()
        if self.standalone:
            form.addRow("Model:", self.model)
            form.addRow("For:", self.target)
            self.reload_models()
        formats = QHBoxLayout()
        for box in self.checks.values():
            formats.addWidget(box)
        formats.addStretch(1)
        form.addRow("Formats:", formats)
        form.addRow("", self.aihub)
        form.addRow("", self.aihub_why)
        form.addRow("Bundle folder:", self.out_dir)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow("Bundle:", self.where)
        box = boxed("What was measured", self.report)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(box, 1)
        layout.addWidget(self.panel)

    def reload_models(self) -> None:
        from engine.models.registry import list_models

        current = self.model.currentData()
        self.model.clear()
        for d in list_models():
            if d.architecture == "mfa" and d.trained:
                # The model menu's name; its registry name (the bundle's file names) in the
                # tooltip: "Fast (MFAGAN) (mfagan)" said it twice, once as an id.
                self.model.addItem(shown_title(d), d.name)
                self.model.setItemData(
                    self.model.count() - 1, f"File name: {d.name}", Qt.ItemDataRole.ToolTipRole
                )
        index = self.model.findData(current)
        self.model.setCurrentIndex(max(index, 0))

    def refresh(self, *_: object) -> None:
        from engine.phones.aihub_token import token_configured

        has_token = self.ctx.setup.hub is not None or token_configured()
        self.aihub.setEnabled(has_token)
        self.aihub.setToolTip("" if has_token else AIHUB_OFF)
        self.aihub_why.setText("" if has_token else AIHUB_OFF)
        self.aihub_why.setVisible(not has_token)
        if not has_token:
            self.aihub.setChecked(False)
        s = self.ctx.state
        # The Search (advanced) tab's older state names no precision: the engine then runs
        # the profile's first (w8a8 on every phone), so that is what gets ticked.
        precision = precision_of(s.device, s.unit, s.precision)
        if self._ticked_for != (s.unit, precision):
            # A new target ticks what it runs; the user's own ticks stay until it changes.
            self._ticked_for = (s.unit, precision)
            wanted = formats_for(s.unit, precision, tflite=self._no_tflite is None)
            for key, box in self.checks.items():
                box.setChecked(key in wanted)
        self.target.setText(
            f"{where_words(s.device, s.unit, s.precision)}, {s.tile} x {s.tile} px tiles "
            "(set on the Search (advanced) tab)"
        )
        self.target.setToolTip(where_code(s.device, s.unit, s.precision))
        model = self.model_name()
        why = self.ctx.jobs.why_not(self.panel)
        self.export_button.setEnabled(bool(model) and not self.panel.running and not why)
        self.export_button.setToolTip(why or ("" if model else NO_MODEL))

    def model_name(self) -> str:
        if self.standalone:
            return self.model.currentData() or ""
        return self.ctx.state.model_name

    def export(self) -> None:
        if self.ctx.jobs.refuse(self.panel):
            return
        s, setup = self.ctx.state, self.ctx.setup
        formats = tuple(k for k, box in self.checks.items() if box.isChecked())
        if self.aihub.isChecked():
            formats += ("aihub",)
        out = Path(self.out_dir.text().strip() or self.ctx.folder / "bundle")
        try:
            request = ExportRequest(
                model=self.model_name(), formats=formats, out_dir=out, size=s.tile,
                device=s.device, teacher=setup.export_teacher,
                unit=s.unit if s.unit in ("npu", "gpu") else "npu",
            )  # fmt: skip
            request.check()
        except MfaganError as error:
            self.panel.end(f"Cannot export: {in_gui_words(str(error))}")
            return
        self.panel.run(
            lambda cancel: jobs.export_job(setup, request, cancel), "Exporting…",
            on_event=self._on_event, on_finished=self._exported, done_text="Exported.",
        )  # fmt: skip
        self.refresh()

    def _on_event(self, event: object) -> None:
        if isinstance(event, Progress):
            text = progress_words(event.stage, event.message)
            self.panel.progress(event.stage, event.done, event.total, text)
        elif isinstance(event, Notice):
            self.ctx.status.emit(notice_words(event.message))

    def _exported(self, result) -> None:
        # The full path, so that a restart shows this bundle again.
        self.ctx.update(bundle_dir=str(result.out_dir))
        self._show_bundle(
            result.out_dir,
            result.card,
            f"<br>Took {result.seconds:.1f} s on this computer.",
        )
        self.refresh()

    def _show_saved(self) -> None:
        """The bundle exported before this session, if it is still where it was written."""
        folder = Path(self.ctx.state.bundle_dir) if self.ctx.state.bundle_dir else None
        card = saved_card(folder) if folder is not None and not self.standalone else None
        if folder is not None and card is not None:
            self._show_bundle(folder, card, "")

    def _show_bundle(self, folder: Path, card: dict[str, Any], took: str) -> None:
        self.bundle = folder
        self.where.setText(str(folder))
        self.report.setHtml(
            report_html(card) + took + " The model itself is in the Upscale page's list."
        )
        self.open_button.setEnabled(True)

    def open_folder(self) -> None:
        if self.bundle is None:
            return
        if not self.bundle.is_dir():
            self.panel.end(f"The bundle folder is gone: {self.bundle}")
        elif problem := open_on_desktop(
            self.bundle,
            "This computer has no file manager to open the folder; "
            "copy its path from “Bundle:” above.",
        ):
            self.panel.end(problem)
