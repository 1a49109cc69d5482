"""The shared model behind both settings panels: current options and the list of models.

The Upscale and Batch pages each show a settings panel; both observe this one object, so a
change on one page is seen on the other and saved once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_app.jobs import ModelChoice
from desktop_app.model_names import plain_description, shown_title
from desktop_app.settings import SettingsStore, SpeedSettings, UpscaleSettings
from desktop_app.widgets.eta import SpeedBook
from engine.inference.upscale import TargetSize, WriteOptions
from engine.models.descriptor import ModelDescriptor
from engine.models.registry import default_model_name, list_models


@dataclass(frozen=True, kw_only=True)
class ModelEntry:
    spec: str  # what get_model() takes: a name or a file path
    label: str  # a name for people ("Fast (MFAGAN)")
    description: str  # one line: what it is for, its measured speed and quality
    tooltip: str  # the description and the model's name, architecture and config
    scale: int
    enabled: bool = True
    user_file: bool = False


# Added to the default model's name in the model menu (not in a sentence about it).
DEFAULT_SUFFIX = " — default"


def entry_for(descriptor: ModelDescriptor, *, spec: str | None = None) -> ModelEntry:
    default = descriptor.name == default_model_name()
    label = shown_title(descriptor) + (DEFAULT_SUFFIX if default else "")
    if not descriptor.trained:
        label += " — not trained yet"
    plain, details = plain_description(descriptor.description)
    return ModelEntry(
        spec=spec or descriptor.name,
        label=label,
        description=plain,
        tooltip="\n".join(line for line in (plain, details, descriptor.details()) if line),
        scale=descriptor.scale,
        enabled=descriptor.trained,
        user_file=spec is not None,
    )


def speed_key(choice: ModelChoice, scale_label: str) -> str:
    """One model set-up (model, backend, tile, size) whose speed is measured and kept."""
    return f"{choice.spec}|{choice.backend}|{choice.tile or 'auto'}|{scale_label}"


def builtin_entries() -> list[ModelEntry]:
    return [entry_for(d) for d in list_models()]


class UpscaleOptions(QObject):
    changed = Signal(object)  # UpscaleSettings
    modelsChanged = Signal()
    speedMeasured = Signal()

    def __init__(self, store: SettingsStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._value = store.load(UpscaleSettings)
        self._models: list[ModelEntry] = builtin_entries()
        saved = store.load(SpeedSettings).seconds_per_pixel
        self.speeds = SpeedBook(saved, self._speeds_changed)
        model = self._value.model
        # A model file is listed once its job has opened it; a vanished name is replaced.
        entry = self.entry(model)
        known = (entry is not None and entry.enabled) or model in self._value.user_models
        if not model or not known:
            self._value = dataclasses.replace(self._value, model=default_model_name())

    @property
    def value(self) -> UpscaleSettings:
        return self._value

    @property
    def store(self) -> SettingsStore:
        return self._store

    def update(self, **changes: Any) -> None:
        try:
            value = dataclasses.replace(self._value, **changes)
        except ValueError:
            return  # a half-typed value: keep the last valid settings
        if value != self._value:
            self._value = value
            self._store.save(value)
            self.changed.emit(value)

    # ---- models ------------------------------------------------------------------------

    @property
    def models(self) -> list[ModelEntry]:
        return list(self._models)

    def entry(self, spec: str) -> ModelEntry | None:
        return next((m for m in self._models if m.spec == spec), None)

    def add_model(self, entry: ModelEntry, *, remember: bool = False) -> None:
        self._models = [m for m in self._models if m.spec != entry.spec] + [entry]
        self.modelsChanged.emit()
        if remember and entry.spec not in self._value.user_models:
            self.update(user_models=(*self._value.user_models, entry.spec))

    def forget_model(self, spec: str) -> None:
        self._models = [m for m in self._models if m.spec != spec]
        self.modelsChanged.emit()
        kept = tuple(p for p in self._value.user_models if p != spec)
        changes: dict[str, Any] = {"user_models": kept}
        if self._value.model == spec:
            changes["model"] = default_model_name()
        self.update(**changes)

    def reload_builtins(self) -> None:
        """After a retrain registered a model: the registry may list more models now."""
        users = [m for m in self._models if m.user_file]
        builtins = builtin_entries()
        names = {m.spec for m in builtins}
        self._models = builtins + [m for m in users if m.spec not in names]
        self.modelsChanged.emit()

    # ---- speed measured on this computer ----------------------------------------------

    def _speeds_changed(self, rates: dict[str, float]) -> None:
        self._store.save(SpeedSettings(seconds_per_pixel=rates))
        self.speedMeasured.emit()

    def current_speed_key(self) -> str:
        return speed_key(self.model_choice(), self.target().label(self.model_scale()))

    def seconds_here(self, pixels: int) -> float | None:
        """What the current set-up took here for that many input pixels (None: not yet, or
        a width target, whose work follows the enlargement asked of each photo, not its
        pixels: a 128-px photo made 1000 px wide takes two model passes, a 512-px one one)."""
        if self._value.size_mode == "width":
            return None
        return self.speeds.expected(self.current_speed_key(), pixels)

    # ---- requests ----------------------------------------------------------------------

    def model_choice(self) -> ModelChoice:
        value = self._value
        return ModelChoice(spec=value.model, backend=value.backend, tile=value.tile or None)

    def target(self) -> TargetSize:
        value = self._value
        if value.size_mode == "width":
            return TargetSize(width=value.width)
        return TargetSize(scale=value.scale)

    def write_options(self) -> WriteOptions:
        value = self._value
        return WriteOptions(
            format=value.format or None, quality=value.quality, keep_metadata=value.keep_metadata
        )

    def model_scale(self) -> int:
        entry = self.entry(self._value.model)
        return entry.scale if entry is not None else 4
