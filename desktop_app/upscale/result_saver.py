"""Save, Save as and Save all: staged results written in their final format, never over
an original.

Save uses the output folder and name pattern; when that file exists it adds "-2", "-3"...
(nothing is ever overwritten, not even a file that appears while it writes), and saving the
same result to the same place twice does not make copies. Save all does the same for every
result, where the Folder setting puts it (a result saved elsewhere is saved there too). Save
as asks for a path and answers in its own dialogs: an original is refused there, and
replacing another file is confirmed there (Qt's own "replace it?" would come before our
refusal). A result counts as saved once its file is written, not when the save starts. A
failed save is kept on its item and said on the page until the next save of it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop_app import jobs
from desktop_app.jobs import UpscaleOutcome
from desktop_app.upscale.queue_list import QueueItem
from desktop_app.upscale.saving import planned_output
from desktop_app.widgets.desktop_open import open_on_desktop
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.widgets.upscale_options import UpscaleOptions
from desktop_app.wording import count, in_gui_words
from desktop_app.workers import JobRunner
from engine.errors import MfaganError
from engine.imageio import SUPPORTED_SUFFIXES
from engine.inference.outputs import InputFiles, output_problem

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES) + ")"
Answer = QMessageBox.StandardButton
Existing = Literal["rename", "replace"]
# One result to write: its item, the key it is recorded under once written, the request.
_Entry = tuple[QueueItem, str, jobs.SaveRequest]


def _key(outcome: UpscaleOutcome, planned: Path) -> str:
    # The staged file names this very result: one made again with the same model and size
    # (after a backend change, say) is a new result, not saved yet.
    return f"{outcome.staged}|{planned}"


def is_saved(item: QueueItem, outcome: UpscaleOutcome) -> bool:
    prefix = f"{outcome.staged}|"
    return any(k.startswith(prefix) and path.exists() for k, path in item.saved.items())


def refusal(path: Path, originals: list[Path]) -> str:
    """Why Save as must not write ``path`` ("" when it may), said for a message box."""
    original = InputFiles(originals).find(path)
    if original is not None:
        what = "the original photo" if original == originals[0] else "the original of another image"
        return (
            f"“{path.name}” is {what}: MFAGAN Studio never saves over an original.\n\n"
            "Choose another name or folder."
        )
    problem = output_problem(path, inputs=originals, overwrite=True)
    return f"Cannot save to {path}: {in_gui_words(problem)}." if problem else ""


def failure_line(request: jobs.SaveRequest, reason: str) -> str:
    """One line naming the file that was not written and why."""
    return in_gui_words(f"could not save {request.output.name}: {reason}")


class ResultSaver(QObject):
    status = Signal(str)
    saved = Signal(object)  # Path
    # Why the last save failed, in one line, kept on the page until the next save ("" then).
    problem = Signal(str)
    itemsChanged = Signal(object)  # list[QueueItem] whose save_error was set or cleared

    def __init__(
        self, options: UpscaleOptions, runner: JobRunner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.options, self.runner = options, runner
        self.folders = DialogFolders(options.store)
        self.last_saved: Path | None = None
        # Saves under way: each request, with the item and key it is recorded under once
        # written. Keys being saved are not saved again meanwhile.
        self._pending: dict[jobs.SaveRequest, tuple[QueueItem, str]] = {}

    def _save_plan(self, item: QueueItem, outcome: UpscaleOutcome) -> _Entry | Path | None:
        """What Save does with this result: the file it is already saved in (while that file
        is there), else the entry that writes it where the output settings put it; None,
        said on the status bar, when those settings give no place."""
        try:
            planned = planned_output(outcome, self.options.value)
        except MfaganError as error:
            self._refused(in_gui_words(str(error)))
            return None
        done = item.saved.get(_key(outcome, planned))
        if done is not None and done.exists():
            return done
        return self._entry(item, outcome, planned)

    def save(self, item: QueueItem) -> None:
        outcome = item.result
        plan = None if outcome is None else self._save_plan(item, outcome)
        if isinstance(plan, Path):
            # Named: after a change of model, "already saved" alone read as if the new
            # model's result had been saved.
            self.status.emit(f"the result of {outcome.key} is already saved: {plan}")
        elif plan is not None:
            self._start([plan])

    def save_many(self, items: list[QueueItem]) -> None:
        """Save with several images selected: each one's result on show, where Save puts it
        (the output folder or next to its original), in one job."""
        batch = []
        already = 0
        for item in items:
            outcome = item.result
            if outcome is None or self._saving(item, outcome):
                continue
            plan = self._save_plan(item, outcome)
            if plan is None:
                return
            if isinstance(plan, Path):
                already += 1
            else:
                batch.append(plan)
        if not batch:
            self.status.emit(
                "the selected results are saved already" if already else "nothing to save"
            )
            return
        self.status.emit(f"saving {count(len(batch), 'selected result')}…")
        self._start(batch)

    def save_all(self, items: list[QueueItem]) -> None:
        """Every result, where Save puts it: the Folder setting says where (next to each
        original, or the folder chosen there), so nothing is asked; no file is replaced, a
        result saved there already is not copied again."""
        todo = [(i, o) for i in items for o in i.results.values() if not self._saving(i, o)]
        if not todo:
            self.status.emit("nothing to save yet" if not self._pending else "saving already…")
            return
        batch = []
        there = 0
        for item, outcome in todo:
            plan = self._save_plan(item, outcome)
            if plan is None:
                return
            if isinstance(plan, Path):
                there += 1
            else:
                batch.append(plan)
        where = self._where()
        if not batch:
            self.status.emit(f"every result is saved {where} already")
            return
        line = f"saving {count(len(batch), 'result')} {where}…"
        if there:
            line += f" ({there} saved there already, not saved again)"
        self.status.emit(line)
        self._start(batch)

    def _where(self) -> str:
        """Where Save all puts results, in words: "in <folder>" or "next to their originals"."""
        if self.options.value.output_dir:
            return f"in {self.options.value.output_dir}"
        return "next to their originals"

    def save_as(self, parent: QWidget, item: QueueItem, originals: list[Path]) -> None:
        """Ask for a path until it is one we may write (or the user gives up); ``originals``:
        the queue's photos, none of which is ever written over."""
        outcome = item.result
        if outcome is None:
            return
        suggested = planned_output(outcome, self.options.value)
        folder = self.folders.remembered("save as") or suggested.parent
        path = folder / suggested.name
        originals = [outcome.source, *originals]
        while True:
            chosen, _ = QFileDialog.getSaveFileName(
                parent,
                "Save result as",
                str(path),
                IMAGE_FILTER,
                options=QFileDialog.Option.DontConfirmOverwrite,
            )
            if not chosen:
                return
            path = Path(chosen)
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                path = path.with_suffix(suggested.suffix)
            refused = refusal(path, originals)
            if refused:
                QMessageBox.warning(parent, "Not saved over the original", refused)
                continue
            existing: Existing = "rename"
            if path.exists():
                answer = QMessageBox.question(
                    parent,
                    "Replace the file?",
                    f"“{path.name}” already exists in {path.parent}.\n\nReplace it?",
                )
                if answer != Answer.Yes:
                    continue
                existing = "replace"
            break
        self.folders.remember("save as", path.parent)
        self._start([self._entry(item, outcome, path, existing=existing)])

    def _saving(self, item: QueueItem, outcome: UpscaleOutcome) -> bool:
        prefix = f"{outcome.staged}|"
        return any(i is item and k.startswith(prefix) for i, k in self._pending.values())

    def _entry(
        self, item: QueueItem, outcome: UpscaleOutcome, path: Path, *, existing: Existing = "rename"
    ) -> _Entry:
        # The file name's suffix says the format (the pattern gave it, or the user typed it).
        write = dataclasses.replace(self.options.write_options(), format=None)
        request = jobs.SaveRequest(
            staged=outcome.staged,
            source=outcome.source,
            output=path,
            write=write,
            existing=existing,
        )
        return item, _key(outcome, path), request

    def _start(self, batch: list[_Entry]) -> None:
        for _item, key, request in batch:
            if any(k == key for _, k in self._pending.values()):
                self.status.emit(f"already being saved: {request.output.name}")
                return
        for item, key, request in batch:
            self._pending[request] = (item, key)
            item.save_error = ""  # a new attempt: the last one's failure no longer holds
        self.problem.emit("")
        self.itemsChanged.emit([item for item, _, _ in batch])
        requests = tuple(request for _, _, request in batch)
        self.runner.start(
            lambda cancel: jobs.save_results_job(requests, cancel),
            name="save",
            on_finished=self._done,
            on_failed=self._failed,
        )

    def _done(self, outcomes: tuple[jobs.SaveOutcome, ...]) -> None:
        written = []
        touched = []
        for outcome in outcomes:
            item, key = self._pending.pop(outcome.request, (None, ""))
            if item is not None:
                touched.append(item)
            if outcome.path is not None:
                written.append(outcome.path)
                if item is not None:
                    item.saved[key] = outcome.path
            elif item is not None:
                item.save_error = failure_line(outcome.request, outcome.reason)
        failed = [o for o in outcomes if o.path is None]
        if written:
            self.last_saved = written[-1]
        if len(outcomes) == 1:
            text = f"saved {written[0]}" if written else f"not saved: {failed[0].reason}"
        else:
            folders = {o.request.output.parent for o in outcomes}
            where = f"in {folders.pop()}" if len(folders) == 1 else "next to their originals"
            text = f"saved {count(len(written), 'result')} {where}"
            if failed:
                text += f"; {len(failed)} not saved ({failed[0].reason})"
        self.status.emit(in_gui_words(text))
        if failed:
            line = failure_line(failed[0].request, failed[0].reason)
            if len(outcomes) > 1:
                line = f"{len(failed)} of {len(outcomes)} results not saved; {line}"
            self.problem.emit(line)
        self.itemsChanged.emit(touched)
        for path in written:
            self.saved.emit(path)

    def _failed(self, reason: str) -> None:
        # A bug, logged; nothing of what was under way is recorded.
        items = [item for item, _ in self._pending.values()]
        line = f"not saved: {reason}"
        for item in items:
            item.save_error = line
        self._pending.clear()
        self.status.emit(line)
        self.problem.emit(line)
        self.itemsChanged.emit(items)

    def _refused(self, line: str) -> None:
        """The settings give no place to save: said on the page, not only the status bar."""
        self.status.emit(line)
        self.problem.emit(f"not saved: {line}")

    def open_folder(self) -> None:
        if self.last_saved is None:
            return
        folder = self.last_saved.parent
        # As Batch does: where no file manager opens it, the page gives the path to copy.
        if problem := open_on_desktop(
            folder, "no file manager on this computer opens the folder: {path}"
        ):
            self.problem.emit(problem)


def unsaved_count(items: list[QueueItem]) -> int:
    """Results not saved anywhere yet (asked about when the window closes)."""
    return sum(1 for item in items for o in item.results.values() if not is_saved(item, o))
