"""The Phone tab: the wizard, the advanced Search and Export pages, and phone settings.

The advanced pages are the wizard's own step widgets on a separate state folder: Search
takes a phone and a budget in ms directly, Export any trained MFA model in the model list.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.model_names import shown_title
from desktop_app.phone import jobs
from desktop_app.phone.context import WaitLine, WizardContext
from desktop_app.phone.jobs import WizardSetup
from desktop_app.phone.settings_box import PhoneSettings
from desktop_app.phone.state import WizardState
from desktop_app.phone.step_export import ExportStep
from desktop_app.phone.step_phone import (
    phone_name,
    precision_of,
    target_code,
    target_pairs,
    target_words,
)
from desktop_app.phone.step_search import SearchStep
from desktop_app.phone.warm import warm_job
from desktop_app.phone.wizard import PhoneWizard
from desktop_app.widgets.model_picker import ElidingCombo
from desktop_app.workers import JobRunner

TAB_TITLE = "Phone"
PLACE_TIP = "Mark an existing model's predicted speed on the plot"
TAB_TIP = "Compress a model for your phone: search, fine-tune, compare and export it"
ADVANCED_SEARCH = "The search on the “Search (advanced)” tab"
ADVANCED_EXPORT = "The export on the “Export (advanced)” tab"
TARGET_FIXED = "The search runs for this phone and budget: they stay until it ends"


def target_of(state: WizardState) -> tuple[str, str, str | None, float | None, int]:
    """What the advanced Search follows. The precision as the engine resolves it: step 1
    filling in the wizard's (None -> w8a8) is no new target, nor resets this page's form."""
    precision = precision_of(state.device, state.unit, state.precision)
    return (state.device, state.unit, precision, state.budget_ms, state.tile)


class TargetForm(QWidget):
    """Phone, unit and budget in ms for the standalone Search page. With the ``wizard``'s
    context it starts from the wizard's phone and budget, and follows them when the wizard's
    goal changes: it started at 15 ms while the wizard's goal step said 21.04 ms.

    Phones and units are shown in step 1's words and kept as their ids ("Unit: gpu" was
    shown); the units are the phone's measured (unit, precision) pairs, so the page's Export
    ticks the file the target runs (a unit without a precision ticked the float file)."""

    def __init__(
        self, ctx: WizardContext, wizard: WizardContext | None = None,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        from engine.phones.device import profile_ids

        self.ctx = ctx
        s = ctx.state
        if wizard is not None and wizard.state.budget_ms:
            s = wizard.state
        self._followed = target_of(s)
        self.device = QComboBox()
        for device in profile_ids():
            self.device.addItem(phone_name(device), device)
            self.device.setItemData(self.device.count() - 1, device, Qt.ItemDataRole.ToolTipRole)
        self.device.setCurrentIndex(max(self.device.findData(s.device), 0))
        self.unit = QComboBox()
        self._fill_units((s.unit, s.precision))
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.1, 10_000)
        self.budget.setValue(s.budget_ms or 15.0)
        self.budget.setSuffix(" ms per tile")
        self.tile = QSpinBox()
        self.tile.setRange(32, 512)
        self.tile.setSingleStep(32)
        self.tile.setValue(s.tile)
        self.model = ElidingCombo()  # long menu names end in "…", whole in the item tooltip
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model.setMinimumContentsLength(18)
        self.reload_models()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.addRow("Phone:", self.device)
        form.addRow("Runs on:", self.unit)
        row.addLayout(form)
        form = QFormLayout()
        form.addRow("Budget:", self.budget)
        form.addRow("Tile:", self.tile)
        row.addLayout(form)
        form = QFormLayout()
        form.addRow("Place a model:", self.model)
        row.addLayout(form)
        row.addStretch(1)
        self.device.currentIndexChanged.connect(self._device_changed)
        for signal in (self.unit.currentIndexChanged,
                       self.budget.valueChanged, self.tile.valueChanged,
                       self.model.currentIndexChanged):  # fmt: skip
            signal.connect(self._changed)
        self._changed()
        if wizard is not None:
            wizard.changed.connect(lambda: self.follow(wizard.state))

    def follow(self, state: WizardState) -> None:
        """The wizard's phone, unit, tile or budget changed: the search here starts from them
        (a change made on this form stays until the wizard's next change)."""
        if target_of(state) == self._followed or not state.budget_ms:
            return
        self._followed = target_of(state)
        boxes = (self.device, self.unit, self.budget, self.tile)
        for box in boxes:
            box.blockSignals(True)
        self.device.setCurrentIndex(max(self.device.findData(state.device), 0))
        self._fill_units((state.unit, state.precision))
        self.budget.setValue(state.budget_ms)
        self.tile.setValue(state.tile)
        for box in boxes:
            box.blockSignals(False)
        self._changed()

    def _fill_units(self, keep: tuple[str, str | None]) -> None:
        """The chosen phone's (unit, precision) pairs; ``keep`` stays chosen where it is one
        of them (a unit alone: its first precision), else the phone's default."""
        pairs = target_pairs(self.device.currentData() or "")
        self.unit.blockSignals(True)
        self.unit.clear()
        for row, (unit, precision) in enumerate(pairs):
            self.unit.addItem(target_words(unit, precision), (unit, precision))
            self.unit.setItemData(row, target_code(unit, precision), Qt.ItemDataRole.ToolTipRole)
        unit, precision = keep
        match = next((i for i, p in enumerate(pairs) if p == keep), None)
        if match is None and not precision:
            match = next((i for i, p in enumerate(pairs) if p[0] == unit), None)
        self.unit.setCurrentIndex(match or 0)
        self.unit.blockSignals(False)

    def _device_changed(self) -> None:
        self._fill_units(self.unit.currentData() or ("", None))
        self._changed()

    def lock(self, running: bool) -> None:
        """Fixed while its search runs: the search's results are saved as this target's."""
        for box in (self.device, self.unit, self.budget, self.tile):
            box.setEnabled(not running)
            box.setToolTip(TARGET_FIXED if running else "")

    def reload_models(self) -> None:
        from engine.models.registry import list_models

        current = self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItem("(none)", "")
        for d in list_models():
            if d.architecture == "mfa" and d.trained:
                self.model.addItem(shown_title(d), d.name)
                self.model.setItemData(
                    self.model.count() - 1, shown_title(d), Qt.ItemDataRole.ToolTipRole
                )
        self.model.setCurrentIndex(max(self.model.findData(current), 0))
        self.model.blockSignals(False)

    def _changed(self) -> None:
        chosen = self.model.currentText() if self.model.currentData() else ""
        self.model.setToolTip("\n".join(filter(None, (chosen, PLACE_TIP))))
        unit, precision = self.unit.currentData() or (self.ctx.state.unit, None)
        self.ctx.update(
            device=self.device.currentData(), unit=unit, precision=precision,
            budget_ms=self.budget.value(), tile=self.tile.value(),
        )  # fmt: skip


class PhonePage(QWidget):
    status = Signal(str)
    modelRegistered = Signal(str)
    warmed = Signal()

    def __init__(
        self, runner: JobRunner, setup: WizardSetup | None = None, folder: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.ctx = WizardContext(runner, setup, folder, self)
        # One job at a time on the whole tab: the advanced pages wait for the wizard's
        # jobs and it for theirs (the advanced search follows the wizard's goal).
        self.advanced_ctx = WizardContext(
            runner, setup, self.ctx.folder / "advanced", self, jobs=self.ctx.jobs
        )
        self.wizard = PhoneWizard(self.ctx)
        self.search_page = QWidget()
        layout = QVBoxLayout(self.search_page)
        self.target = TargetForm(self.advanced_ctx, self.ctx)
        layout.addWidget(self.target)
        self.search = SearchStep(self.advanced_ctx)
        layout.addWidget(WaitLine(self.ctx.jobs, self.search.panel))
        layout.addWidget(self.search, 1)
        self.target.model.currentIndexChanged.connect(self._place_model)
        self.advanced_ctx.changed.connect(self._place_model)
        self.export_page = ExportStep(self.advanced_ctx, standalone=True)
        export_tab = QWidget()
        layout = QVBoxLayout(export_tab)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(WaitLine(self.ctx.jobs, self.export_page.panel))
        layout.addWidget(self.export_page, 1)
        self.ctx.jobs.watch(self.search.panel, ADVANCED_SEARCH)
        self.ctx.jobs.watch(self.export_page.panel, ADVANCED_EXPORT)
        self.search.panel.started.connect(self._lock_target)
        self.search.panel.ended.connect(self._lock_target)
        self.settings = PhoneSettings(self.ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.wizard, "Compress for my phone")
        self.tabs.addTab(self.search_page, "Search (advanced)")
        self.tabs.addTab(export_tab, "Export (advanced)")
        self.tabs.addTab(self.settings, "Settings")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.tabs)
        for ctx in (self.ctx, self.advanced_ctx):
            ctx.status.connect(self.status)
            ctx.modelRegistered.connect(self._registered)
        self.ctx.changed.connect(self.advanced_ctx.changed)
        self._warming = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._warming:
            self._warming = True
            self.ctx.runner.start(warm_job, name="phone warm-up", on_ended=self._warmed)

    def _lock_target(self, *_: object) -> None:
        self.target.lock(self.search.panel.running)

    def _warmed(self) -> None:
        self.warmed.emit()

    def _registered(self, name: str) -> None:
        self.export_page.reload_models()
        self.target.reload_models()
        self.modelRegistered.emit(name)

    def _place_model(self, *_: object) -> None:
        """The Search page's chosen existing model, as a mark at its predicted latency."""
        name, s = self.target.model.currentData(), self.advanced_ctx.state
        if not name:
            self.search.plot.marks = []
            self.search.plot.update()
            return
        key = (name, s.device, s.unit, s.precision, s.tile)
        self.ctx.runner.start(lambda cancel: jobs.model_latency_job(*key, cancel),
                              name="place model", on_finished=self._placed,
                              on_failed=self.status)  # fmt: skip

    def _placed(self, placed: tuple[str, float]) -> None:
        self.search.plot.marks = [placed]
        self.search.plot.update()
