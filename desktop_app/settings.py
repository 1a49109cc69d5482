"""Typed settings sections, remembered between runs in one INI file (QSettings).

Each section is a frozen dataclass with a ``GROUP``; fields are stored as JSON text so every
platform's QSettings backend gives back exactly the type we wrote. A value that is missing,
of the wrong type or rejected by the section's own validation falls back to its default:
a damaged settings file must never stop the app from starting.

The file lives in platformdirs' user config folder; ``MFAGAN_CONFIG_DIR`` moves it (tests).
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import platformdirs
from PySide6.QtCore import QSettings

from engine.inference.batch import DEFAULT_NAME_PATTERN
from engine.paths import APP_NAME

SizeMode = Literal["scale", "width"]
BackendKind = Literal["auto", "onnx", "openvino", "torch"]
BudgetMode = Literal["steps", "minutes"]

SCALES = (2, 3, 4)
TILE_CHOICES = (0, 64, 128, 256, 512)  # 0 = auto
OUTPUT_FORMATS = ("", "PNG", "JPEG", "WEBP", "TIFF", "BMP")  # "" = same as the input


@dataclass(frozen=True, kw_only=True)
class UpscaleSettings:
    """What the Upscale and Batch pages do to an image, and where the result goes."""

    GROUP: ClassVar[str] = "upscale"

    model: str = ""  # "" = the engine's default model
    size_mode: SizeMode = "scale"
    scale: int = 4
    width: int = 2048
    format: str = ""
    quality: int = 95
    keep_metadata: bool = True
    output_dir: str = ""  # "" = next to the original
    name_pattern: str = DEFAULT_NAME_PATTERN
    backend: BackendKind = "auto"
    tile: int = 0
    auto_start: bool = True
    user_models: tuple[str, ...] = ()  # model files added with "Add model file..."

    def __post_init__(self) -> None:
        _check(self.size_mode in ("scale", "width"), "size_mode")
        _check(self.scale in SCALES, "scale")
        _check(16 <= self.width <= 32768, "width")
        _check(self.format in OUTPUT_FORMATS, "format")
        _check(1 <= self.quality <= 100, "quality")
        _check(self.backend in ("auto", "onnx", "openvino", "torch"), "backend")
        _check(self.tile in TILE_CHOICES, "tile")
        _check(bool(self.name_pattern.strip()), "name_pattern")


@dataclass(frozen=True, kw_only=True)
class BatchSettings:
    GROUP: ClassVar[str] = "batch"

    input_dir: str = ""
    output_dir: str = ""
    recursive: bool = False
    skip_existing: bool = True


@dataclass(frozen=True, kw_only=True)
class RetrainSettings:
    GROUP: ClassVar[str] = "retrain"

    folders: tuple[str, ...] = ()
    name: str = "my-photos"
    budget_mode: BudgetMode = "steps"
    steps: int = 500
    minutes: int = 60
    config_file: str = ""  # optional TOML/JSON distillation config (advanced)
    # Measured on this computer by the last calibration or run: seconds per step by stage,
    # and seconds per teacher crop; used for the estimate before a run starts.
    measured: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self.budget_mode in ("steps", "minutes"), "budget_mode")
        _check(self.steps >= 1 and self.minutes >= 1, "budget")


@dataclass(frozen=True, kw_only=True)
class WindowSettings:
    GROUP: ClassVar[str] = "window"

    geometry: str = ""  # QWidget.saveGeometry(), base64
    page: int = 0
    compare_mode: Literal["split", "side"] = "split"


@dataclass(frozen=True, kw_only=True)
class SpeedSettings:
    """Seconds per input pixel each model set-up took on this computer (eta.SpeedBook)."""

    GROUP: ClassVar[str] = "speed"

    seconds_per_pixel: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DialogSettings:
    """The folder each file dialog was last left in (by dialog), where it opens next."""

    GROUP: ClassVar[str] = "dialogs"

    folders: dict[str, str] = field(default_factory=dict)


Section = TypeVar(
    "Section",
    UpscaleSettings,
    BatchSettings,
    RetrainSettings,
    WindowSettings,
    SpeedSettings,
    DialogSettings,
)


def _check(condition: bool, name: str) -> None:
    if not condition:
        raise ValueError(f"invalid setting {name}")


def default_settings_path() -> Path:
    override = os.environ.get("MFAGAN_CONFIG_DIR")
    folder = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))
    return folder / "studio.ini"


def _matches(value: Any, hint: Any) -> bool:
    """Whether a JSON-decoded value fits a field's annotation (only the types we use)."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        return value in typing.get_args(hint)
    if origin is tuple:
        (item, _) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        _key, item = typing.get_args(hint)
        return isinstance(value, dict) and all(_matches(v, item) for v in value.values())
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _accepts(cls: type, name: str, value: Any) -> bool:
    try:
        cls(**{name: value})
    except (ValueError, TypeError):
        return False
    return True


class SettingsStore:
    """Loads and saves settings sections; one INI file, written on every save."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_settings_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def load(self, cls: type[Section]) -> Section:
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        self._qsettings.beginGroup(cls.GROUP)
        try:
            for item in dataclasses.fields(cls):
                raw = self._qsettings.value(item.name)
                if not isinstance(raw, str):
                    continue
                try:
                    value = json.loads(raw)
                except ValueError:
                    continue
                if _matches(value, hints[item.name]):
                    values[item.name] = tuple(value) if isinstance(value, list) else value
        finally:
            self._qsettings.endGroup()
        # Keep each value its own section accepts, so one bad value costs only itself.
        valid = {name: value for name, value in values.items() if _accepts(cls, name, value)}
        try:
            return cls(**valid)
        except (ValueError, TypeError):
            return cls()

    def save(self, section: Section) -> None:
        self._qsettings.beginGroup(section.GROUP)
        try:
            for item in dataclasses.fields(section):
                value = getattr(section, item.name)
                text = json.dumps(list(value) if isinstance(value, tuple) else value)
                self._qsettings.setValue(item.name, text)
        finally:
            self._qsettings.endGroup()
        self._qsettings.sync()
