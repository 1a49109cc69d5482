"""Step 1: which phone. Profiles with their chipset and how well their latency model fits,
"Detect my phone" over adb, and (with an AI Hub token) AI Hub's live device list."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.phone import jobs
from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.wording import first_upper, in_gui_words
from engine.errors import UsageError
from engine.phones.adb import Detection
from engine.phones.catalog import Profile
from engine.phones.device import DeviceProfile, load_device_profile, profile_path

TARGET_TIP = "Compute unit and precision the model will run at on the phone"
NO_TOKEN = "No AI Hub token yet: add one under Settings."
TOKEN_SAVED = "An AI Hub token is saved: list AI Hub devices to see which phones it offers."


UNIT_WORDS = {
    "gpu": "its graphics chip (GPU)",
    "npu": "its AI engine (NPU)",
    "cpu": "its processor",
}
PRECISION_WORDS = {"w8a8": "8-bit numbers", "w8a16": "8-bit weights", "float": "16-bit numbers"}


def runs_on(unit: str, precision: str | None) -> str:
    """Where and how a model runs, in words ("its graphics chip (GPU), 8-bit numbers"); no
    precision: where only."""
    where = UNIT_WORDS.get(unit, unit.upper())
    return f"{where}, {PRECISION_WORDS.get(precision, precision)}" if precision else where


def target_words(unit: str, precision: str | None) -> str:
    """The "Runs on:" choice in words ("Graphics chip (GPU), 8-bit numbers")."""
    return first_upper(runs_on(unit, precision).removeprefix("its "))


def target_code(unit: str, precision: str | None) -> str:
    """The same choice as the engine and AI Hub name it ("GPU, w8a8"): the item's tooltip."""
    return f"{unit.upper()}, {precision}" if precision else unit.upper()


@functools.cache
def _device(device: str) -> DeviceProfile | None:
    # A small JSON file, read once per phone: the step texts ask for it on every change.
    try:
        return load_device_profile(profile_path(device))
    except UsageError:
        return None


def phone_name(device: str) -> str:
    """The phone as step 1 lists it ("Snapdragon 865"); an unknown id as it is."""
    profile = _device(device)
    return profile.name if profile is not None else device


def target_pairs(device: str) -> list[tuple[str, str]]:
    """(unit, precision) pairs ``device``'s profile has measurements for, the default first."""
    profile = _device(device)
    if profile is None:
        return []
    return list(dict.fromkeys((c.unit, c.precision) for c in profile.columns))


def precision_of(device: str, unit: str, precision: str | None) -> str | None:
    """The precision a target runs at: with none chosen (the Search (advanced) tab's older
    state), the one the engine's latency model then uses, the profile's first for the unit."""
    if precision:
        return precision
    return next((p for u, p in target_pairs(device) if u == unit), None)


def where_words(device: str, unit: str, precision: str | None) -> str:
    """ "Snapdragon 865, on its graphics chip (GPU), 8-bit numbers": the target in words."""
    return f"{phone_name(device)}, on {runs_on(unit, precision_of(device, unit, precision))}"


def where_code(device: str, unit: str, precision: str | None) -> str:
    """The same target as the engine names it ("snapdragon-865, GPU, w8a8"), for tooltips."""
    return f"{device}, {target_code(unit, precision_of(device, unit, precision))}"


def describe(profile: Profile) -> str:
    fit = profile.fit_quality
    column = profile.default_column
    quality = (
        f"speed predicted within {fit * 100:.0f}%"
        if fit is not None
        else "how well its speed is predicted is not recorded"
    )
    unit, precision = column.key.split("/")[:2]
    where = runs_on(unit, precision)
    return f"{profile.name} — {profile.chipset}\n    runs on {where}; {quality}"


def describe_details(profile: Profile) -> str:
    """The method behind :func:`describe`'s plain words (the list item's tooltip)."""
    fit, column = profile.fit_quality, profile.default_column
    if fit is None:
        return f"{profile.name}: the latency model's fit is not recorded"
    return (
        f"{profile.name}: {column.title}; latency model error {fit * 100:.0f}%, leave-one-out "
        f"over the {column.measured} networks measured on this phone"
    )


def columns_of(profile: Profile) -> list[tuple[str, str]]:
    """(unit, precision) pairs the profile has measurements for, the default first."""
    pairs = []
    for column in profile.columns:
        unit, precision = column.key.split("/")[:2]
        if (unit, precision) not in pairs:
            pairs.append((unit, precision))
    return pairs


class PhoneStep(QWidget):
    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.profiles: list[Profile] = []
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        # Long profile lines wrap (a 1024 px wide window cut them, sideways scrolling).
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.target = QComboBox()
        self.target.setToolTip(TARGET_TIP)
        self.detect_button = QPushButton("Detect my phone")
        self.detection = QLabel("Connect the phone by USB with USB debugging on, then detect.")
        self.detection.setWordWrap(True)
        self.hub_button = QPushButton("List AI Hub devices")
        self.hub_list = QListWidget()
        self.hub_list.setMaximumHeight(110)
        self.hub_note = QLabel("")
        self.hub_note.setWordWrap(True)
        self.panel = JobPanel(ctx.runner)
        self._build()
        self.list.currentRowChanged.connect(self._profile_chosen)
        self.target.currentIndexChanged.connect(self._target_chosen)
        self.detect_button.clicked.connect(self.detect)
        self.hub_button.clicked.connect(self.list_hub_devices)
        ctx.changed.connect(self.refresh_hub)
        ctx.jobs.changed.connect(self.refresh_hub)
        self.panel.started.connect(self.refresh_hub)
        self.panel.ended.connect(self.refresh_hub)
        self.panel.run(jobs.profiles_job, "Reading the phone profiles…",
                       on_finished=self._profiles, done_text="", automatic=True)  # fmt: skip
        self.refresh_hub()

    def _build(self) -> None:
        chooser = QGroupBox("Your phone (or the closest one listed)")
        layout = QVBoxLayout(chooser)
        layout.addWidget(self.list, 1)
        form = QFormLayout()
        form.addRow("Runs on:", self.target)
        layout.addLayout(form)
        detect = QGroupBox("Find it for me")
        dl = QVBoxLayout(detect)
        row = QHBoxLayout()
        row.addWidget(self.detect_button)
        row.addStretch(1)
        dl.addLayout(row)
        dl.addWidget(self.detection)
        dl.addWidget(QLabel("<b>AI Hub</b> (needs a token, see Settings):"))
        row = QHBoxLayout()
        row.addWidget(self.hub_button)
        row.addStretch(1)
        dl.addLayout(row)
        dl.addWidget(self.hub_list)
        dl.addWidget(self.hub_note)
        dl.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(chooser, 3)
        top.addWidget(detect, 2)
        outer = QVBoxLayout(self)
        outer.addLayout(top, 1)
        outer.addWidget(self.panel)

    # ---- profiles ----------------------------------------------------------------------

    def _profiles(self, profiles: list[Profile]) -> None:
        self.profiles = profiles
        self.list.blockSignals(True)
        self.list.clear()
        for profile in profiles:
            item = QListWidgetItem(describe(profile))
            item.setToolTip(describe_details(profile))
            item.setData(Qt.ItemDataRole.UserRole, profile.id)
            self.list.addItem(item)
        self.list.blockSignals(False)
        ids = [p.id for p in profiles]
        chosen = self.ctx.state.device if self.ctx.state.device in ids else ids[0]
        self.select(chosen)

    def select(self, profile_id: str) -> None:
        ids = [p.id for p in self.profiles]
        if profile_id in ids:
            self.list.setCurrentRow(ids.index(profile_id))
            self._profile_chosen(ids.index(profile_id))

    def _profile_chosen(self, row: int) -> None:
        if not 0 <= row < len(self.profiles):
            return
        profile = self.profiles[row]
        state = self.ctx.state
        pairs = columns_of(profile)
        self.target.blockSignals(True)
        self.target.clear()
        for row, (unit, precision) in enumerate(pairs):
            # The words are shown; the choice is kept as its (unit, precision) ids.
            self.target.addItem(target_words(unit, precision), (unit, precision))
            self.target.setItemData(row, target_code(unit, precision), Qt.ItemDataRole.ToolTipRole)
        keep = (state.unit, state.precision)
        index = pairs.index(keep) if state.device == profile.id and keep in pairs else 0
        self.target.setCurrentIndex(index)
        self.target.blockSignals(False)
        self._target_tip(index)
        unit, precision = pairs[index]
        self.ctx.update(device=profile.id, unit=unit, precision=precision)

    def _target_chosen(self, index: int) -> None:
        data = self.target.itemData(index)
        if data:
            self._target_tip(index)
            self.ctx.update(unit=data[0], precision=data[1])

    def _target_tip(self, index: int) -> None:
        code = self.target.itemData(index, Qt.ItemDataRole.ToolTipRole)
        self.target.setToolTip(f"{TARGET_TIP}: {code}" if code else TARGET_TIP)

    # ---- adb and AI Hub ----------------------------------------------------------------

    def detect(self) -> None:
        if self.ctx.jobs.refuse(self.panel):
            return
        adb = self.ctx.state.adb
        self.panel.run(lambda cancel: jobs.detect_job(adb, cancel),
                       "Asking the phone over USB (adb)…", on_finished=self._detected,
                       done_text="")  # fmt: skip

    def _detected(self, found: Detection) -> None:
        chosen = found.profile or found.nearest
        text = in_gui_words(found.message)
        if found.found and found.product_model:
            chip = found.soc_model or found.board_platform
            text = f"<b>{found.product_model}</b> ({chip}): {text}"
        self.detection.setText(text)
        if chosen:
            self.select(chosen)

    def refresh_hub(self) -> None:
        from engine.phones.aihub_token import token_configured

        has_token = self.ctx.setup.hub is not None or token_configured()
        # The phone is what a running search searches for, and an export exports for: it
        # stays as it is while another step's job runs (and one job at a time).
        why = self.ctx.jobs.why_not(self.panel)
        free = not why and not self.panel.blocking
        for widget in (self.list, self.target):
            widget.setEnabled(not why)
        self.detect_button.setEnabled(free)
        self.hub_button.setEnabled(has_token and free)
        for widget in (self.list, self.detect_button, self.hub_button):
            widget.setToolTip(why)
        if not has_token:
            self.hub_note.setText(NO_TOKEN)
        elif self.hub_note.text() == NO_TOKEN:  # a token was saved since (Settings)
            self.hub_note.setText(TOKEN_SAVED)

    def list_hub_devices(self) -> None:
        if self.ctx.jobs.refuse(self.panel):
            return
        setup = self.ctx.setup
        self.panel.run(lambda cancel: jobs.aihub_devices_job(setup, cancel),
                       "Asking AI Hub for its devices…", on_finished=self._hub_devices,
                       done_text="", on_failed=self._hub_failed)  # fmt: skip

    def _hub_failed(self, reason: str) -> None:
        # The whole line, wrapped: the progress strip shortens it to its width.
        self.hub_note.setText(f"Could not list AI Hub devices: {reason}")

    def _hub_devices(self, names: list[str]) -> None:
        self.hub_list.clear()
        self.hub_list.addItems(names)
        ours = {d for p in self.profiles for d in p.aihub_devices}
        known = [n for n in names if n in ours]
        self.hub_note.setText(
            f"{len(names)} devices on AI Hub now; {len(known)} of them have a profile here "
            "(their speed is predicted from measurements). Export can profile on any of them."
        )
