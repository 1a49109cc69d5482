"""File dialogs that open where photos live, and again where each was left.

A Qt file dialog given no folder opens in the working folder: for an app started from a
terminal or a clone, the repository, whose 900-odd files a folder picker then hands to the
Retrain scan. Each dialog here opens in the folder it was last left in (remembered per
dialog in the settings file), else the user's Pictures folder (home for files that are not
photos: model files, configs), and remembers the folder of what was chosen. A photo dialog
not used yet opens where the last photo dialog was left: Open folder after Open images
starts among the user's photos, not at home.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_app.settings import DialogSettings, SettingsStore

Kind = Literal["photos", "files"]
LAST_PHOTOS = "last photos"  # the folder any photo dialog was last left in


def first_folder(kind: Kind) -> Path:
    """Where a dialog opens before it has been used: Pictures (photos) or home."""
    if kind == "photos":
        location = QStandardPaths.StandardLocation.PicturesLocation
        found = QStandardPaths.writableLocation(location)
        if found and Path(found).is_dir():
            return Path(found)
    return Path.home()


class DialogFolders:
    """Each dialog's folder by key ("open images", "retrain photos"...), in the settings."""

    def __init__(self, store: SettingsStore | None = None) -> None:
        self.store = store if store is not None else SettingsStore()

    def remembered(self, key: str) -> Path | None:
        """The folder this dialog was last left in, while it exists."""
        folder = self.store.load(DialogSettings).folders.get(key, "")
        return Path(folder) if folder and Path(folder).is_dir() else None

    def start(self, key: str, *, kind: Kind = "photos", current: str = "") -> Path:
        """``current``: a folder the page already shows (a field's text), used when it exists."""
        if current.strip() and Path(current.strip()).is_dir():
            return Path(current.strip())
        shared = self.remembered(LAST_PHOTOS) if kind == "photos" else None
        return self.remembered(key) or shared or first_folder(kind)

    def remember(self, key: str, folder: Path, *, kind: Kind = "photos") -> None:
        folders = self.store.load(DialogSettings).folders | {key: str(folder)}
        if kind == "photos":
            folders[LAST_PHOTOS] = str(folder)
        self.store.save(DialogSettings(folders=folders))

    # ---- the dialogs -------------------------------------------------------------------

    def open_files(
        self, parent: QWidget, key: str, caption: str, filter: str, *, kind: Kind = "photos"
    ) -> list[Path]:
        chosen, _ = QFileDialog.getOpenFileNames(
            parent, caption, str(self.start(key, kind=kind)), filter
        )
        if chosen:
            self.remember(key, Path(chosen[0]).parent, kind=kind)
        return [Path(c) for c in chosen]

    def open_file(
        self, parent: QWidget, key: str, caption: str, filter: str = "", *, kind: Kind = "photos"
    ) -> Path | None:
        chosen, _ = QFileDialog.getOpenFileName(
            parent, caption, str(self.start(key, kind=kind)), filter
        )
        if not chosen:
            return None
        self.remember(key, Path(chosen).parent, kind=kind)
        return Path(chosen)

    def folder(
        self, parent: QWidget, key: str, caption: str, *, current: str = "", kind: Kind = "photos"
    ) -> Path | None:
        chosen = QFileDialog.getExistingDirectory(
            parent, caption, str(self.start(key, kind=kind, current=current))
        )
        if not chosen:
            return None
        self.remember(key, Path(chosen), kind=kind)
        return Path(chosen)
