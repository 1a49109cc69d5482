"""The Upscale page's queue as a model: the images, their state and results, the running job.

No widgets here: the page observes the signals. Images are upscaled one at a time with the
settings of the moment each starts; previews decode on their own single thread, so a dropped
folder never takes the cores from the upscale that is running.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from desktop_app import jobs
from desktop_app.jobs import UpscaleOutcome, UpscaleRequest, UpscalerPool
from desktop_app.upscale.queue_list import QueueItem
from desktop_app.upscale.saving import pasted_dir
from desktop_app.widgets.eta import Eta, ProgressLine, queue_left, queue_words, time_left
from desktop_app.widgets.upscale_options import UpscaleOptions
from desktop_app.wording import first_upper, tile_choice_words
from desktop_app.workers import Job, JobRunner
from engine.events import Notice, Progress, TileChoice
from engine.imageio import SUPPORTED_SUFFIXES
from engine.inference.batch_scan import results_line
from engine.paths import cache_dir

STAGE_TEXT = {"load model": "Loading the model", "finishing": "Keeping the result"}
# Until it has finished, an image is never "100%" done: rounding must not say so.
MAX_WORKING_PERCENT = 99


def stage_text(stage: str) -> str:
    return STAGE_TEXT.get(stage, first_upper(stage))


def notice_in_words(notice: Notice) -> str:
    """The tile size ``auto`` picked said plainly, without the memory budget (jobs.py words
    it already, and only where a photo takes several tiles); others as the engine says them."""
    if isinstance(notice, TileChoice):
        return tile_choice_words(notice.tile)
    return notice.message


class WorkQueue(QObject):
    added = Signal(object, bool)  # QueueItem, first of what was added together
    chosen = Signal(object)  # Path: what the user just opened, pasted or dropped (to show)
    changed = Signal(object, object)  # QueueItem, new thumbnail (QImage) or None
    started = Signal(object)  # QueueItem
    progress = Signal(object)  # ProgressLine
    stopped = Signal(str, bool)  # how the job ended, in a line; whether it completed
    resultReady = Signal(object)  # UpscaleOutcome
    idle = Signal()  # nothing left to do
    status = Signal(str)

    def __init__(
        self,
        options: UpscaleOptions,
        runner: JobRunner,
        pool: UpscalerPool,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.options, self.runner, self.pool = options, runner, pool
        self.items: dict[Path, QueueItem] = {}
        self.pending: list[Path] = []
        self.job: Job | None = None
        self.working: Path | None = None
        self._speed_key = ""
        self._spec = ""  # the model spec of the running upscale
        self._eta = Eta()
        self._progress_stage = ""
        self._stage = tempfile.TemporaryDirectory(prefix="studio-results-", dir=cache_dir())
        preview_pool = QThreadPool(self)
        preview_pool.setMaxThreadCount(1)
        self.previews = JobRunner(preview_pool, self)

    # ---- adding ------------------------------------------------------------------------

    def add_paths(self, paths: list[Path]) -> None:
        """Files or folders (their images); expanded in a worker, then queued."""
        self.runner.start(
            lambda cancel: jobs.expand_job(paths, cancel),
            name="expand",
            on_finished=self._expanded,
            on_failed=self.status.emit,
        )

    def _expanded(self, expanded: jobs.Expanded) -> None:
        self.add_files(expanded.files, results_left_out=expanded.results_left_out)

    def paste_image(self, image: QImage) -> None:
        copy, folder = image.copy(), pasted_dir()
        self.runner.start(
            lambda cancel: jobs.paste_job(copy, folder, cancel),
            name="paste",
            on_finished=self._add_pasted,
            on_failed=self.status.emit,
        )

    def _add_pasted(self, path: Path) -> None:
        self.add_files([path])

    def add_files(self, files: list[Path], *, results_left_out: int = 0) -> None:
        """``results_left_out``: the app's own earlier results a folder held, said so (they
        would be upscaled again, 4x larger each time)."""
        if results_left_out:
            left = results_line(results_left_out)
            self.status.emit(left if files else f"no new images found there: {left}")
        elif not files:
            self.status.emit(
                "no images found there (supported: " + ", ".join(SUPPORTED_SUFFIXES) + ")"
            )
        new = [f for f in files if f not in self.items]
        for index, path in enumerate(new):
            item = QueueItem(source=path)
            self.items[path] = item
            self.added.emit(item, index == 0)
            self.previews.start(
                lambda cancel, p=path: jobs.preview_job(p, cancel),
                name="preview",
                on_finished=self._preview_ready,
                on_failed=self.status.emit,
            )
        if files:
            # Also when the file was in the queue already: opening it again means "this one".
            self.chosen.emit(files[0])
        if new and self.options.value.auto_start:
            self.enqueue(new)

    def _preview_ready(self, preview: jobs.Preview) -> None:
        item = self.items.get(preview.path)
        if item is None:
            return
        if preview.error:
            item.state, item.message = "failed", preview.error
            item.unreadable = True
            if item.source in self.pending:
                self.pending.remove(item.source)
            self.status.emit(f"{item.source.name}: {preview.error}")
            self.changed.emit(item, None)
            return
        assert preview.image is not None
        item.preview = preview.image
        item.input_size = (preview.image.width(), preview.image.height())
        if item.state == "loading":
            item.state = "queued"
        self.changed.emit(item, preview.thumbnail)

    def remove(self, paths: list[Path]) -> list[Path]:
        """Forget these images (not the one being upscaled); returns those removed."""
        removed = [p for p in paths if p != self.working and p in self.items]
        for path in removed:
            del self.items[path]
            if path in self.pending:
                self.pending.remove(path)
        return removed

    # ---- running -----------------------------------------------------------------------

    def enqueue(self, paths: list[Path]) -> None:
        for path in paths:
            item = self.items.get(path)
            if item is None or not item.can_upscale:
                continue
            if path in self.pending or path == self.working:
                continue
            self.pending.append(path)
            if item.state != "loading":
                item.state = "queued"
                self.changed.emit(item, None)
        self._next()

    def _next(self) -> None:
        if self.job is not None:
            return
        if not self.pending:
            self.idle.emit()
            return
        path = self.pending.pop(0)
        item = self.items[path]
        request = UpscaleRequest(
            source=path,
            model=self.options.model_choice(),
            target=self.options.target(),
            stage_dir=Path(self._stage.name),
        )
        item.state, item.message = "working", "starting…"
        self.working, self._progress_stage = path, ""
        self._speed_key = self.options.current_speed_key()
        self._spec = request.model.spec
        self.changed.emit(item, None)
        self.started.emit(item)
        self.job = self.runner.start(
            lambda cancel: jobs.upscale_job(request, self.pool, cancel),
            name="upscale",
            on_event=self._on_event,
            on_finished=self._on_finished,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
            on_ended=self._on_ended,
        )

    def cancel(self) -> None:
        """Stop the image being upscaled and everything still waiting."""
        for path in self.pending:
            item = self.items[path]
            item.state = "cancelled"
            self.changed.emit(item, None)
        self.pending.clear()
        if self.job is not None:
            self.job.cancel()

    def _working_item(self) -> QueueItem | None:
        return self.items.get(self.working) if self.working else None

    def _on_event(self, event: object) -> None:
        if isinstance(event, Progress):
            self._on_progress(event)
        elif isinstance(event, Notice):
            self.status.emit(notice_in_words(event))

    def _on_progress(self, event: Progress) -> None:
        if event.stage != self._progress_stage:
            self._progress_stage = event.stage
            self._eta.start()
        item = self._working_item()
        text = stage_text(event.stage)
        if not event.stage.startswith("upscale"):
            # Loading a model or writing the result: no count to show, only that it works.
            line = ProgressLine(text=text)
            message = text.lower() + "…"
        else:
            # Inside a long tile the engine estimates how far it is and how long is left,
            # from this computer's measured speed (TileProgress); otherwise count tiles.
            fraction = getattr(event, "fraction", None)
            if fraction is None:
                fraction = event.done / max(event.total, 1)
            left = getattr(event, "seconds_left", None)
            if left is None:
                left = time_left(fraction, self._eta, self._expected_seconds(item))
            percent = min(int(100 * fraction), MAX_WORKING_PERCENT)
            tile = min(event.done + 1, event.total)
            text += f": tile {tile} of {event.total}"
            if event.total == 1 and not hasattr(event, "fraction"):
                # One tile and no estimate inside it (yet): working, not "0%".
                line = ProgressLine(text=text, seconds_left=left)
                message = "upscaling…"
            else:
                text += f" · {percent}%"
                line = ProgressLine(text=text, fraction=fraction, seconds_left=left)
                message = f"{percent}%"
            # The strip's own count-down is this photo's; with photos waiting, the line
            # adds the whole queue's where each waiting photo's time can be estimated.
            if self.pending and left is not None:
                rest = queue_left(left, self._waiting_seconds(item, fraction, left))
                line = dataclasses.replace(
                    line, text=line.text + queue_words(rest, len(self.pending) + 1)
                )
        self.progress.emit(line)
        # An image found unreadable by its preview meanwhile keeps that reason on show.
        if item is not None and item.state == "working":
            item.message = message
            self.changed.emit(item, None)

    def _waiting_seconds(
        self, working: QueueItem | None, fraction: float, left: float
    ) -> list[float | None]:
        """Each waiting photo's expected time: from this computer's measured speed of the
        current settings, else from the pace of the photo being upscaled now."""
        pace = None  # seconds per input pixel of the running photo
        if working is not None and working.input_size and fraction > 0:
            pixels = working.input_size[0] * working.input_size[1]
            pace = (self._eta.elapsed + left) / pixels
        key = self.options.current_speed_key()  # the next ones start with today's settings
        seconds: list[float | None] = []
        for path in self.pending:
            size = self.items[path].input_size
            pixels = size[0] * size[1] if size else None
            expected = self.options.speeds.expected(key, pixels)
            if expected is None and pace is not None and pixels:
                expected = pace * pixels
            seconds.append(expected)
        return seconds

    def _expected_seconds(self, item: QueueItem | None) -> float | None:
        size = item.input_size if item is not None else None
        pixels = size[0] * size[1] if size else None
        return self.options.speeds.expected(self._speed_key, pixels)

    def _on_finished(self, outcome: UpscaleOutcome) -> None:
        # The item is free for another run now, even before the job's thread has wound down.
        self.working = None
        item = self.items.get(outcome.source)
        if item is None:
            return
        item.results[outcome.key] = outcome
        item.specs[outcome.key] = self._spec
        item.current = outcome.key
        item.state = "done"
        width, height = outcome.details["input_size"]
        self.options.speeds.record(self._speed_key, width * height, outcome.details["seconds"])
        self.stopped.emit(
            f"{outcome.source.name}: done in {outcome.details['seconds']:.1f} s", True
        )
        self.changed.emit(item, None)
        self.resultReady.emit(outcome)

    def _on_failed(self, reason: str) -> None:
        item = self._working_item()
        if item is not None:
            item.state, item.message = "failed", reason.removeprefix(f"{item.source}: ")
            self.changed.emit(item, None)
        self.stopped.emit(f"Failed: {reason}", False)
        self.status.emit(reason)

    def _on_cancelled(self, _message: str) -> None:
        item = self._working_item()
        if item is not None:
            item.state = "done" if item.results else "cancelled"
            self.changed.emit(item, None)
        self.stopped.emit("Stopped; nothing was written.", False)

    def _on_ended(self) -> None:
        self.job = None
        self.working = None
        self._next()

    def shutdown(self) -> None:
        self.cancel()
        self.previews.cancel_all()
        self.previews.wait(5000)
        self._stage.cleanup()
