"""Opening a file or folder with the desktop's own program (for a folder, the file manager).

Not every computer has one (a bare window manager, a container, a remote session): there
Qt's openUrl answers False and nothing appears, so the click must be answered in words,
with the path to copy, instead of doing nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel

# The words given instead name a path the user must take elsewhere (a terminal, another
# program): it can be selected and copied, with the mouse or from the keyboard.
PATH_SELECTABLE = (
    Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
)


def open_on_desktop(path: Path, unopened: str) -> str:
    """Opens ``path`` with the desktop's program for it: "" when that worked, else the
    words to show, ``unopened`` with "{path}" in it replaced by the path."""
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return ""
    return unopened.replace("{path}", str(path))


def selectable(label: QLabel) -> QLabel:
    """``label``, whose text is open_on_desktop's words or the path they point to, made
    selectable by mouse and keyboard."""
    label.setTextInteractionFlags(PATH_SELECTABLE)
    return label
