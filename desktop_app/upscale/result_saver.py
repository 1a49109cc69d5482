"""Save and Save as: a staged result written in its final format, never over the original.

Save uses the output folder and name pattern; when that file exists it adds "-2", "-3"...
(nothing is ever overwritten), and saving the same result to the same place twice does not
make copies. Save as asks for a path; the engine still refuses the original's path.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_app import jobs
from desktop_app.upscale.queue_list import QueueItem
from desktop_app.upscale.saving import planned_output
from desktop_app.widgets.upscale_options import UpscaleOptions
from desktop_app.workers import JobRunner
from engine.errors import MfaganError
from engine.imageio import SUPPORTED_SUFFIXES

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES) + ")"


def _key(item_key: str, planned: Path) -> str:
    return f"{item_key}|{planned}"


class ResultSaver(QObject):
    status = Signal(str)
    saved = Signal(object)  # Path

    def __init__(
        self, options: UpscaleOptions, runner: JobRunner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.options, self.runner = options, runner
        self.last_saved: Path | None = None

    def save(self, item: QueueItem) -> None:
        outcome = item.result
        if outcome is None:
            return
        try:
            planned = planned_output(outcome, self.options.value)
        except MfaganError as error:
            self.status.emit(str(error))
            return
        done = item.saved.get(_key(outcome.key, planned))
        if done is not None and done.exists():
            self.status.emit(f"already saved: {done}")
            return
        self._write(item, jobs.free_path(planned, avoid=outcome.source), planned)

    def save_as(self, parent: QWidget, item: QueueItem) -> None:
        outcome = item.result
        if outcome is None:
            return
        suggested = planned_output(outcome, self.options.value)
        chosen, _ = QFileDialog.getSaveFileName(
            parent, "Save result as", str(suggested), IMAGE_FILTER
        )
        if chosen:
            path = Path(chosen)
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                path = path.with_suffix(suggested.suffix)
            self._write(item, path, path)

    def _write(self, item: QueueItem, path: Path, planned: Path) -> None:
        outcome = item.result
        assert outcome is not None
        # The file name's suffix says the format (the pattern gave it, or the user typed it).
        write = dataclasses.replace(self.options.write_options(), format=None)
        request = jobs.SaveRequest(
            staged=outcome.staged, source=outcome.source, output=path, write=write
        )
        item.saved[_key(outcome.key, planned)] = path
        self.runner.start(
            lambda cancel: jobs.save_job(request, cancel),
            name="save",
            on_finished=self._done,
            on_failed=self._failed,
        )

    def _done(self, path: Path) -> None:
        self.last_saved = path
        self.status.emit(f"saved {path}")
        self.saved.emit(path)

    def _failed(self, reason: str) -> None:
        self.status.emit(f"not saved: {reason}")

    def open_folder(self) -> None:
        if self.last_saved is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_saved.parent)))


def unsaved_count(items: list[QueueItem]) -> int:
    """Results not saved anywhere yet (asked about when the window closes)."""
    return sum(
        1
        for item in items
        for key in item.results
        if not any(k.startswith(f"{key}|") and path.exists() for k, path in item.saved.items())
    )
